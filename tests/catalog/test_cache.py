"""The catalog: model info and schemas are read once and shared by concurrent callers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx2
import pytest
from starlette.applications import Starlette

from workers_ai_mcp.catalog.cache import Catalog
from workers_ai_mcp.catalog.deprecations import CatalogWatch
from workers_ai_mcp.client import WorkersAIClient, create_http_client
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings

M2M = "@cf/meta/m2m100-1.2b"


@pytest.fixture
async def catalog(settings: Settings, emulator_app: Starlette) -> AsyncIterator[Catalog]:
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        yield Catalog(settings, WorkersAIClient(settings, http))


def searches(state: EmulatorState) -> int:
    return sum(1 for r in state.requests if r.path.endswith("/models/search"))


async def test_concurrent_first_look_ups_of_one_model_send_one_catalog_request(
    catalog: Catalog, emulator_state: EmulatorState
) -> None:
    infos: list[object] = []

    async def look_up() -> None:
        infos.append(await catalog.model_info(M2M))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for _ in range(16):
                group.start_soon(look_up)
    assert len(infos) == 16 and all(info == infos[0] for info in infos) and infos[0] is not None
    assert searches(emulator_state) == 1


async def test_a_schema_is_read_once_and_then_served_from_the_cache(
    catalog: Catalog, emulator_state: EmulatorState
) -> None:
    first = await catalog.model_schema("@cf/baai/bge-base-en-v1.5")
    second = await catalog.model_schema("@cf/baai/bge-base-en-v1.5")
    assert first is second and "input" in first
    assert sum(1 for r in emulator_state.requests if r.path.endswith("/models/schema")) == 1


async def test_with_a_watch_the_first_look_up_reads_the_whole_catalog_and_later_ones_read_nothing(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        catalog = Catalog(settings, WorkersAIClient(settings, http), watch=CatalogWatch(settings))
        translation = await catalog.model_info(M2M)
        reads = searches(emulator_state)
        embedding = await catalog.model_info("@cf/baai/bge-base-en-v1.5")
    assert translation is not None and translation.task == "Translation"
    assert embedding is not None and embedding.task == "Text Embeddings"
    assert reads >= 1 and searches(emulator_state) == reads
