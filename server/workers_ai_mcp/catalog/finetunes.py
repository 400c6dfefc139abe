"""LoRA adapters as this process knows them: the account's and the public fine-tunes, cached.

`adapters(client, settings)` lists both (for `list_finetunes`); `adapter_base_model(client, settings,
adapter)` is the one look-up a tool that passes `lora` makes to check that an adapter (named by id or
by name) was trained for the model it is about to call: None when no listed adapter has that id or name.
Cached per client for `schema_cache_ttl` seconds (adapters change about as often as the catalog);
concurrent first look-ups share one pair of requests.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

import anyio

from ..client import WorkersAIClient
from ..client.errors import NotFoundError, PermissionDeniedError
from ..client.finetunes import account_finetunes, public_finetunes
from ..settings import Settings


@dataclass(frozen=True)
class Adapter:
    """One fine-tune: its id, name, the base model it adapts, and whether Cloudflare publishes it."""

    id: str
    name: str
    base_model: str
    public: bool
    description: str | None = None


@dataclass
class _Cached:
    expires: float
    adapters: list[Adapter]


_CACHE: weakref.WeakKeyDictionary[WorkersAIClient, _Cached] = weakref.WeakKeyDictionary()
_LOCKS: weakref.WeakKeyDictionary[WorkersAIClient, anyio.Lock] = weakref.WeakKeyDictionary()


async def adapters(client: WorkersAIClient, settings: Settings) -> list[Adapter]:
    """The account's adapters, then the public ones (an account without fine-tunes lists only those)."""
    cached = _CACHE.get(client)
    if cached is not None and cached.expires > time.monotonic():
        return cached.adapters
    lock = _LOCKS.setdefault(client, anyio.Lock())
    async with lock:
        cached = _CACHE.get(client)
        if cached is not None and cached.expires > time.monotonic():
            return cached.adapters
        try:
            own = [_adapter(item, public=False) for item in await account_finetunes(client)]
        except (NotFoundError, PermissionDeniedError):
            own = []  # no fine-tunes on the account, or a token that may not list them: the public ones remain
        public = [_adapter(item, public=True) for item in await public_finetunes(client)]
        found = [a for a in own + public if a.id or a.name]
        _CACHE[client] = _Cached(time.monotonic() + settings.schema_cache_ttl, found)
        return found


async def adapter_base_model(client: WorkersAIClient, settings: Settings, adapter: str) -> str | None:
    """The base model `adapter` (an id or a name) was trained for, or None when no listed adapter matches."""
    wanted = adapter.strip()
    for item in await adapters(client, settings):
        if wanted in (item.id, item.name):
            return item.base_model
    return None


def _adapter(item: dict[str, Any], *, public: bool) -> Adapter:
    description = item.get("description")
    return Adapter(
        id=str(item.get("id", "")),
        name=str(item.get("name", "")),
        base_model=str(item.get("model", "")),
        public=bool(item.get("public", public)),
        description=str(description) if description else None,
    )
