"""The `usage` tool and the `workers-ai://usage` resource: spending from the shared store, per window and model.

A caller sees their own spending and budgets (`spending/caller.py`); an admin (an OAuth token with the
admin scope) and the local user (the only user of a local server) see every user's, with a short
breakdown per user.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated

from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from ..client import InvalidRequestError
from ..spending.caller import Caller, current_caller
from ..spending.ledger import (
    FREE_DAILY_NEURONS,
    Committed,
    ModelUsage,
    Standing,
    UserTotals,
    day_start,
    month_start,
    neurons,
)
from ..state import AppState
from .host.common import AppContext, state_of
from .host.registry import Registry
from .host.samples import Samples

LOCAL_READ = ToolAnnotations(
    title="Usage and estimated cost",
    read_only_hint=True,
    destructive_hint=False,
    idempotent_hint=True,
    open_world_hint=False,
)
NOTE = (
    "Costs are in USD: the neurons the answer reported ($0.011 per 1,000) where it reported them, else the "
    "catalog's price (tokens as reported, else about 4 characters each; cached prompt tokens at their own rate). "
    "Neurons are those dollars at $0.011 per 1,000, against the 10,000 free each UTC day. Calls whose price is "
    "unknown count as the fallback amount (fallback_usd), an estimate that is not counted as neurons. Only calls made "
    "through this server are counted, by every process sharing its store; Cloudflare's dashboard is authoritative."
)
EVERYONE = "*"


class Spend(BaseModel):
    """Calls, usage and estimated cost of one model, or of all ("*")."""

    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    units: dict[str, float] = Field(description="Other priced units used: steps, tiles, audio_minutes, characters.")
    cost_usd: float = Field(description="Estimated cost of the calls whose price is known.")
    fallback_usd: float = Field(description="What the calls of unknown price count as (the fallback amount each).")
    neurons: float = Field(description="Neurons: cost_usd / $0.011 per 1,000 (reported or priced; never the fallback).")
    unpriced_calls: int = Field(description="Calls whose price is unknown (catalog unreachable, no price listed).")
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
            fallback_usd=round(usage.fallback_usd, 8),
            neurons=round(neurons(usage.cost_usd), 2),
            unpriced_calls=usage.unpriced_calls,
            cached_calls=usage.cached_calls,
        )


class Window(BaseModel):
    """Spending from `start` (UTC) until now."""

    start: str
    total: Spend
    models: list[Spend] = Field(description="Per model, the most expensive first (the first 5 unless details).")
    models_not_shown: int = Field(default=0, description="Models left out of `models` (details=true shows all).")
    budget_usd: float | None = Field(
        default=None, description="The budget that limits you here (yours or the deployment's: less left), or null."
    )
    budget_left_usd: float | None = Field(
        default=None,
        description="What you may still spend: the least of your budget and the deployment's not yet spent or "
        "reserved by calls in flight and queued batches.",
    )


class UserSpend(BaseModel):
    """One user's counted spend (USD) today and this month, and what their calls in flight hold."""

    user: str
    today_usd: float
    month_usd: float
    held_usd: float

    @classmethod
    def of(cls, totals: UserTotals) -> UserSpend:
        return cls(
            user=totals.user,
            today_usd=round(totals.today, 8),
            month_usd=round(totals.month, 8),
            held_usd=round(totals.held, 8),
        )


class UsageReport(BaseModel):
    """Spending of one user (or of everyone): today, this month, and optionally since a given time."""

    user: str = Field(description="Whose spending is shown: your user id, or '*' for every user.")
    today: Window = Field(
        description="Since 00:00 UTC; budgets WORKERS_AI_MCP_USER_MAX_COST_USD (yours) and "
        "WORKERS_AI_MCP_MAX_COST_USD (the deployment's)."
    )
    month: Window = Field(
        description="Since the 1st, 00:00 UTC; budgets WORKERS_AI_MCP_USER_MAX_COST_USD_MONTHLY and "
        "WORKERS_AI_MCP_MAX_COST_USD_MONTHLY."
    )
    since: Window | None = Field(default=None, description="Since the time asked for.")
    free_daily_neurons: int
    free_neurons_left_today: float = Field(
        description="10,000 less today's reported or priced neurons (fallback amounts not counted); 0 once spent."
    )
    held_usd: float = Field(description="Reserved now by the calls in flight and queued batches of whom is shown.")
    per_call_cap_usd: float | None = Field(description="WORKERS_AI_MCP_MAX_CALL_COST_USD, or null.")
    unpriced_call_usd: float = Field(description="The fallback amount a call of unknown price counts as.")
    store: str = Field(description="The state file shared by every server process, or 'memory'.")
    users: list[UserSpend] | None = Field(
        default=None, description="With every user's spending: each user's, the most this month first."
    )
    users_not_shown: int = Field(default=0, description="Users left out of `users` (details=true shows all).")
    note: str


# Models (and users) listed per window by default: the report stays a few KB however many were used.
SUMMARY_MODELS = 5
SUMMARY_USERS = 10


def _binding(pairs: tuple[tuple[float | None, Committed, float], ...]) -> tuple[float | None, float | None]:
    """Of the budgets set among `(budget, committed, spent)`, the one with the least left, and what is left of
    it; (None, None) when none is set."""
    left = [(budget - spent - committed.held, budget) for budget, committed, spent in pairs if budget is not None]
    if not left:
        return None, None
    least, budget = min(left)
    return budget, round(max(0.0, least), 8)


