"""The MCP Apps viewer: one `ui://` page that shows what the media tools made, for hosts that render apps.

A host that declares the Apps extension (`io.modelcontextprotocol/ui` with the `text/html;profile=mcp-app`
MIME type in its capabilities) sees, in its tools/list, `_meta.ui.resourceUri` on the tools the viewer
can show; it renders the page beside the tool's result and relays the page's `resources/read` (images and
audio by their `workers-ai://outputs/` URI, so their bytes never enter the model's context),
`resources/list` (the gallery) and `tools/call` (regenerate). The decision is made per request from the
capabilities of the session that asks, never once for the process; a session that does not declare apps
gets the tools/list and the results it always got. Tool results are the same for both: text stays the
truth, and the viewer reads only what the result already carries.

The page (`viewer.html`) is self-contained: its script and style are inline, it names no origin, and its
own Content-Security-Policy allows only inline code and data: media, so it can fetch nothing.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from mcp.server.apps import Apps, ResourceCsp, client_supports_apps
from mcp.server.lowlevel.server import Server
from mcp.types import ListToolsResult, PaginatedRequestParams

VIEWER_URI = "ui://workers-ai-mcp/viewer.html"
# The tools whose results the viewer knows how to show: images, detections, descriptions, audio,
# transcripts, documents and spending (tests/tools/host/test_apps.py checks each is a tool of ours).
VIEWED_TOOLS = frozenset(
    {
        "generate_image",
        "detect_objects",
        "describe_image",
        "text_to_speech",
        "transcribe_audio",
        "usage",
        "run_model",
        "to_markdown",
    }
)


def viewer_html() -> str:
    return files(__name__.rpartition(".")[0]).joinpath("viewer.html").read_text(encoding="utf-8")


def viewer_extension() -> Apps:
    """The Apps extension with the viewer page: advertised in the server's capabilities, listed in resources."""
    apps = Apps()
    apps.add_html_resource(
        VIEWER_URI,
        viewer_html(),
        name="viewer",
        title="Workers AI viewer",
        description="Shows generated images, detections, audio, transcripts and spending beside a tool's result.",
        csp=ResourceCsp(),  # no origin at all: the page fetches nothing
        prefers_border=True,
    )
    return apps


def link_viewed_tools(lowlevel: Server[Any]) -> None:
    """Make tools/list carry the viewer link, for the sessions whose client declares MCP Apps."""
    entry = lowlevel.get_request_handler("tools/list")
    if entry is None:
        return
    handler = entry.handler

    async def handle(ctx: Any, params: PaginatedRequestParams | None) -> Any:
        listed = await handler(ctx, params)
        if not isinstance(listed, ListToolsResult) or not client_supports_apps(ctx):
            return listed
        tools = [
            tool.model_copy(update={"meta": {**(tool.meta or {}), "ui": {"resourceUri": VIEWER_URI}}})
            if tool.name in VIEWED_TOOLS
            else tool
            for tool in listed.tools
        ]
        return listed.model_copy(update={"tools": tools})

    lowlevel.add_request_handler("tools/list", PaginatedRequestParams, handle)
