"""The `workers-ai://outputs/{name}` resource: generated files, readable by any MCP client."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ResourceError

from ..client import WorkersAIError
from ._common import AppContext, state_of
from .registry import Registry


def register(server: Registry) -> None:
    """Add the outputs resource template to `server`."""

    @server.resource(
        "workers-ai://outputs/{name}",
        name="output",
        title="Generated file",
        description="A file a tool generated (image, audio, transcript, vectors), by its name.",
    )
    def read_output(name: str, ctx: AppContext) -> bytes | str:
        try:
            data, media_type = state_of(ctx).outputs.read(name)
        except WorkersAIError as exc:
            raise ResourceError(str(exc)) from None
        if media_type.startswith("text/") or media_type == "application/json":
            return data.decode("utf-8", "replace")
        return data
