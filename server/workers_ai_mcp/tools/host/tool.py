"""Our layer around every tool call: argument errors in sentences, failures translated, results fitted to the host.

The SDK validates a call's arguments in `Tool.run` before the tool function runs, and turns a failure
into `ToolError(f"Error executing tool {name}: {pydantic text}")` whose `__cause__` is the
`ValidationError`; anything else a tool raises becomes `UnexpectedToolError("Error executing tool
{name}")` (the bare crash message) whose `__cause__` is what was raised. `HostTool` subclasses the
SDK's public `Tool` and overrides `run` to rewrite the argument error, to translate every anticipated
failure (a `WorkersAIError` and its kinds, whose text is written for the assistant) into
a `ToolError` carrying that sentence, for every tool (no tool needs a decorator for it), to refuse
unknown arguments (the SDK drops them silently), to bound every error's length, to fit the result
to the session's protocol version (`Context.protocol_version`), and to set the spending-consent gate
of the call (`consent.py`), answering an input-required round where the person must be asked.

The registry builds every tool as a `HostTool` (through the public `Tool.from_function`) and hands
them to `MCPServer(tools=...)`; tests/tools/host/test_tool.py fails loudly if the SDK changes what
the override relies on (`Tool.run`'s signature and the `ValidationError` cause).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import CallToolResult, Icon, ToolAnnotations
from pydantic import ValidationError

from ...catalog.task_tools import CURRENT_TOOL
from ...client import WorkersAIError
from ...inference import CALL_GATE
from ...state import AppState
from .advice import error_text
from .arguments import argument_error, bounded, unknown_arguments_error
from .consent import InputNeeded, SessionGate
from .essentials import reads_structured_only, with_essentials
from .media_blocks import cap_call_result
from .protocol import fit_result
from .results import compact_copies
from .schemas import Published

# Failures a tool may raise on purpose: their text is a sentence the assistant can act on.


class HostTool(Tool):
    """A registered tool whose calls go through our argument, error and content policies."""

    lists_output_schema: bool = True  # False: tools/list shows no output schema (Registry.add_tool)

    @cached_property
    def output_schema(self) -> dict[str, Any] | None:  # what tools/list shows; results keep their structure
        return self.fn_metadata.output_schema if self.lists_output_schema else None

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        unknown = set(arguments) - self.argument_names()
        if unknown:
            raise ToolError(unknown_arguments_error(self.name, unknown, self.parameters))
        # Spending consent: calls above the threshold are put to the person (consent.py); a gate
        # already set (a dry run of this tool) stays.
        gate = CALL_GATE.set(CALL_GATE.get() or SessionGate(context, self.name, self.title or self.name))
        running = CURRENT_TOOL.set(self.name)
        try:
            result = await super().run(arguments, context, convert_result)
        except UnexpectedToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, InputNeeded):  # 2026-07-28: ask the person, the client retries the call
                return cause.result
            if isinstance(cause, WorkersAIError):
                # The same words a `ToolError` raised by the tool gets from the SDK.
                raise ToolError(bounded(f"Error executing tool {self.name}: {error_text(cause)}")) from None
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(argument_error(self.name, cause, self.parameters)) from cause
            raise ToolError(bounded(str(exc))) from cause
        finally:
            CURRENT_TOOL.reset(running)
            CALL_GATE.reset(gate)
        if isinstance(result, CallToolResult):
            result = compact_copies(result)
            version = context.protocol_version
            if version is not None:
                state: AppState = context.request_context.lifespan_context
                if reads_structured_only(context, state.settings):
                    result = with_essentials(result, state.settings)
                return fit_result(cap_call_result(result, state.settings), version, state.settings)
        return result

    def argument_names(self) -> set[str]:
        """Names a call may use: the argument model's fields and their aliases."""
        fields = self.fn_metadata.arg_model.model_fields
        return set(fields) | {field.alias for field in fields.values() if field.alias}


BUILD_METADATA = "_build_metadata"  # kept beside the fields until `fn_metadata` is first read


class PublishedHostTool(HostTool):
    """A `HostTool` made from its published schemas; the SDK's argument model is built on the first call.

    Building the pydantic argument and output models of 21 tools is most of a cold start's own work,
    and `tools/list` needs only their JSON Schemas, which `published.json` holds (see `schemas.py`).
    The first read of `fn_metadata` (the first call, or anything else that asks) builds it exactly as
    `Tool.from_function` does, so arguments are validated as strictly as ever.
    """

    def __getattr__(self, name: str) -> Any:  # only for attributes not set: `fn_metadata` until built
        fields = vars(self)
        if name == "fn_metadata" and BUILD_METADATA in fields:
            fields["fn_metadata"] = fields.pop(BUILD_METADATA)()
            return fields["fn_metadata"]
        # pydantic's (private attributes, then AttributeError); it is hidden from type checkers
        return super().__getattr__(name)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]


def published_tool(
    fn: Callable[..., Any],
    *,
    name: str,
    title: str | None,
    description: str,
    annotations: ToolAnnotations | None,
    published: Published,
    build_metadata: Callable[[], FuncMetadata],
    icons: list[Icon] | None = None,
) -> HostTool:
    """A tool whose `tools/list` entry is `published`, without building its argument model now."""
    tool = PublishedHostTool.model_construct(
        fn=fn,
        name=name,
        title=title,
        description=description,
        parameters=published.parameters,
        is_async=published.is_async,
        context_kwarg=published.context_kwarg,
        resolved_params={},
        resolver_plans={},
        annotations=annotations,
        icons=icons,
        meta=None,
    )
    fields = vars(tool)
    fields["output_schema"] = published.output_schema  # `Tool.output_schema` is a cached property
    fields[BUILD_METADATA] = build_metadata
    return tool
