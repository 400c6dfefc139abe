"""The tool list: its size budgets, and a snapshot so that any change to a schema is deliberate.

After an intended change, refresh the snapshot (and manifest.json's tools) with `uv run python scripts/refresh.py`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from support.session import open_session
from workers_ai_mcp.selftest.registered import tool_families
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.tools.host.budgets import TEXT_FAMILIES, TEXT_TOOLS_BYTES, TOOLS_LIST_BYTES

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "snapshots" / "tools_list.json"


def refresh_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh", ROOT / "scripts" / "refresh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def listed(tmp_path: Path) -> list[dict[str, Any]]:
    async with open_session(
        Settings(emulator=True, output_dir=tmp_path), mode="legacy", raise_exceptions=False
    ) as client:
        result = await client.list_tools()
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools]


def size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


async def test_the_whole_tool_list_stays_within_its_byte_budget(tmp_path: Path) -> None:
    tools = await listed(tmp_path)
    text_tools = [tool for tool in tools if tool_families()[tool["name"]] in TEXT_FAMILIES]
    assert {"chat", "translate", "embed", "run_model", "list_models"} <= {tool["name"] for tool in text_tools}
    assert size({"tools": tools}) <= TOOLS_LIST_BYTES
    assert size(text_tools) <= TEXT_TOOLS_BYTES


async def test_every_tool_has_a_description_a_title_annotations_and_described_parameters(tmp_path: Path) -> None:
    for tool in await listed(tmp_path):
        assert tool.get("title") and tool.get("description"), tool["name"]
        assert "annotations" in tool, tool["name"]
        for name, schema in tool["inputSchema"].get("properties", {}).items():
            assert schema.get("description") or "$ref" in json.dumps(schema), f"{tool['name']}.{name}"


async def test_the_tool_schemas_match_the_snapshot(tmp_path: Path) -> None:
    refresh = refresh_script()
    current = refresh.snapshot_text(await listed(tmp_path))
    assert SNAPSHOT.read_text(encoding="utf-8") == current, f"tools/list changed; if intended, run `{refresh.COMMAND}`"