async def report(
    state: AppState,
    since: float | None = None,
    model: str | None = None,
    *,
    top: int | None = None,
    caller: Caller | None = None,
) -> UsageReport:
    """The usage report from `state`'s store for `caller` (the request's): theirs, or everyone's for an admin;
    with `top`, each window lists only its `top` costliest models (and the report its `SUMMARY_USERS` users)."""
    spending = state.ai.spending
    ledger, budgets, store = spending.ledger, spending.budgets, spending.store
    caller = caller or current_caller()
    user = None if caller.admin else caller.user_id
    now = time.time()
    standing: Standing = await ledger.committed(caller.user_id)
    shown = standing.total if user is None else standing.user

    async def window(start: float, budget: float | None, left: float | None) -> Window:
        models = await ledger.totals(start, user=user)
        shown = [m for m in models if model is None or m.model == model]
        total = ModelUsage("*" if model is None else model)
        for usage in shown:  # the totals of what is shown: one model's when filtered
            total.calls += usage.calls
            total.prompt_tokens += usage.prompt_tokens
            total.completion_tokens += usage.completion_tokens
            for unit, amount in usage.units.items():
                total.units[unit] = round(total.units.get(unit, 0.0) + amount, 6)
            total.cost_usd += usage.cost_usd
            total.fallback_usd += usage.fallback_usd
            total.unpriced_calls += usage.unpriced_calls
            total.cached_calls += usage.cached_calls
        return Window(
            start=datetime.fromtimestamp(start, UTC).isoformat(timespec="seconds"),
            total=Spend.of(total),
            models=[Spend.of(m) for m in shown[:top]],
            models_not_shown=max(0, len(shown) - top) if top is not None else 0,
            budget_usd=budget,
            budget_left_usd=left,
        )

    mine, everyone = standing.user, standing.total
    daily = _binding(((budgets.user_daily, mine, mine.today), (budgets.daily, everyone, everyone.today)))
    monthly = _binding(((budgets.user_monthly, mine, mine.month), (budgets.monthly, everyone, everyone.month)))
    today = await window(day_start(now), *daily)
    today_cost = sum(usage.cost_usd for usage in await ledger.totals(day_start(now)))  # the account's, every user
    note = NOTE if store.shared else f"Spending is kept in memory for this server process only: {store.problem}. {NOTE}"
    users = [UserSpend.of(totals) for totals in await ledger.per_user()] if user is None else None
    if users is not None and all(u.user == caller.user_id for u in users):
        users = None  # the only user there is: the windows say it all
    limit = None if top is None else SUMMARY_USERS
    return UsageReport(
        user=EVERYONE if user is None else user,
        today=today,
        month=await window(month_start(now), *monthly),
        since=await window(since, None, None) if since is not None else None,
        free_daily_neurons=FREE_DAILY_NEURONS,
        free_neurons_left_today=round(max(0.0, FREE_DAILY_NEURONS - neurons(today_cost)), 2),
        held_usd=round(shown.held, 8),
        per_call_cap_usd=budgets.per_call,
        unpriced_call_usd=budgets.fallback,
        store=store.where if store.shared else "memory",
        users=users[:limit] if users is not None else None,
        users_not_shown=max(0, len(users) - limit) if users is not None and limit is not None else 0,
        note=note,
    )


def parse_since(text: str) -> float:
    """An ISO 8601 date or time (UTC unless it names an offset) as a timestamp."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequestError(
            f"since={text!r} is not a date or time; give ISO 8601 such as 2026-05-01 or 2026-05-01T09:30:00Z."
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def usage(
    ctx: AppContext,
    since: Annotated[
        str | None, Field(max_length=40, description="Also total the calls since this ISO 8601 date or time (UTC).")
    ] = None,
    details: Annotated[bool, Field(description="List every model and user, not only the costliest.")] = False,
) -> CallToolResult:
    """Your calls, tokens, estimated cost and neurons per model today and this month (an admin's: every user's);
    budget left; calls of unknown price. Free."""
    # Structured content without a published output schema: the report's schema would cost the tool
    # list about 800 bytes of its budget (DESIGN §10); the resource workers-ai://usage has the same JSON.
    # By default each window lists its 5 costliest models, so that the answer stays a few KB.
    top = None if details else SUMMARY_MODELS
    found = await report(state_of(ctx), parse_since(since) if since is not None else None, top=top)
    structured = found.model_dump(mode="json")
    text = TextContent(type="text", text=json.dumps(structured, ensure_ascii=False, separators=(",", ":")))
    return CallToolResult(content=[text], structured_content=structured)


SAMPLES: Samples = {"usage": {}}


def register(server: Registry) -> None:
    """Add the usage tool and the `workers-ai://usage` resource to `server`."""
    server.add_tool(usage, title="Usage and estimated cost", annotations=LOCAL_READ)

    # The optional `?model=` filter also makes this a template, the only kind of resource given a context.
    @server.resource(
        "workers-ai://usage{?model}",
        name="usage",
        title="Usage and estimated cost",
        description="Calls, tokens, estimated cost and neurons per model today and this month, and the budget "
        "left (JSON); ?model=<id> for one model.",
        mime_type="application/json",
    )
    async def read_usage(ctx: AppContext, model: str | None = None) -> str:
        return (await report(state_of(ctx), model=model)).model_dump_json(indent=2)
