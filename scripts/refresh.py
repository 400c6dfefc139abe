"""Refresh what is derived from the tool modules: the published schemas, manifest.json's `tools`, the snapshot.

Run after adding, renaming or re-describing a tool, or changing any tool's parameters:

    uv run python scripts/refresh.py          # rewrite tools/host/published.json, manifest.json's tools
                                              # and tests/snapshots/tools_list.json
    uv run python scripts/refresh.py --check  # exit 1 if any of them is out of date

`published.json` (every tool's compacted tools/list entry, what a start lists before the tool
modules load) is built from the modules first; the manifest and the snapshot are then read from
the live server's tools/list.

The server is built with default settings in emulator mode and listed through an in-memory MCP
client, as tests/packaging/test_manifest.py and tests/tools/test_tools_list.py do.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "manifest.json"
SNAPSHOT = ROOT / "tests" / "snapshots" / "tools_list.json"
COMMAND = "uv run python scripts/refresh.py"
sys.path.insert(0, str(ROOT / "server"))

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def published_text() -> str:
    """`tools/host/published.json` as the tool modules give it today."""
    from workers_ai_mcp.app import tool_modules
    from workers_ai_mcp.tools.host.registry import Registry
    from workers_ai_mcp.tools.host.schemas import dump_published, published_of

    registry = Registry(published={})
    for module in tool_modules():
        module.register(registry)
    kept = {tool.name: published_of(tool) for tool in registry.tools}
    return dump_published({name: entry for name, entry in kept.items() if entry is not None})


def refresh_published(*, check: bool) -> bool:
    """Whether `published.json` was current; unless `check`, it is rewritten when it was not."""
    from workers_ai_mcp.tools.host.schemas import PUBLISHED_FILE

    text = published_text()
    current = PUBLISHED_FILE.exists() and PUBLISHED_FILE.read_text(encoding="utf-8") == text
    if not current and not check:
        PUBLISHED_FILE.write_text(text, encoding="utf-8")
    return current


def first_sentence(description: str) -> str:
    """The first sentence of a tool description (what a host shows before installing)."""
    text = " ".join(description.split())
    return _SENTENCE_END.split(text, maxsplit=1)[0]


async def listed_tools() -> list[dict[str, Any]]:
    """The server's tools/list entries as JSON, in its own order."""
    from mcp import Client

    from workers_ai_mcp.app import create_server
    from workers_ai_mcp.settings import Settings

    settings = Settings(_env_file=None, emulator=True, tools=None)  # pyright: ignore[reportCallIssue]
    async with Client(create_server(settings), mode="legacy") as client:
        result = await client.list_tools()
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools]


def manifest_tools(tools: list[dict[str, Any]]) -> list[dict[str, str]]:
    """manifest.json's `tools`: each tool's name and the first sentence of its description."""
    return [{"name": tool["name"], "description": first_sentence(tool.get("description", ""))} for tool in tools]


def snapshot_text(tools: list[dict[str, Any]]) -> str:
    """The snapshot file's text: the tools/list entries, keys sorted, one space of indent."""
    return json.dumps(tools, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def read_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_manifest(manifest: dict[str, Any], path: Path = MANIFEST) -> None:
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report whether both are up to date")
    args = parser.parse_args(argv)
    stale = [] if refresh_published(check=args.check) else ["server/workers_ai_mcp/tools/host/published.json"]
    tools = anyio.run(listed_tools)
    manifest = read_manifest()
    if manifest.get("tools") != manifest_tools(tools):
        stale.append("manifest.json's tools")
    snapshot = snapshot_text(tools)
    if not SNAPSHOT.exists() or SNAPSHOT.read_text(encoding="utf-8") != snapshot:
        stale.append(str(SNAPSHOT.relative_to(ROOT)))
    if not stale:
        sys.stdout.write(f"published.json, manifest.json and the snapshot match the server's {len(tools)} tools.\n")
        return 0
    if args.check:
        sys.stdout.write(f"Out of date: {' and '.join(stale)}; run `{COMMAND}`.\n")
        return 1
    manifest["tools"] = manifest_tools(tools)
    write_manifest(manifest)
    SNAPSHOT.write_text(snapshot, encoding="utf-8")  # published.json was rewritten above
    sys.stdout.write(f"Refreshed {' and '.join(stale)}: {len(tools)} tools, {', '.join(t['name'] for t in tools)}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
