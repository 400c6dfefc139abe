"""The `usage` tool and the `workers-ai://usage` resource: what this server process has spent, per model."""

from __future__ import annotations

from datetime import UTC, datetime

from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ..account.ledger import ModelUsage
from ..state import AppState
from ._common import AppContext, state_of
from .registry import Registry

LOCAL_READ = ToolAnnotations(
    title="Usage and estimated cost",
    read_only_hint=True,
    destructive_hint=False,
    idempotent_hint=True,
    open_world_hint=False,
)
NOTE = (
    "Costs are estimates in USD from the catalog's prices (tokens counted as reported, else about 4 "
    "characters each); Cloudflare bills in neurons, with a daily free allocation, and its bill is authoritative."
)


class Spend(BaseModel):
    """Calls, usage and estimated cost of one model, or of all ("*")."""

    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    units: dict[str, float] = Field(description="Other priced units used: steps, tiles, audio_minutes, characters.")
    cost_usd: float = Field(description="Estimated cost of the calls whose price is known.")
    unpriced_calls: int = Field(description="Calls whose cost is unknown (no price in the catalog).")
    cached_calls: int = Field(description="Calls answered from the AI Gateway cache (not billed).")

    @classmethod
    def of(cls, usage: ModelUsage) -> Spend:
        return cls(
            model=usage.model,
            calls=usage.calls,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            units=dict(usage.units),
            cost_usd=round(usage.cost_usd, 8),
            unpriced_calls=usage.unpriced_calls,
            cached_calls=usage.cached_calls,
        )


class UsageReport(BaseModel):
    """What this server process has used and spent since it started."""

    since: str = Field(description="When this server process started (UTC).")
    total: Spend
    models: list[Spend] = Field(description="Per model, the most expensive first.")
    budget_usd: float | None = Field(description="WORKERS_AI_MCP_MAX_COST_USD, or null when no budget is set.")
    budget_left_usd: float | None = Field(description="Budget not yet spent or committed to queued batches.")
    per_call_cap_usd: float | None = Field(description="WORKERS_AI_MCP_MAX_CALL_COST_USD, or null.")
    note: str


def report(state: AppState) -> UsageReport:
    """The usage report of `state`'s ledger."""
    spending = state.ai.spending
    ledger = spending.ledger
    budget = spending.guard.max_cost_usd
    left = None if budget is None else round(max(0.0, budget - ledger.spent - ledger.held), 8)
    return UsageReport(
        since=datetime.fromtimestamp(ledger.started_at, UTC).isoformat(timespec="seconds"),
        total=Spend.of(ledger.totals()),
        models=[Spend.of(m) for m in ledger.models()],
        budget_usd=budget,
        budget_left_usd=left,
        per_call_cap_usd=spending.guard.max_call_cost_usd,
        note=NOTE,
    )


async def usage(ctx: AppContext) -> UsageReport:
    """Calls, tokens and estimated cost per model since the server started, and the budget left. Free."""
    return report(state_of(ctx))


def register(server: Registry) -> None:
    """Add the usage tool and the `workers-ai://usage` resource to `server`."""
    server.add_tool(usage, title="Usage and estimated cost", annotations=LOCAL_READ)

    # The optional `?model=` filter also makes this a template, the only kind of resource given a context.
    @server.resource(
        "workers-ai://usage{?model}",
        name="usage",
        title="Usage and estimated cost",
        description="Calls, tokens and estimated cost per model since the server started (JSON); "
        "?model=<id> for one model.",
        mime_type="application/json",
    )
    def read_usage(ctx: AppContext, model: str | None = None) -> str:
        full = report(state_of(ctx))
        if model is not None:
            full.models = [m for m in full.models if m.model == model]
        return full.model_dump_json(indent=2)
