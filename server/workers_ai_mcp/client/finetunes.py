"""LoRA adapters: `GET ai/finetunes` (the account's) and `GET ai/finetunes/public` (Cloudflare's).

Shapes: cloudflare/cloudflare-typescript `src/resources/ai/finetunes/finetunes.ts` and `public.ts`
(recorded in tests/recorded/finetunes/): each item is `{id, name, model, description?, public?,
created_at, modified_at}`, `model` being the base model the adapter was trained for.
"""

from __future__ import annotations

from typing import Any

from ..jsonvalues import as_dict, dicts
from .client import WorkersAIClient
from .results import JsonResult


async def account_finetunes(client: WorkersAIClient) -> list[dict[str, Any]]:
    result = await client.account_call("GET", "ai/finetunes")
    return _items(result)


async def public_finetunes(client: WorkersAIClient, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    params = {"limit": str(limit), "offset": str(offset)}
    result = await client.account_call("GET", "ai/finetunes/public", params=params)
    return _items(result)


def _items(result: object) -> list[dict[str, Any]]:
    if not isinstance(result, JsonResult):
        return []
    data: object = result.data
    # Listed as one object in the SDK's types for the account's list, a list in practice: both are read.
    single = as_dict(data)
    return [single] if single else dicts(data)
