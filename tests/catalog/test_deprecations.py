"""Default models past or near their deprecation date: nothing fetched at start, a warning on first catalog read."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from support.emulated import DEPRECATED, LLAMA_33, catalog_reads
from support.results import data_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.catalog.deprecations import CatalogWatch, DeprecationNotice, default_models, find_notices
from workers_ai_mcp.catalog.models import ModelInfo
from workers_ai_mcp.client import APIConnectionError, ModelPage, WorkersAIClient, create_http_client
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.inference import WorkersAI
from workers_ai_mcp.settings import Settings

TODAY = date(2026, 6, 1)


def model(name: str, task: str = "Text Generation", *, created: str = "2024-01-01", **props: str) -> dict[str, Any]:
    properties = [{"property_id": key, "value": value} for key, value in props.items()]
    return {"name": name, "task": {"name": task}, "created_at": created, "properties": properties}


CATALOG = [
    model("@cf/meta/old-chat", planned_deprecation_date="2026-05-01"),
    model("@cf/meta/soon-chat", planned_deprecation_date="2026-06-20"),
    model("@cf/meta/later-chat", planned_deprecation_date="2026-08-01"),
    model("@cf/meta/new-chat", created="2025-06-01"),
    model("@cf/other/newest-chat", created="2026-01-01"),
    model("@cf/meta/beta-chat", created="2026-02-01", beta="true"),
    model("@cf/baai/old-embed", "Text Embeddings", planned_deprecation_date="2026-01-01"),
]
INFOS = [ModelInfo.from_row(row) for row in CATALOG]


@pytest.mark.parametrize(
    ("chat_model", "expected"),
    [
        ("@cf/meta/old-chat", DeprecationNotice("WORKERS_AI_MCP_CHAT_MODEL", "@cf/meta/old-chat", "Text Generation",
                                                "2026-05-01", True, "@cf/meta/new-chat")),
        ("@cf/meta/soon-chat", DeprecationNotice("WORKERS_AI_MCP_CHAT_MODEL", "@cf/meta/soon-chat", "Text Generation",
                                                 "2026-06-20", False, "@cf/meta/new-chat")),
        ("@cf/meta/later-chat", None),  # more than 30 days away
        ("@cf/meta/new-chat", None),
    ],
)  # fmt: skip
def test_defaults_past_or_within_30_days_of_deprecation_get_a_same_task_replacement(
    tmp_path: Path, chat_model: str, expected: DeprecationNotice | None
) -> None:
    settings = make_settings(tmp_path, chat_model=chat_model)
    notices = [n for n in find_notices(settings, INFOS, TODAY, complete=False) if n.setting.endswith("CHAT_MODEL")]
    assert notices == ([expected] if expected else [])


def test_a_replacement_is_never_itself_deprecated_and_missing_defaults_count_only_on_a_full_read(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, embed_model="@cf/baai/old-embed", chat_model="@cf/meta/gone")
    partial = {n.setting: n for n in find_notices(settings, INFOS, TODAY, complete=False)}
    assert partial["WORKERS_AI_MCP_EMBED_MODEL"].replacement is None
    assert "see list_models" in partial["WORKERS_AI_MCP_EMBED_MODEL"].message
    assert "WORKERS_AI_MCP_CHAT_MODEL" not in partial
    full = {n.setting: n for n in find_notices(settings, INFOS, TODAY, complete=True)}
    assert "does not list" in full["WORKERS_AI_MCP_CHAT_MODEL"].message


async def test_nothing_is_fetched_at_start_and_the_first_catalog_read_warns_once(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, chat_model=DEPRECATED)
    with caplog.at_level(logging.WARNING, logger="workers_ai_mcp.catalog.deprecations"):
        async with open_session(settings, upstream=emulator_app) as client:
            await client.list_tools()
            assert emulator_state.requests == []
            data_of(await client.call_tool("list_models", {"task": "Text Embeddings"}))
            data_of(await client.call_tool("list_models", {"task": "Translation"}))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"WORKERS_AI_MCP_CHAT_MODEL is {DEPRECATED}, which Cloudflare deprecated on 2025-10-01"
    )
    assert "Set WORKERS_AI_MCP_CHAT_MODEL to another Text Generation model, e.g. @cf/" in warnings[0]
    sweeps = [r for r in catalog_reads(emulator_state) if "include_deprecated=true" in r.query]
    # One sweep: each page of the catalog (over 100 models, so more than one page) read once.
    assert sweeps and len({r.query for r in sweeps}) == len(sweeps)


async def test_the_client_keeps_the_notice_and_the_whole_catalog_read_warms_the_price_cache(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = settings.model_copy(update={"chat_model": DEPRECATED})
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        client = WorkersAI(settings, WorkersAIClient(settings, http))
        assert client.deprecations == []
        await client.run(LLAMA_33, {"prompt": "hi", "max_tokens": 4})
        reads = len(catalog_reads(emulator_state))
        info = await client.model_info("@cf/openai/whisper")
        await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})
    [notice] = client.deprecations
    assert (notice.model, notice.passed, notice.deprecation_date) == (DEPRECATED, True, "2025-10-01")
    assert notice.replacement and notice.replacement != DEPRECATED and notice.task == "Text Generation"
    pages = catalog_reads(emulator_state)
    assert reads >= 1 and info is not None and len({r.query for r in pages}) == len(pages)
    assert len(pages) == reads  # every later price came from that one whole read (one request per page)


@pytest.mark.parametrize(
    ("served_per_page", "report_total", "pages_read"),
    [(50, True, 3), (100, True, 2), (100, False, 2), (30, False, 5)],
)
async def test_the_catalog_is_read_to_its_end_even_when_pages_are_smaller_than_asked(
    tmp_path: Path, served_per_page: int, report_total: bool, pages_read: int
) -> None:
    settings = make_settings(tmp_path, chat_model=DEPRECATED)
    defaults = sorted(set(default_models(settings).values()) - {DEPRECATED})
    catalog = [model(f"@cf/x/m{i}") for i in range(140 - len(defaults))] + [model(name) for name in defaults]
    catalog.append(model(DEPRECATED, planned_deprecation_date="2025-10-01"))
    calls: list[int] = []

    async def search(*, include_deprecated: bool, page: int, per_page: int) -> ModelPage:
        assert include_deprecated
        calls.append(page)
        rows = catalog[(page - 1) * served_per_page : page * served_per_page]
        total = len(catalog) if report_total else None
        return ModelPage(models=rows, page=page, per_page=served_per_page, count=len(rows), total_count=total)

    watch = CatalogWatch(settings, today=lambda: TODAY)
    rows = await watch.sweep(search)
    assert len(rows) == len(catalog) and len(calls) == pages_read
    assert [n.model for n in watch.notices] == [DEPRECATED]  # and no default reported missing by mistake
    assert not watch.pending and await watch.sweep(search) == []


async def test_a_failed_catalog_read_is_tried_again_a_limited_number_of_times(tmp_path: Path) -> None:
    attempts: list[int] = []

    async def failing(*, include_deprecated: bool, page: int, per_page: int) -> ModelPage:
        attempts.append(page)
        raise APIConnectionError("Could not reach Workers AI.")

    watch = CatalogWatch(make_settings(tmp_path))
    assert [await watch.sweep(failing) for _ in range(3)] == [[], [], []]
    assert len(attempts) == 2 and not watch.pending and watch.notices == []
