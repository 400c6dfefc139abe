"""Tools listed from `published.json` before their modules are imported; the modules load on first need.

A start must answer `initialize` and `tools/list` quickly, and the tool modules (with the client,
catalog and spending packages they import, and the pydantic models they define) are most of what
an import of the package costs. So the server is built with one `ListedTool` per kept entry
(`schemas.py`), which serves `tools/list` from the entry; the first `tools/call` (or resource
request, see `app.WorkersAIServer`) imports every tool module once (`ToolLoader.load`) and the
call runs on the real `HostTool` (`registry.py`, `tool.py`): same arguments checks, same errors.

Without kept entries (no `published.json`), `ToolLoader.listed` loads the modules at once and lists
the real tools, as before. The kept entries are checked against the modules by
tests/tools/test_published_schemas.py.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool

from .icons import icons_of
from .schemas import Published, load_published

if TYPE_CHECKING:
    from .registry import Registry

logger = logging.getLogger(__name__)

REFRESH = "uv run python scripts/refresh.py"


class ListedTool(Tool):
    """A tool as `tools/list` shows it; a call runs the real tool, loading the tool modules first."""

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        resolve: Callable[[str], Tool | None] = vars(self)[RESOLVE]
        real = resolve(self.name)
        if real is None:
            raise ToolError(f"Unknown tool: {self.name}")
        return await real.run(arguments, context, convert_result)


RESOLVE = "_resolve"  # kept beside the fields: the function that gives the real tool of a name


def listed_tool(name: str, entry: Published, resolve: Callable[[str], Tool | None]) -> ListedTool:
    tool = ListedTool.model_construct(
        fn=_not_loaded,
        name=name,
        title=entry.title,
        description=entry.description,
        parameters=entry.parameters,
        is_async=entry.is_async,
        context_kwarg=entry.context_kwarg,
        resolved_params={},
        resolver_plans={},
        annotations=entry.tool_annotations(),
        icons=icons_of(entry.family),
        meta=None,
    )
    fields = vars(tool)
    fields["output_schema"] = entry.output_schema  # `Tool.output_schema` is a cached property
    fields[RESOLVE] = resolve
    return tool


async def _not_loaded(**_: Any) -> Any:
    raise RuntimeError("a listed tool runs through its real tool")  # `ListedTool.run` never calls it


class ToolLoader:
    """The tool modules, imported and registered once, when first needed."""

    def __init__(self, modules: Sequence[str], only: Collection[str] | None = None) -> None:
        self.modules = tuple(modules)
        self.only = only
        self.published = load_published()
        self._registry: Registry | None = None
        self._by_name: dict[str, Tool] = {}

    @property
    def names(self) -> list[str]:
        """Every tool offered (before loading: as kept)."""
        return self._registry.names if self._registry is not None else list(self.published)

    @property
    def loaded(self) -> Registry | None:
        return self._registry

    def listed(self) -> list[Tool]:
        """The tools to hand to the server: listed from the kept entries, or (without any) loaded now."""
        if not self.published:
            return self.load().tools
        wanted = set(self.only) if self.only else None
        return [
            listed_tool(name, entry, self.tool)
            for name, entry in self.published.items()
            if wanted is None or name in wanted
        ]

    def load(self) -> Registry:
        """Import every tool module and register its tools and resources (once)."""
        if self._registry is None:
            from .registry import Registry

            registry = Registry(self.only, published=self.published)
            for module in self.modules:
                importlib.import_module(module).register(registry)
            if self.published and registry.names != list(self.published):
                logger.warning("tools/host/published.json does not match the tool modules; run %s", REFRESH)
            self._registry = registry
            self._by_name = {tool.name: tool for tool in registry.tools}
        return self._registry

    def tool(self, name: str) -> Tool | None:
        """The real tool of `name` (loading the modules if need be)."""
        if self._registry is None:
            self.load()
        return self._by_name.get(name)
