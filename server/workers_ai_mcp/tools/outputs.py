"""Resources a host can browse: generated files under `workers-ai://outputs/{name}`, and resources/list.

Reads go through the output store's sandbox (`media.outputs`): a refused or unknown name is a
"resource not found" error, never an internal one. A resource template always reports one MIME
type, so the server (`app.WorkersAIServer`) passes each read through `typed_reads`, which puts an
output's real type on it, and adds to `resources/list` what `listed` gives: the fixed resources
(templates whose only variables are optional query parameters, such as `workers-ai://models{?page}`)
and the generated files, newest first, with their types and sizes (at most `LISTED_OUTPUTS`; the
server pages the list, `tools/host/surface.py`). No middleware: other requests never
pass through this module.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.types import Resource

from ..client import WorkersAIError
from ..media.outputs import OUTPUT_URI_PREFIX, SavedFile, served_type
from ..state import AppState
from .host.common import AppContext, state_of
from .host.registry import Registry

LISTED_OUTPUTS = 10_000  # generated files listed at most (a folder scan per page)
# A template such as `workers-ai://usage{?model}` also names the plain resource `workers-ai://usage`.
_QUERY_ONLY = re.compile(r"([^{}]+)\{\?[^{}]+\}")


def register(server: Registry) -> None:
    """Add the outputs resource template, the listing of generated files and their real types on reads."""

    @server.resource(
        OUTPUT_URI_PREFIX + "{name}",
        name="output",
        title="Generated file",
        description="A file a tool generated (image, audio, transcript, vectors), by its name.",
    )
    async def read_output(name: str, ctx: AppContext) -> bytes | str:
        state = state_of(ctx)
        try:
            data, media_type = await anyio.to_thread.run_sync(
                lambda: state.outputs.read(name, limit=state.settings.max_input_bytes)
            )
        except WorkersAIError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return data.decode("utf-8", "replace") if _is_text(media_type) else data

    server.list_resources_with(listed)
    server.retype_reads_with(typed_reads)


async def listed(server: MCPServer[Any], state: AppState) -> list[Resource]:
    """The fixed resources of query-only templates, and the generated files, newest first."""
    fixed = [
        Resource(
            uri=match.group(1),
            name=template.name,
            title=template.title,
            description=template.description,
            mime_type=template.mime_type,
        )
        for template in await server.list_resource_templates()
        if (match := _QUERY_ONLY.fullmatch(template.uri_template))
    ]
    newest = await anyio.to_thread.run_sync(
        lambda: state.outputs.newest(LISTED_OUTPUTS, limit=state.settings.max_input_bytes)
    )
    return fixed + [_output_resource(saved) for saved in newest]


def _output_resource(saved: SavedFile) -> Resource:
    return Resource(
        uri=saved.uri,
        name=saved.name,
        title=f"Generated file {saved.name}",
        mime_type=saved.media_type,
        size=saved.size,
    )


def typed_reads(uri: str, contents: list[ReadResourceContents]) -> list[ReadResourceContents]:
    """The contents of a generated file with its real MIME type (the template reports one for all)."""
    if not uri.startswith(OUTPUT_URI_PREFIX):
        return contents
    media_type = served_type(uri.removeprefix(OUTPUT_URI_PREFIX))
    if media_type is None:
        return contents
    return [dataclasses.replace(content, mime_type=media_type) for content in contents]


def _is_text(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type == "application/json"
