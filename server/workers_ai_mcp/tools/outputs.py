"""Resources a host can browse: generated files under `workers-ai://outputs/{name}`, and resources/list.

Reads go through the output store's sandbox (`media.outputs`): a refused or unknown name is a
"resource not found" error, never an internal one. A resource template always reports one MIME
type, so a small middleware on the server's public `middleware` chain puts each output's real
type on its `resources/read` answer, and adds to `resources/list` the fixed resources (templates
whose only variables are optional query parameters, such as `workers-ai://models{?page}`) and the
newest generated files with their types and sizes.
"""

from __future__ import annotations

import re
from typing import Any, cast

import anyio
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.types import Resource

from ..client import WorkersAIError
from ..media.outputs import OUTPUT_URI_PREFIX, SavedFile, served_type
from ..state import AppState
from .host.common import AppContext, state_of
from .host.registry import Registry

LISTED_OUTPUTS = 50
# A template such as `workers-ai://usage{?model}` also names the plain resource `workers-ai://usage`.
_QUERY_ONLY = re.compile(r"([^{}]+)\{\?[^{}]+\}")


def register(server: Registry) -> None:
    """Add the outputs resource template, and (once the server is made) the listing and typing middleware."""

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

    server.on_install(_install_middleware)


def _install_middleware(server: MCPServer[AppState]) -> None:
    async def resources_middleware(ctx: ServerRequestContext[AppState, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if not isinstance(result, dict):
            return result
        answer = result
        if ctx.method == "resources/read":
            _set_output_types(answer)
        elif ctx.method == "resources/list" and not (ctx.params or {}).get("cursor"):
            listed = await _listed(server, ctx.lifespan_context)
            present = {entry.get("uri") for entry in _dicts(answer.get("resources"))}
            extra = [r.model_dump(by_alias=True, mode="json", exclude_none=True) for r in listed]
            answer["resources"] = [*_dicts(answer.get("resources")), *(r for r in extra if r["uri"] not in present)]
        return answer

    server.middleware.append(resources_middleware)


async def _listed(server: MCPServer[AppState], state: AppState) -> list[Resource]:
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


def _set_output_types(answer: dict[str, Any]) -> None:
    for content in _dicts(answer.get("contents")):
        uri = content.get("uri")
        if isinstance(uri, str) and uri.startswith(OUTPUT_URI_PREFIX):
            media_type = served_type(uri.removeprefix(OUTPUT_URI_PREFIX))
            if media_type is not None:
                content["mimeType"] = media_type


def _is_text(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type == "application/json"


def _dicts(value: object) -> list[dict[str, Any]]:
    items = cast(list[object], value) if isinstance(value, list) else []
    return [cast(dict[str, Any], item) for item in items if isinstance(item, dict)]
