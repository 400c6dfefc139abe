"""list_models, get_model_schema and the catalog resources, through a real MCP client session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent, TextResourceContents
from starlette.applications import Starlette

from support.results import text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings

BASE = "@cf/baai/bge-base-en-v1.5"


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def schema_requests(state: EmulatorState) -> list[str]:
    return [r.query for r in state.requests if r.path.endswith("/ai/models/schema")]


async def read_json(client: Client, uri: str) -> dict[str, Any]:
    result = await client.read_resource(uri)
    contents = result.contents[0]
    assert isinstance(contents, TextResourceContents)
    assert contents.mime_type == "application/json"
    return json.loads(contents.text)


async def test_list_models_returns_a_compact_first_page_with_default_marks(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("list_models", {})
    assert not result.is_error and result.structured_content is not None
    page = result.structured_content
    assert (page["page"], page["per_page"]) == (1, 30)
    assert page["count"] == len(page["models"]) > 10
    assert page["total_count"] >= page["count"]
    assert all(len(row["description"]) <= 160 for row in page["models"])
    assert page["default_for"][BASE] == ["embed"]
    assert page["default_for"]["@cf/baai/bge-reranker-base"] == ["rank_documents"]
    assert set(page["default_for"]) <= {row["name"] for row in page["models"]}
    assert len(json.dumps(page)) < 20_000


async def test_list_models_rows_carry_the_notable_properties_as_typed_values(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("list_models", {"search": "bge-base"})
    assert result.structured_content is not None
    (row,) = [r for r in result.structured_content["models"] if r["name"] == BASE]  # also omni-bge-base
    assert row["task"] == "Text Embeddings"
    assert row["properties"] == {
        "async_queue": True,
        "price": "$0.067 per M input tokens",
        "max_input_tokens": 512,
        "output_dimensions": 768,
    }


@pytest.mark.parametrize("task", ["Text Embeddings", "text embeddings", "TEXT-EMBEDDINGS"])
async def test_list_models_filters_by_task_name_forgiving_case_and_spacing(
    task: str, settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("list_models", {"task": task})
    assert result.structured_content is not None
    rows = result.structured_content["models"]
    assert {f"@cf/baai/bge-{size}-en-v1.5" for size in ("small", "base", "large")} <= {row["name"] for row in rows}
    assert {row["task"] for row in rows} == {"Text Embeddings"}


async def test_list_models_with_a_task_no_model_has_names_the_tasks_and_the_close_one(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("list_models", {"task": "embeddings"})
        nothing = await client.call_tool("list_models", {"task": "painting"})
    assert result.is_error
    text = text_of(result)
    assert "No Workers AI model has the task 'embeddings'; did you mean 'Text Embeddings'?" in text
    assert all(task in text for task in ("Text Generation", "Text-to-Speech", "Automatic Speech Recognition"))
    assert nothing.is_error and "did you mean" not in text_of(nothing) and "Text-to-Image" in text_of(nothing)


async def test_list_models_filters_by_author_and_pages_through_results(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        by_author = await client.call_tool("list_models", {"author": "meta"})
        first = await client.call_tool("list_models", {"per_page": 4})
        second = await client.call_tool("list_models", {"per_page": 4, "page": 2})
        beyond = await client.call_tool("list_models", {"per_page": 100, "page": 9})
    assert by_author.structured_content is not None
    assert by_author.structured_content["models"]
    assert all(row["name"].startswith("@cf/meta/") for row in by_author.structured_content["models"])
    assert first.structured_content is not None and second.structured_content is not None
    names_1 = [row["name"] for row in first.structured_content["models"]]
    names_2 = [row["name"] for row in second.structured_content["models"]]
    assert len(names_1) == len(names_2) == 4 and not set(names_1) & set(names_2)
    assert second.structured_content["page"] == 2
    assert first.structured_content["total_count"] == second.structured_content["total_count"]
    assert beyond.structured_content is not None
    assert beyond.structured_content["models"] == [] and beyond.structured_content["default_for"] == {}


async def test_list_models_hides_deprecated_models_unless_asked(settings: Settings, emulator_app: Starlette) -> None:
    deprecated = "@cf/qwen/qwen1.5-7b-chat-awq"
    async with open_session(settings, upstream=emulator_app) as client:
        hidden = await client.call_tool("list_models", {"search": "qwen1.5"})
        shown = await client.call_tool("list_models", {"search": "qwen1.5", "include_deprecated": True})
    assert hidden.structured_content is not None and shown.structured_content is not None
    assert deprecated not in {row["name"] for row in hidden.structured_content["models"]}
    (row,) = [row for row in shown.structured_content["models"] if row["name"] == deprecated]
    assert row["properties"]["planned_deprecation_date"] == "2025-10-01"
    assert row["properties"]["beta"] is True


async def test_list_models_marks_only_tools_that_are_enabled(tmp_path: Path, emulator_app: Starlette) -> None:
    settings = make_settings(
        tmp_path, tools=["list_models", "rank_documents"], embed_model="@cf/baai/bge-small-en-v1.5"
    )
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("list_models", {"author": "baai"})
    assert result.structured_content is not None
    assert result.structured_content["default_for"] == {"@cf/baai/bge-reranker-base": ["rank_documents"]}


async def test_list_models_refuses_a_per_page_above_100(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("list_models", {"per_page": 101})
    assert "per_page" in error_text(result)
    assert emulator_state.requests == []


async def test_get_model_schema_returns_input_and_output_schemas_and_caches_them(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        first = await client.call_tool("get_model_schema", {"model": BASE})
        again = await client.call_tool("get_model_schema", {"model": BASE})
    assert first.structured_content is not None
    assert first.structured_content == again.structured_content
    assert first.structured_content["model"] == BASE
    assert "text" in json.dumps(first.structured_content["input"])
    assert "shape" in json.dumps(first.structured_content["output"])
    assert len(schema_requests(emulator_state)) == 1


async def test_get_model_schema_of_an_unknown_model_points_to_list_models(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("get_model_schema", {"model": "@cf/nobody/no-such-model"})
    message = error_text(result)
    assert "no model named @cf/nobody/no-such-model" in message and "list_models" in message


async def test_get_model_schema_refuses_a_malformed_id_before_any_request(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        result = await client.call_tool("get_model_schema", {"model": "@cf/../../user/tokens"})
    assert "not a Workers AI model id" in error_text(result)
    assert emulator_state.requests == []


async def test_catalog_tools_are_annotated_read_only(settings: Settings, emulator_app: Starlette) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name in ("list_models", "get_model_schema"):
        annotations = tools[name].annotations
        assert annotations is not None
        # Read-only implies no side effects; the spec gives destructive/idempotent hints no meaning then.
        assert annotations.read_only_hint is True and annotations.destructive_hint is None
    assert tools["get_model_schema"].output_schema is not None
    assert tools["list_models"].output_schema is None  # a listing: its JSON explains itself (budgets.py)
    assert "Text-to-Image" in (tools["list_models"].input_schema["properties"]["task"].get("description") or "")


async def test_resource_templates_list_the_catalog_and_the_per_model_schema(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert {"workers-ai://models{?page}", "workers-ai://models/{+model}"} <= templates


async def test_catalog_resource_lists_every_model_compactly(settings: Settings, emulator_app: Starlette) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        catalog = await read_json(client, "workers-ai://models")
        page_two = await read_json(client, "workers-ai://models?page=2")
        listed = await client.call_tool("list_models", {"per_page": 100})
        listed_two = await client.call_tool("list_models", {"per_page": 100, "page": 2})
    assert listed.structured_content is not None and listed_two.structured_content is not None
    names_two = [row["name"] for row in listed_two.structured_content["models"]]
    rows: list[dict[str, Any]] = catalog["models"]
    names = [row["name"] for row in listed.structured_content["models"]] + names_two
    assert [row["name"] for row in rows] == names
    assert f"{len(rows)} of {listed.structured_content['total_count']} models" in str(catalog["note"])
    assert [row["name"] for row in page_two["models"]] == names_two


@pytest.mark.parametrize(
    "uri",
    ["workers-ai://models/@cf/baai/bge-base-en-v1.5", "workers-ai://models/%40cf%2Fbaai%2Fbge-base-en-v1.5"],
)
async def test_model_resource_holds_the_schema_of_a_model_whose_id_has_slashes(
    uri: str, settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        schema = await read_json(client, uri)
        tool = await client.call_tool("get_model_schema", {"model": BASE})
    assert tool.structured_content is not None
    assert schema == {
        "model": BASE,
        "input": tool.structured_content["input"],
        "output": tool.structured_content["output"],
    }


async def test_model_resource_of_an_unknown_model_is_an_error_naming_it(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        with pytest.raises(MCPError, match="no model named @cf/nobody/missing"):
            await client.read_resource("workers-ai://models/@cf/nobody/missing")
