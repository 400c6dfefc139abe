"""Rewrite manifest.json's `tools` from the live server's tools/list (names + first sentence).

Run after adding, renaming or re-describing a tool:

    uv run python scripts/sync_manifest_tools.py          # rewrite manifest.json
    uv run python scripts/sync_manifest_tools.py --check  # exit 1 if it is out of date

The server is built with default settings in emulator mode and listed through an in-memory
MCP client, exactly as tests/packaging/test_manifest.py does.
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
sys.path.insert(0, str(ROOT / "server"))

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def first_sentence(description: str) -> str:
    """The first sentence of a tool description (what a host shows before installing)."""
    text = " ".join(description.split())
    return _SENTENCE_END.split(text, maxsplit=1)[0]


async def live_tools() -> list[dict[str, str]]:
    """`[{name, description}]` in the server's own tools/list order."""
    from mcp import Client

    from workers_ai_mcp.app import create_server
    from workers_ai_mcp.settings import Settings

    settings = Settings(_env_file=None, emulator=True, tools=None)  # pyright: ignore[reportCallIssue]
    async with Client(create_server(settings)) as client:
        listed = await client.list_tools()
    return [{"name": tool.name, "description": first_sentence(tool.description or "")} for tool in listed.tools]


def read_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_manifest(manifest: dict[str, Any], path: Path = MANIFEST) -> None:
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report whether manifest.json is up to date")
    args = parser.parse_args(argv)
    manifest = read_manifest()
    tools = anyio.run(live_tools)
    if manifest.get("tools") == tools:
        sys.stdout.write(f"manifest.json lists the server's {len(tools)} tools.\n")
        return 0
    if args.check:
        sys.stdout.write("manifest.json's tools differ from the server's; run scripts/sync_manifest_tools.py.\n")
        return 1
    manifest["tools"] = tools
    write_manifest(manifest)
    sys.stdout.write(f"manifest.json now lists {len(tools)} tools: {', '.join(t['name'] for t in tools)}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
