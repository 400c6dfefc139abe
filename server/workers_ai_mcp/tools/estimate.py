"""The `estimate_cost` tool: what a call of a billed tool would cost, without making it (a dry run).

The tool named is run as usual with a dry-run gate set (`inference.CALL_GATE`): its inputs are read
and checked, its model's schema and price looked up, and its first model call is handed to the gate,
which records the estimate and stops it before anything is sent. So the estimate is the one the
spending guard and the consent question would use for that very call. Only billed tools are run so
(their description carries the cost note); any other tool is free and is not run at all.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from ..client import InvalidRequestError
from ..inference import CALL_GATE, CONFIRM_SETTING, PlannedCall
from ..spending.ledger import usd
from .host.common import COST_NOTE, AppContext, state_of
from .host.registry import Registry
from .host.samples import Samples

FREE_READ = ToolAnnotations(
    title="Estimate a call's cost",
    read_only_hint=True,
    destructive_hint=False,
    idempotent_hint=True,
    open_world_hint=True,
)


class DryRunStop(Exception):
    """Raised by the dry-run gate in place of sending the call."""


class DryRun:
    """A gate that records the first call's estimate and stops it."""

    every_call = True

    def __init__(self) -> None:
        self.planned: PlannedCall | None = None

    async def __call__(self, planned: PlannedCall) -> None:
        self.planned = planned
        raise DryRunStop


async def estimate_cost(
    ctx: AppContext,
    tool: Annotated[str, Field(max_length=64, description="A billed tool's name, such as generate_image.")],
    arguments: Annotated[
        dict[str, Any] | None, Field(description="The arguments the call would have, as for the tool itself.")
    ] = None,
) -> CallToolResult:
    """Estimate a billed tool call's cost without making it: inputs and model checked, nothing sent. Free."""
    server = ctx.mcp_server
    listed = {entry.name: entry for entry in await server.list_tools()}
    entry = listed.get(tool)
    if entry is None or tool == "estimate_cost":
        raise InvalidRequestError(f"{tool!r} is not a billed tool of this server; see tools/list.")
    if COST_NOTE not in (entry.description or ""):
        raise InvalidRequestError(f"{tool} is free: it runs no billed model call, so there is nothing to estimate.")
    gate = DryRun()
    token = CALL_GATE.set(gate)
    try:
        await server.call_tool(tool, arguments or {}, ctx)
    except Exception as exc:
        if gate.planned is None:  # the call failed before reaching a model: say why, as the tool would
            raise InvalidRequestError(f"The call would not be sent: {exc}") from None
    finally:
        CALL_GATE.reset(token)
    planned = gate.planned
    if planned is None:
        raise InvalidRequestError(f"This call of {tool} runs no model (nothing would be billed).")
    return estimate_result(tool, planned, state_of(ctx).settings.confirm_above_usd)


def estimate_result(tool: str, planned: PlannedCall, threshold: float | None) -> CallToolResult:
    asks = threshold is not None and planned.estimate_usd > threshold
    data: dict[str, Any] = {
        "tool": tool,
        "model": planned.model,
        "estimate_usd": round(planned.estimate_usd, 8),
        "price_known": planned.price_known,
        "unknown_because": planned.unknown_because,
        "budget_left_usd": planned.budget_left_usd,
        "confirm_above_usd": threshold,
        "would_ask_first": asks,
    }
    budget = "" if planned.budget_left_usd is None else f" Budget left: {usd(planned.budget_left_usd)}."
    ask = f" Above {CONFIRM_SETTING}: the person would be asked first." if asks else ""
    summary = f"{tool} with {planned.model}: estimated {planned.cost_words}; nothing was sent.{budget}{ask}"
    data["summary"] = summary
    text = TextContent(type="text", text=json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return CallToolResult(content=[text], structured_content=data)


SAMPLES: Samples = {"estimate_cost": {"tool": "generate_image", "arguments": {"prompt": "a lighthouse at dusk"}}}


def register(server: Registry) -> None:
    """Add `estimate_cost` to `server`."""
    server.add_tool(estimate_cost, title="Estimate a call's cost", annotations=FREE_READ)
