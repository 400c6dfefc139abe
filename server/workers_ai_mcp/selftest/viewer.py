"""The selftest's look at the MCP Apps viewer, as a host that renders apps would use it.

The selftest's client declares MCP Apps, so the server links the viewer from the media tools. After the
tool calls, one more row checks what such a host needs: the link on every tool the viewer shows, the
page itself (read with the app MIME type and its CSP), and every generated file a successful result
links to readable through `resources/read`, which is how the viewer fetches what it shows.
"""

from __future__ import annotations

from typing import Any

from mcp.client.extension import ClientExtension
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import CallToolResult, ResourceLink, TextResourceContents, Tool

from ..tools.host.apps import VIEWED_TOOLS, VIEWER_URI


class DeclaresApps(ClientExtension):
    """What a host that renders MCP Apps declares."""

    identifier = EXTENSION_ID

    def settings(self) -> dict[str, Any]:
        return {"mimeTypes": [APP_MIME_TYPE]}


async def viewer_problems(client: Any, tools: dict[str, Tool], results: dict[str, CallToolResult]) -> list[str]:
    """What a host rendering the viewer would find wrong; empty when all is well."""
    problems = [
        f"{name} has no viewer link" for name in sorted(VIEWED_TOOLS & set(tools)) if _link(tools[name]) != VIEWER_URI
    ]
    (page, *_) = (await client.read_resource(VIEWER_URI)).contents
    if not isinstance(page, TextResourceContents) or page.mime_type != APP_MIME_TYPE:
        problems.append(f"{VIEWER_URI} is not served as {APP_MIME_TYPE}")
    elif "csp" not in ((page.meta or {}).get("ui") or {}):
        problems.append(f"{VIEWER_URI} declares no CSP")
    for name, result in results.items():
        for block in result.content:
            if isinstance(block, ResourceLink) and str(block.uri).startswith("workers-ai://outputs/"):
                try:
                    read = await client.read_resource(str(block.uri))
                except Exception as exc:  # the server's "resource not found", or a broken connection
                    problems.append(f"{name}'s {block.uri} cannot be read: {exc}")
                    continue
                if not read.contents:
                    problems.append(f"{name}'s {block.uri} cannot be read")
    return problems


def _link(tool: Tool) -> object:
    ui: object = (tool.meta or {}).get("ui")
    return ui.get("resourceUri") if isinstance(ui, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
