"""Hosts that show the model only `structuredContent` (Claude Code) get the essentials of `content` inside it."""

from __future__ import annotations

from pathlib import Path

from mcp.types import Implementation, ResourceLink
from starlette.applications import Starlette

from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.selftest.samples import sample_png

CLAUDE_CODE = Implementation(name="claude-code", version="2.1.300")
OTHER = Implementation(name="some-host", version="1.0")


async def test_claude_code_gets_the_detection_summary_and_the_preview_link_inside_the_structured_content(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    image = sample_png(tmp_path)
    async with open_session(make_settings(tmp_path), upstream=emulator_app, client_info=CLAUDE_CODE) as client:
        result = await client.call_tool("detect_objects", {"image": str(image)})
    data = result.structured_content
    assert data is not None and not result.is_error
    lines = data["essentials"]
    links = [block for block in result.content if isinstance(block, ResourceLink)]
    assert links and all(any(str(link.uri) in line for line in lines) for link in links)
    assert any(line.startswith("File ") and str(tmp_path / "outputs") in line for line in lines)
    assert not any(line.startswith("{") for line in lines)


async def test_other_hosts_get_the_structured_content_unchanged_and_the_setting_overrides_either_way(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    image = sample_png(tmp_path)
    arguments = {"image": str(image)}
    async with open_session(make_settings(tmp_path), upstream=emulator_app, client_info=OTHER) as client:
        other = await client.call_tool("detect_objects", arguments)
    forced = make_settings(tmp_path, structured_only_host=True)
    async with open_session(forced, upstream=emulator_app, client_info=OTHER) as client:
        told = await client.call_tool("detect_objects", arguments)
    off = make_settings(tmp_path, structured_only_host=False)
    async with open_session(off, upstream=emulator_app, client_info=CLAUDE_CODE) as client:
        unset = await client.call_tool("detect_objects", arguments)
    assert other.structured_content is not None and "essentials" not in other.structured_content
    assert told.structured_content is not None and told.structured_content["essentials"]
    assert unset.structured_content is not None and "essentials" not in unset.structured_content
