"""`lora` on `chat` and `complete`: the adapter is looked up before anything is sent, and its base model
must be the model asked for (Cloudflare runs an adapter only on the model it was trained for).

The adapters are the account's and Cloudflare's public ones, as the catalog layer lists and caches them
(`catalog/finetunes.py`, which `list_finetunes` shows); `lora` may be either the id or the name.
"""

from __future__ import annotations

from ...catalog.finetunes import adapter_base_model
from ...catalog.models import ModelInfo
from ...client.errors import InvalidRequestError
from ...state import AppState


async def check_lora(state: AppState, model: str, lora: str, info: ModelInfo | None) -> None:
    """Refuse (with a sentence) an adapter that does not exist or was trained for another model."""
    if info is not None and "lora" not in info.flags:
        raise InvalidRequestError(
            f"{model} takes no LoRA adapters; pass the adapter's base model (list_models: lora) or leave lora out."
        )
    base = await adapter_base_model(state.ai.client, state.settings, lora)
    if base is None:
        raise InvalidRequestError(
            f"No LoRA adapter named {lora} in this account or among Cloudflare's public ones; "
            "give an adapter's id or name (list_finetunes lists them)."
        )
    if base != model:
        raise InvalidRequestError(f"The LoRA adapter {lora} was trained for {base}, not {model}; pass model={base}.")
