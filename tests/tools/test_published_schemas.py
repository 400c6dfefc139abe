"""The entries kept in `tools/host/published.json` are exactly what the tool modules give, and a
server built from them lists the same tools and runs the same calls.

A start serves `tools/list` from that file and imports the tool modules on the first request that
needs them (`tools/host/listed.py`). After changing a tool's parameters, result, title, description
or annotations, rewrite it (with the manifest and the snapshot) by `uv run python scripts/refresh.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.server import MCPServer

from workers_ai_mcp.app import TOOL_MODULE_NAMES, WorkersAIServer, create_server, tool_modules
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.tools.host.listed import ListedTool
from workers_ai_mcp.tools.host.registry import Registry
from workers_ai_mcp.tools.host.schemas import PUBLISHED_FILE, Published, dump_published, published_of
from workers_ai_mcp.tools.host.tool import PublishedHostTool


def registry_with(published: dict[str, Published] | None) -> Registry:
    registry = Registry(published=published)
    for module in tool_modules():
        module.register(registry)
    return registry


def built_now() -> dict[str, Published]:
    kept = {tool.name: published_of(tool) for tool in registry_with({}).tools}
    return {name: entry for name, entry in kept.items() if entry is not None}


def test_the_kept_entries_are_those_the_tool_modules_give() -> None:
    expected = dump_published(built_now())
    assert PUBLISHED_FILE.read_text(encoding="utf-8") == expected, (
        "tools/host/published.json is out of date: run `uv run python scripts/refresh.py`"
    )


async def listed(server: MCPServer[Any]) -> str:
    async with Client(server, mode="legacy") as client:
        result = await client.list_tools()
    return json.dumps([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools])


async def test_tools_list_from_kept_entries_is_byte_for_byte_the_one_built_from_the_modules(tmp_path: Path) -> None:
    kept = await listed(create_server(Settings(emulator=True, output_dir=tmp_path)))
    built = await listed(MCPServer[Any]("built", tools=registry_with({}).tools))
    assert kept == built  # key order too: hosts show parameters in it


async def test_the_tool_modules_load_on_the_first_call_and_arguments_are_checked_as_strictly(tmp_path: Path) -> None:
    server = create_server(Settings(emulator=True, output_dir=tmp_path))
    assert isinstance(server, WorkersAIServer)
    loader = server._loader  # pyright: ignore[reportPrivateUsage]
    async with Client(server, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        assert loader.loaded is None and tools
        refused = await client.call_tool("translate", {"text": "hi", "target_lang": "x"})
        answered = await client.call_tool("translate", {"text": "hi", "target_lang": "fr"})
    loaded: Registry | None = getattr(loader, "loaded")  # noqa: B009 (read again after the calls)
    assert loaded is not None
    real = {tool.name: tool for tool in loaded.tools}
    assert refused.is_error and "target_lang" in str(refused.content)
    assert not answered.is_error and answered.structured_content is not None
    assert isinstance(real["translate"], PublishedHostTool) and "fn_metadata" in vars(real["translate"])
    assert "fn_metadata" not in vars(real["chat"])  # built only when called


def test_a_start_answers_tools_list_without_importing_a_tool_module_or_the_client() -> None:
    script = (
        "import sys, anyio\n"
        "from mcp import Client\n"
        "from workers_ai_mcp.app import create_server\n"
        "from workers_ai_mcp.settings import Settings\n"
        "async def main():\n"
        "    async with Client(create_server(Settings(emulator=True)), mode='legacy') as client:\n"
        "        await client.list_tools()\n"
        "anyio.run(main)\n"
        "heavy = ['workers_ai_mcp.client', 'workers_ai_mcp.catalog', 'workers_ai_mcp.spending', 'sqlite3']\n"
        f"heavy += {list(TOOL_MODULE_NAMES)!r}\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_command_line_start_answers_tools_list_without_importing_the_spending_layer(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from workers_ai_mcp import cli\n"
        "code = cli.main(['--emulator'])\n"
        "heavy = ['workers_ai_mcp.client', 'workers_ai_mcp.catalog', 'workers_ai_mcp.spending', 'sqlite3']\n"
        f"heavy += {list(TOOL_MODULE_NAMES)!r}\n"
        "sys.stderr.write(f'loaded {sorted(name for name in heavy if name in sys.modules)} exit {code}\\n')\n"
    )
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }  # fmt: skip
    messages = [initialize, {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    messages.append({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    done = subprocess.run(
        [sys.executable, "-c", script],
        input="".join(json.dumps(message) + "\n" for message in messages),
        env={**os.environ, "WORKERS_AI_MCP_STATE_DIR": str(tmp_path / "state")},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert '"id":2' in done.stdout.replace(" ", "") and '"tools"' in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "loaded [] exit 0", done.stderr


def test_every_tool_of_the_modules_is_listed_from_the_kept_entries(tmp_path: Path) -> None:
    server = create_server(Settings(emulator=True, output_dir=tmp_path))
    names = [tool.name for tool in server._tool_manager.list_tools()]  # pyright: ignore[reportPrivateUsage]
    assert names == registry_with({}).names
    assert all(isinstance(tool, ListedTool) for tool in server._tool_manager.list_tools())  # pyright: ignore[reportPrivateUsage]
