"""Icons: the server's, and one per tool family, as small SVG `data:` URIs (no request, no file to serve).

Icons exist from protocol 2025-11-25 (`Implementation.icons`, `Tool.icons`); `IconsByVersion` takes
them out of `initialize` and `tools/list` for sessions on older versions. Each tool costs the assistant's
context in every conversation (tools/host/budgets.py), so a family icon is one path on an 8x8 grid, about 130
bytes; the text families (whose list is held to 14 KB) carry none, and hosts show the server's icon
for them (VS Code and Claude Code draw `serverInfo.icons` beside a server's tools).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import Icon
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS, is_version_at_least

SVG = "image/svg+xml"
_XMLNS = "http://www.w3.org/2000/svg"


def svg_icon(body: str, view: int = 8) -> Icon:
    """An icon of `body` (SVG elements, single-quoted attributes) on a `view` x `view` grid, as a data URI."""
    svg = f"<svg xmlns='{_XMLNS}' viewBox='0 0 {view} {view}'>{body}</svg>"
    return Icon(src=f"data:{SVG}," + quote(svg, safe="'/=:.,"))


# The server: the project icon (icon.svg) reduced to its cloud, in Cloudflare's orange.
SERVER_ICONS = [
    Icon(
        src="data:"
        + SVG
        + ","
        + quote(
            f"<svg xmlns='{_XMLNS}' viewBox='0 0 16 16'><rect width='16' height='16' rx='3' fill='%23F38020'/>"
            "<path fill='%23fff' d='M4 11a2 2 0 0 1 0-4 3 3 0 0 1 6-1 2.5 2.5 0 0 1 2 5z'/></svg>",
            safe="'/=:.,%",
        ),
        mime_type=SVG,
        sizes=["any"],
    )
]

# Per family (the module that registers the tool); families not named here carry no icon.
FAMILY_ICONS: dict[str, list[Icon]] = {
    "vision": [svg_icon("<path d='M0 4q4-5 8 0-4 5-8 0z'/>")],  # an eye
    "images": [svg_icon("<path d='M0 1h8v6H0zm1 5h6L5 3 3 5z'/>")],  # a picture
    "audio": [svg_icon("<path d='M0 3h2l3-3v8L2 5H0z'/>")],  # a speaker
    "batch": [svg_icon("<path d='M0 0h8v2H0zm0 3h8v2H0zm0 3h8v2H0z'/>")],  # stacked jobs
    "usage": [svg_icon("<path d='M0 8V5h2v3zm3 0V2h2v6zm3 0V0h2v8z'/>")],  # a bar chart
    "estimate": [svg_icon("<path d='M0 8V5h2v3zm3 0V2h2v6zm3 0V0h2v8z'/>")],  # the same chart: spending
    "outputs": [svg_icon("<path d='M0 1h3l1 1h4v6H0z'/>")],  # a folder
    "documents": [svg_icon("<path d='M1 0h4l2 2v6H1zm1 3v1h4V3zm0 2v1h4V5z'/>")],  # a page of text
    "search": [svg_icon("<path d='M3 0a3 3 0 1 1 0 6 3 3 0 1 1 0-6zm2 5 3 3-1 0-3-3z'/>")],  # a magnifier
    "adapters": [svg_icon("<path d='M2 0h1v3h2V0h1v3h1v2L5 7v1H3V7L1 5V3h1z'/>")],  # a plug
}


def family_of(module: str) -> str:
    """The family of a tool function's module: `workers_ai_mcp.tools.vision` → `vision`."""
    parts = module.split(".")
    return parts[parts.index("tools") + 1] if "tools" in parts[:-1] else parts[-1]


def icons_of(family: str | None) -> list[Icon] | None:
    return FAMILY_ICONS.get(family) if family else None


ICONS_SINCE = "2025-11-25"
SERVER_INFO_STAMP = "io.modelcontextprotocol/serverInfo"  # 2026-07-28 stamps it on every result


def defines_icons(version: str | None) -> bool:
    """Whether protocol `version` has icons (an unknown or missing one is taken as current)."""
    return version is None or version not in KNOWN_PROTOCOL_VERSIONS or is_version_at_least(version, ICONS_SINCE)


class IconsByVersion:
    """Server middleware: icons only where the negotiated version defines them, and once per need.

    Sessions before 2025-11-25 get no `icons` in `initialize`'s `serverInfo` nor in `tools/list`.
    On 2026-07-28 the SDK stamps the whole `serverInfo` into every result's `_meta`; the icons stay
    in the stamp of `server/discover` only, not in every tool result.
    """

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if not isinstance(result, dict):
            return result
        answer = result
        if ctx.method == "initialize":
            if not defines_icons(str(answer.get("protocolVersion", ""))):
                _drop_icons(answer.get("serverInfo"))
        elif ctx.method == "tools/list" and not defines_icons(ctx.protocol_version):
            for tool in answer.get("tools") or ():
                _drop_icons(tool)
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS and ctx.method != "server/discover":
            meta = answer.get("_meta")
            if isinstance(meta, dict):
                _drop_icons(cast(dict[str, Any], meta).get(SERVER_INFO_STAMP))
        return answer


def _drop_icons(entry: Any) -> None:
    if isinstance(entry, dict):
        cast(dict[str, Any], entry).pop("icons", None)
