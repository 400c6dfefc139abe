"""`Registry`: what every tool module registers into, before the server exists.

Tools named in `--tools` (all, by default) are made once as `HostTool`s (the SDK's public `Tool`, with our
argument, error and content policies; see `tool.py`) and handed to `MCPServer(tools=...)`; tools left
out are never made, so a subset also starts faster. A tool whose compacted schemas are kept in
`published.json` (`schemas.py`) is made from them, and the SDK's argument model (`Tool.from_function`'s
work) is built on its first call; any other tool is built through `Tool.from_function` at once.
Resources are recorded and installed on the server once it is made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import Resource, ToolAnnotations

from ...state import AppState
from .icons import family_of, icons_of
from .schemas import Published, compact_annotations, compact_description, compact_tool, load_published
from .tool import HostTool, published_tool

F = TypeVar("F", bound=Callable[..., Any])
# What the server's resources/list adds: given the server and the lifespan state, more resources.
ResourceLister = Callable[[MCPServer[Any], AppState], Awaitable[list[Resource]]]
# What resources/read passes its contents through: given the URI read and the contents, the contents.
ReadRetyper = Callable[[str, list[ReadResourceContents]], list[ReadResourceContents]]


class Registry:
    """Tools and resources of every tool module, in registration order."""

    def __init__(self, only: Collection[str] | None = None, *, published: dict[str, Published] | None = None) -> None:
        self.only = set(only) if only else None
        self.published = load_published() if published is None else published
        self.names: list[str] = []  # every tool offered, built or not
        self.tools: list[Tool] = []
        self._resources: list[tuple[str, dict[str, Any], Callable[..., Any]]] = []
        self.listers: list[ResourceLister] = []  # resources/list adds what these give
        self.retypers: list[ReadRetyper] = []  # resources/read contents pass through these
        self.untyped: set[str] = set()  # resource URIs registered without one MIME type (the SDK says text/plain)

    def add_tool(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        structured_output: bool | None = None,
        list_output_schema: bool = True,
    ) -> None:
        """Build the tool, unless `--tools` leaves it out.

        `list_output_schema=False` keeps the output schema out of tools/list (the structured content is
        still sent, as the spec allows without a schema): for listings whose JSON explains itself, where
        the schema would cost every conversation more than it tells (tools/host/budgets.py).
        """
        tool_name = name or fn.__name__
        self.names.append(tool_name)
        if self.only is not None and tool_name not in self.only:
            return
        kept = self.published.get(tool_name)
        if kept is None:
            tool = build_tool(fn, tool_name, title, description, annotations, structured_output)
            tool.icons = icons_of(family_of(fn.__module__))
            tool.lists_output_schema = list_output_schema
            self.tools.append(tool)
            return

        def build_metadata() -> FuncMetadata:
            built = build_tool(fn, tool_name, title, description, annotations, structured_output)
            return built.fn_metadata

        self.tools.append(
            published_tool(
                fn,
                name=tool_name,
                title=title,
                description=compact_description(description or fn.__doc__),
                annotations=compact_annotations(annotations, title) if annotations is not None else None,
                published=kept,
                build_metadata=build_metadata,
                icons=icons_of(family_of(fn.__module__)),
            )  # fmt: skip
        )

    def resource(self, uri: str, **options: Any) -> Callable[[F], F]:
        """Record a resource (same options as `MCPServer.resource`); `install` adds it to the server."""

        def record(fn: F) -> F:
            self._resources.append((uri, options, fn))
            if "mime_type" not in options:
                self.untyped.add(uri)
            return fn

        return record

    def list_resources_with(self, lister: ResourceLister) -> None:
        """Add to resources/list what `lister` gives (resources that are no fixed `resource`)."""
        self.listers.append(lister)

    def retype_reads_with(self, retyper: ReadRetyper) -> None:
        """Let `retyper` set the MIME types of what resources/read of a URI gives."""
        self.retypers.append(retyper)

    def unknown(self) -> list[str]:
        """Names given to `--tools` that no module offers."""
        return sorted((self.only or set()) - set(self.names))

    def install(self, server: MCPServer[Any]) -> None:
        """Add the recorded resources to `server`."""
        for uri, options, fn in self._resources:
            server.resource(uri, **options)(fn)


def build_tool(
    fn: Callable[..., Any],
    name: str,
    title: str | None,
    description: str | None,
    annotations: ToolAnnotations | None,
    structured_output: bool | None,
) -> HostTool:
    """The tool as `Tool.from_function` builds it, its published schemas compacted."""
    tool = HostTool.from_function(
        fn, name=name, title=title, description=description, annotations=annotations,
        structured_output=structured_output,
    )  # fmt: skip
    compact_tool(tool)
    assert isinstance(tool, HostTool)
    return tool
