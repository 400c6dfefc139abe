"""`Catalog`: the Workers AI catalog as this process knows it: cached model info and schemas.

The first catalog read (a search, or the first info look-up) reads the whole catalog once
through the deprecation watch, which warns about default models Cloudflare deprecated and fills
the info cache, so prices of any model are known without one request per model. Concurrent
first look-ups of one model share a single request.
"""

from __future__ import annotations

import time
from typing import Any

import anyio

from ..client import ModelPage, WorkersAIClient
from ..jsonvalues import as_dict
from ..settings import Settings
from .deprecations import CatalogWatch, DeprecationNotice
from .models import ModelInfo


class Catalog:
    """Model info and schemas, cached for `schema_cache_ttl` seconds."""

    def __init__(self, settings: Settings, client: WorkersAIClient, *, watch: CatalogWatch | None = None) -> None:
        self.settings = settings
        self.client = client
        self.watch = watch
        self._schemas: dict[str, tuple[float, dict[str, Any]]] = {}
        self._infos: dict[str, tuple[float, ModelInfo | None]] = {}
        self._locks: dict[str, anyio.Lock] = {}

    @property
    def deprecations(self) -> list[DeprecationNotice]:
        """Notices for configured default models, once the catalog has been read."""
        return list(self.watch.notices) if self.watch is not None else []

    async def search(
        self,
        *,
        search: str | None = None,
        task: str | None = None,
        author: str | None = None,
        include_deprecated: bool | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> ModelPage:
        """One page of `models/search`; the first search also reads the whole catalog once."""
        found = await self.client.search_models(
            search=search, task=task, author=author, include_deprecated=include_deprecated, page=page, per_page=per_page
        )
        async with self._lock(""):
            await self._sweep()
        return found

    async def model_schema(self, model: str) -> dict[str, Any]:
        """`{input, output}` JSON Schemas of `model` (an id `WorkersAI` checked)."""
        cached = self._schemas.get(model)
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        schema = as_dict(await self.client.model_schema(model))
        self._schemas[model] = (now + self.settings.schema_cache_ttl, schema)
        return schema

    async def input_schema(self, model: str) -> dict[str, Any]:
        """The input JSON Schema of `model`."""
        return as_dict((await self.model_schema(model)).get("input"))

    async def model_info(self, model: str) -> ModelInfo | None:
        """What the catalog says about `model` (an id `WorkersAI` checked), or None when it does not list it."""
        cached = self._cached_info(model)
        if cached is not None:
            return cached[0]
        async with self._lock(model):
            cached = self._cached_info(model)
            if cached is not None:
                return cached[0]
            if self.watch is not None and self.watch.pending:
                async with self._lock(""):
                    await self._sweep()
                cached = self._cached_info(model)
                if cached is not None:
                    return cached[0]
            page = await self.client.search_models(
                search=model.rsplit("/", 1)[-1], per_page=50, include_deprecated=True
            )
            row = next((m for m in page.models if m.get("name") == model), None)
            info = ModelInfo.from_row(row) if row is not None else None
            self._infos[model] = (time.monotonic() + self.settings.schema_cache_ttl, info)
            return info

    def _cached_info(self, model: str) -> tuple[ModelInfo | None] | None:
        cached = self._infos.get(model)
        return (cached[1],) if cached and cached[0] > time.monotonic() else None

    def _lock(self, key: str) -> anyio.Lock:
        return self._locks.setdefault(key, anyio.Lock())

    async def _sweep(self) -> None:
        watch = self.watch
        if watch is None or not watch.pending:
            return
        infos = await watch.sweep(self.client.search_models)
        expiry = time.monotonic() + self.settings.schema_cache_ttl
        for info in infos:
            if info.name:
                self._infos[info.name] = (expiry, info)
