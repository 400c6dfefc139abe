"""The tool list: its size budgets, and a snapshot so that any change to a schema is deliberate.

After an intended change, refresh the snapshot with `UPDATE_SNAPSHOTS=1 uv run pytest tests/tools/test_tools_list.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from support.session import open_session
from workers_ai_mcp.settings import Settings

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "tools_list.json"
TOTAL_BUDGET = 24_000  # bytes of JSON for the whole tools/list answer (DESIGN §10)
TEXT_BUDGET = 14_000  # the text and catalog tools alone
TEXT_TOOLS = {
    "chat", "complete", "respond", "translate", "summarize", "classify_text",
    "embed", "rank_documents", "run_model", "list_models", "get_model_schema",
}  # fmt: skip


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
    assert size({"tools": tools}) <= TOTAL_BUDGET
    assert size([tool for tool in tools if tool["name"] in TEXT_TOOLS]) <= TEXT_BUDGET


async def test_every_tool_has_a_description_a_title_annotations_and_described_parameters(tmp_path: Path) -> None:
    for tool in await listed(tmp_path):
        assert tool.get("title") and tool.get("description"), tool["name"]
        assert "annotations" in tool, tool["name"]
        for name, schema in tool["inputSchema"].get("properties", {}).items():
            assert schema.get("description") or "$ref" in json.dumps(schema), f"{tool['name']}.{name}"


async def test_the_tool_schemas_match_the_snapshot(tmp_path: Path) -> None:
    tools = await listed(tmp_path)
    current = json.dumps(tools, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.read_text(encoding="utf-8") == current, (
        "tools/list changed; if intended, run UPDATE_SNAPSHOTS=1 uv run pytest tests/tools/test_tools_list.py"
    )
