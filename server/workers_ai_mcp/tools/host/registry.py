"""`Registry`: what every tool module registers into, before the server exists.

Tools named in `--tools` (all, by default) are built once as `HostTool`s (the SDK's public `Tool`, with our
argument, error and content policies; see `tool.py`) through the public `Tool.from_function`,
their published schemas compacted (`schemas.py`), and handed to `MCPServer(tools=...)`; tools left
out are never built, so a subset also starts faster. Resources are recorded and installed on the
server once it is made.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations

from .schemas import compact_tool
from .tool import HostTool

F = TypeVar("F", bound=Callable[..., Any])


class Registry:
    """Tools and resources of every tool module, in registration order."""

    def __init__(self, only: Collection[str] | None = None) -> None:
        self.only = set(only) if only else None
        self.names: list[str] = []  # every tool offered, built or not
        self.tools: list[Tool] = []
        self._resources: list[tuple[str, dict[str, Any], Callable[..., Any]]] = []
        self._on_install: list[Callable[[MCPServer[Any]], None]] = []

    def add_tool(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        structured_output: bool | None = None,
    ) -> None:
        """Build the tool, unless `--tools` leaves it out."""
        tool_name = name or fn.__name__
        self.names.append(tool_name)
        if self.only is not None and tool_name not in self.only:
            return
        tool = HostTool.from_function(
            fn,
            name=tool_name,
            title=title,
            description=description,
            annotations=annotations,
            structured_output=structured_output,
        )
        self.tools.append(compact_tool(tool))

    def resource(self, uri: str, **options: Any) -> Callable[[F], F]:
        """Record a resource (same options as `MCPServer.resource`); `install` adds it to the server."""

        def record(fn: F) -> F:
            self._resources.append((uri, options, fn))
            return fn

        return record

    def on_install(self, step: Callable[[MCPServer[Any]], None]) -> None:
        """Run `step` on the server once it is made (e.g. to add middleware)."""
        self._on_install.append(step)

    def unknown(self) -> list[str]:
        """Names given to `--tools` that no module offers."""
        return sorted((self.only or set()) - set(self.names))

    def install(self, server: MCPServer[Any]) -> None:
        """Add the recorded resources to `server`, then run the install steps."""
        for uri, options, fn in self._resources:
            server.resource(uri, **options)(fn)
        for step in self._on_install:
            step(server)
