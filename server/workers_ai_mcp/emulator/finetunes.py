"""`GET .../ai/finetunes` and `.../ai/finetunes/public`: LoRA adapters, in the shape of Cloudflare's API
(cloudflare-typescript `src/resources/ai/finetunes/`: `{id, name, model, description, created_at,
modified_at[, public]}`), and the check that a request's `lora` names one trained for its model.

The account has no adapters of its own here; one public adapter is built in (an emulator sample: its
id and description are made up, its base model is a real LoRA base of the catalog).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .envelope import JsonObj, bad_input, ok

PUBLIC: tuple[JsonObj, ...] = (
    {
        "id": "00000000-0000-4000-8000-00000000e001",
        "name": "cf-public-emulator-summaries",
        "model": "@cf/mistral/mistral-7b-instruct-v0.2-lora",
        "description": "An emulator sample adapter: answers as its base model does.",
        "created_at": "2026-01-01T00:00:00Z",
        "modified_at": "2026-01-01T00:00:00Z",
        "public": True,
    },
)


async def account_finetunes(request: Request) -> Response:
    return ok([])


async def public_finetunes(request: Request) -> Response:
    return ok(list(PUBLIC))


def check_lora(model: str, payload: JsonObj) -> None:
    """400/5006 for a `lora` that names no adapter, or one trained for another model."""
    lora = payload.get("lora")
    if lora is None:
        return
    found = next((a for a in PUBLIC if lora in (a["id"], a["name"])), None)
    if found is None:
        raise bad_input(f"LoRA '{lora}' not found at '/lora'")
    if found["model"] != model:
        raise bad_input(f"LoRA '{lora}' was trained for {found['model']}, not {model} at '/lora'")
