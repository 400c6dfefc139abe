"""Spending in the shared store: metered calls, reservations of calls in flight, budgets over windows.

Budgets are windows of UTC time (today, this month) shared by every server process of the deployment:
the deployment's budgets count every user's calls together, each user's budgets count that user's
(`caller.py` says who calls; every record, reservation and day total names its user). A call's
estimate is checked against each window, the user's and the deployment's, and reserved in one write
transaction, so two processes cannot both spend the last cent; amounts are compared as exact decimals (to 1e-12 USD),
so $0.30 holds three calls of $0.10. A reservation names its process and when that process started,
and expires (at the call's deadline plus a margin, or at once when its process is gone: exited, a
zombie, or its pid now another process's), so a killed process does not hold budget for ever. A
call whose price cannot be known counts as the fallback amount. An answered call's record is written
behind its answer (see `record`). Calls older than `KEEP_DAYS` are dropped, by age relative to the
newest record (see `_prune`), so a clock that jumps never erases history. (Over 300 lines: the
budget checks and their refusal texts read the same windows the records write.)
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from ..client.errors import InvalidRequestError
from .caller import LOCAL_USER
from .liveness import own_start, owner_alive
from .pricing import COMPLETION_TOKENS, PROMPT_TOKENS
from .store import Connection, StateStore, StoreLockedError, transaction

BUDGET_SETTING = "WORKERS_AI_MCP_MAX_COST_USD"
MONTHLY_SETTING = "WORKERS_AI_MCP_MAX_COST_USD_MONTHLY"
USER_BUDGET_SETTING = "WORKERS_AI_MCP_USER_MAX_COST_USD"
USER_MONTHLY_SETTING = "WORKERS_AI_MCP_USER_MAX_COST_USD_MONTHLY"
CALL_CAP_SETTING = "WORKERS_AI_MCP_MAX_CALL_COST_USD"
FALLBACK_SETTING = "WORKERS_AI_MCP_UNPRICED_CALL_USD"
USD_PER_1000_NEURONS = 0.011  # Cloudflare's price of neurons beyond the free allocation
FREE_DAILY_NEURONS = 10_000
KEEP_DAYS = 400  # calls this much older than the newest record are dropped from the store
# Pruning waits while the records it would keep start more than this after its cutoff: such a gap is a
# clock that jumped forward (or a server left unused), and dropping across it could erase all history.
PRUNE_GAP_DAYS = 30
MONEY_RESOLUTION = Decimal("1e-12")  # USD; far below any price step, far above float noise on dollars
BATCH_HOLD_SECONDS = 24 * 3600  # a queued batch's estimate is held at most this long
_NOT_UNITS = frozenset({PROMPT_TOKENS, COMPLETION_TOKENS, "total_tokens"})


class BudgetExceededError(InvalidRequestError):
    """A call was refused before sending because its estimated cost would cross a configured cap."""


@dataclass(frozen=True)
class Estimate:
    """What a call is counted as before it is sent; `unknown_because` says why the price is not known."""

    amount: float
    unknown_because: str | None = None


@dataclass(frozen=True)
class Budgets:
    """The deployment's budgets (`daily`, `monthly`: every user together), each user's, and the per-call cap."""

    daily: float | None = None
    monthly: float | None = None
    per_call: float | None = None
    fallback: float = 0.01
    user_daily: float | None = None
    user_monthly: float | None = None

    @property
    def windowed(self) -> bool:
        """True when any budget over a window (today, this month) is set."""
        return any(b is not None for b in (self.daily, self.monthly, self.user_daily, self.user_monthly))

    @property
    def active(self) -> bool:
        return self.windowed or self.per_call is not None


@dataclass
class ModelUsage:
    """Totals for one model (or, with model "*", for all)."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    units: dict[str, float] = field(default_factory=dict[str, float])
    cost_usd: float = 0.0  # calls whose price is known
    fallback_usd: float = 0.0  # calls whose price is unknown, at the fallback amount
    unpriced_calls: int = 0
    cached_calls: int = 0

    def add(self, usage: Mapping[str, float], cost: float | None, counted: float, *, cached: bool) -> None:
        self.calls += 1
        self.prompt_tokens += int(usage.get(PROMPT_TOKENS, 0))
        self.completion_tokens += int(usage.get(COMPLETION_TOKENS, 0))
        for unit, amount in usage.items():
            if unit not in _NOT_UNITS:
                self.units[unit] = round(self.units.get(unit, 0.0) + amount, 6)
        if cost is not None:
            self.cost_usd += cost
        elif not cached:
            self.unpriced_calls += 1
            self.fallback_usd += counted
        self.cached_calls += int(cached)

    @property
    def counted_usd(self) -> float:
        return self.cost_usd + self.fallback_usd


@dataclass(frozen=True)
class Committed:
    """Counted spend of the current UTC day and month, and what is reserved by calls in flight."""

    today: float
    month: float
    held: float


@dataclass(frozen=True)
class Standing:
    """What one user (`user`) and the whole deployment (`total`) have spent and hold now."""

    user: Committed
    total: Committed

    def left(self, budgets: Budgets) -> float | None:
        """What the user may still spend: the least left of every budget that applies, or None when none is set."""
        pairs = (
            (budgets.daily, self.total.today, self.total.held),
            (budgets.monthly, self.total.month, self.total.held),
            (budgets.user_daily, self.user.today, self.user.held),
            (budgets.user_monthly, self.user.month, self.user.held),
        )
        left = [budget - spent - held for budget, spent, held in pairs if budget is not None]
        return round(max(0.0, min(left)), 8) if left else None


def dollars(amount: float | None) -> Decimal:
    """An amount of USD as an exact decimal, without the binary noise of its float (0.1 + 0.2 is 0.3)."""
    return Decimal(repr(float(amount or 0.0))).quantize(MONEY_RESOLUTION)


def neurons(amount_usd: float) -> float:
    """Estimated neurons for a USD amount, at Cloudflare's $0.011 per 1,000 neurons."""
    return amount_usd / USD_PER_1000_NEURONS * 1000


def day_start(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_start(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


class Ledger:
    """Budgets checked, calls recorded and reports read, all in the store."""

    def __init__(self, store: StateStore, budgets: Budgets, *, call_ttl: float = 120.0) -> None:
        self.store = store
        self.budgets = budgets
        self.call_ttl = call_ttl
        self._pruned = False

    async def reserve(self, key: str, model: str, estimate: Estimate, user: str = LOCAL_USER) -> None:
        """Refuse (`BudgetExceededError`) or reserve `estimate` for `user`'s call about to be sent, atomically:
        the user's windows and the deployment's are checked and the reservation written in one transaction."""
        self._check_cap(model, estimate)
        if not self.budgets.windowed:
            return
        pid = os.getpid()
        started = own_start(pid)
        instance = self.store.instance

        def work(conn: Connection) -> None:
            now = time.time()
            _expire(conn, now, instance)
            self._check_windows(model, estimate, _standing(conn, now, user))
            conn.execute(
                "INSERT INTO reservations (id, model, amount, pid, created, expires, pid_start, instance, user_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, model, estimate.amount, pid, now, now + self.call_ttl, started, instance, user),
            )

        await self.store.run(lambda conn: transaction(conn, work))

    async def hold_batch(
        self, job: str, model: str, amount: float, prompt_tokens: float, user: str = LOCAL_USER
    ) -> None:
        """Hold a queued batch's estimate for `user` (owned by no process) until its results are priced."""
        now = time.time()
        await self.store.run(
            lambda conn: conn.execute(
                "INSERT INTO reservations (id, model, amount, pid, created, expires, prompt_tokens, user_id) "
                "VALUES (?, ?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET model = excluded.model, "
                "amount = excluded.amount, pid = NULL, created = excluded.created, expires = excluded.expires, "
                "prompt_tokens = excluded.prompt_tokens, pid_start = NULL, instance = NULL, user_id = excluded.user_id",
                (f"batch:{job}", model, amount, now, now + BATCH_HOLD_SECONDS, prompt_tokens, user),
            )
        )

    async def batch_prompt_tokens(self, job: str) -> float | None:
        def read(conn: Connection) -> float | None:
            row = conn.execute("SELECT prompt_tokens FROM reservations WHERE id = ?", (f"batch:{job}",)).fetchone()
            return None if row is None else row[0]

        return await self.store.run(read)

    async def release(self, key: str) -> None:
        await self.store.run(lambda conn: conn.execute("DELETE FROM reservations WHERE id = ?", (key,)))

    async def record(
        self,
        model: str,
        usage: Mapping[str, float] | None,
        cost: float | None,
        *,
        cached: bool = False,
        kind: str = "call",
        release: str | None = None,
        user: str = LOCAL_USER,
    ) -> float:
        """Record one answered call of `user` (and drop its reservation) in one transaction; returns the amount
        counted, which joins the deployment's day total and the user's.

        The write is queued (`StateStore.defer`), not awaited: until it lands, the call's reservation
        (dropped in the same transaction) still holds its estimate for every other process, and this
        process writes it before its next budget check or report.
        """
        counted = 0.0 if cached else (cost if cost is not None else self.budgets.fallback)
        now = time.time()
        row: CallRow = (now, model, json.dumps(usage or {}), cost, counted, int(cached), kind, os.getpid(), user)
        prune = not self._pruned
        self._pruned = True

        def work(conn: Connection) -> None:
            if prune:
                _prune(conn, now)  # before this record: it must not count as the newest
            _write_call(conn, row, release)

        if self.store.opened:
            self.store.defer(work)  # written behind the answer; every later check or report writes it first
            return counted
        try:  # the first use opens the file, and finds out whether it must fall back to memory
            await self.store.run(lambda conn: transaction(conn, work))
        except StoreLockedError:
            self.store.defer(work)  # the call was answered: its record waits for the lock, it is not lost
        return counted

    async def record_batch(
        self, job: str, model: str, usage: Mapping[str, float] | None, cost: float | None, user: str = LOCAL_USER
    ) -> float | None:
        """Record the results of batch `job` (and drop its hold) unless they were counted before; returns the
        amount counted, or None when they had been (fetched again by another replica, or after their file
        was deleted). Written at once, not queued: the check and the record are one transaction."""
        counted = cost if cost is not None else self.budgets.fallback
        now = time.time()
        row: CallRow = (now, model, json.dumps(usage or {}), cost, counted, 0, "batch", os.getpid(), user)

        def work(conn: Connection) -> bool:
            found = conn.execute("SELECT results_counted FROM batches WHERE job_id = ?", (job,)).fetchone()
            if found is not None and found[0]:
                conn.execute("DELETE FROM reservations WHERE id = ?", (f"batch:{job}",))
                return False
            _write_call(conn, row, f"batch:{job}")
            conn.execute("UPDATE batches SET results_counted = 1 WHERE job_id = ?", (job,))
            return True

        return counted if await self.store.run(lambda conn: transaction(conn, work)) else None

    async def committed(self, user: str = LOCAL_USER) -> Standing:
        """What `user` and the whole deployment have spent today and this month, and hold now."""

        def read(conn: Connection) -> Standing:
            now = time.time()
            transaction(conn, lambda c: _expire(c, now, self.store.instance))
            return _standing(conn, now, user)

        return await self.store.run(read)

    async def per_user(self) -> list[UserTotals]:
        """Every user's spend today and this month and what they hold now, the most this month first."""

        def read(conn: Connection) -> list[UserTotals]:
            now = time.time()
            today = _day(now)
            found: dict[str, UserTotals] = {}
            days = "SELECT user_id, day, counted_usd FROM user_days WHERE day >= ?"
            for user, day, counted in conn.execute(days, (_day(month_start(now)),)):
                totals = found.setdefault(user, UserTotals(user))
                totals.month += counted
                totals.today += counted if day == today else 0.0
            for user, held in conn.execute("SELECT user_id, SUM(amount) FROM reservations GROUP BY user_id"):
                found.setdefault(user, UserTotals(user)).held += held or 0.0
            return sorted(found.values(), key=lambda t: (-t.month, -t.held, t.user))

        return await self.store.run(read)

    async def totals(self, since: float, until: float | None = None, *, user: str | None = None) -> list[ModelUsage]:
        """Per-model totals of the calls from `since` (to `until`) of `user` (None: everyone's), the most
        expensive first."""

        def read(conn: Connection) -> list[tuple[str, str, float | None, float, int]]:
            query = "SELECT model, usage, cost_usd, counted_usd, cached FROM calls WHERE at >= ? AND at < ?"
            bounds: tuple[object, ...] = (since, until if until is not None else math.inf)
            if user is not None:
                query, bounds = query + " AND user_id = ?", (*bounds, user)
            return conn.execute(query, bounds).fetchall()

        models: dict[str, ModelUsage] = {}
        for model, usage, cost, counted, cached in await self.store.run(read):
            models.setdefault(model, ModelUsage(model)).add(_usage(usage), cost, counted, cached=bool(cached))
        return sorted(models.values(), key=lambda m: (-m.counted_usd, -m.calls, m.model))

    # ---- checks ----------------------------------------------------------------------------------

    def _check_cap(self, model: str, estimate: Estimate) -> None:
        cap = self.budgets.per_call
        if cap is None or dollars(estimate.amount) <= dollars(cap):
            return
        if estimate.unknown_because is not None:
            raise BudgetExceededError(
                f"This call to {model} has no known price ({estimate.unknown_because}), so it counts as the "
                f"fallback {usd(estimate.amount)} ({FALLBACK_SETTING}), more than the per-call cap of {usd(cap)} "
                f"({CALL_CAP_SETTING}); nothing was sent. Lower {FALLBACK_SETTING} to allow calls of unknown "
                f"price, or raise {CALL_CAP_SETTING}."
            )
        raise BudgetExceededError(
            f"This call to {model} could cost up to about {usd(estimate.amount)}, more than the per-call cap of "
            f"{usd(cap)} ({CALL_CAP_SETTING}); nothing was sent. Ask for less (fewer max_tokens, steps or pixels, "
            f"a shorter input), or raise {CALL_CAP_SETTING}."
        )

    def _check_windows(self, model: str, estimate: Estimate, standing: Standing) -> None:
        """Refuse when the estimate would cross the user's budget or the deployment's, today or this month."""
        budgets, mine, total = self.budgets, standing.user, standing.total
        daily, monthly = "It resets at 00:00 UTC", "It resets on the 1st at 00:00 UTC"
        windows = (
            (True, "today (UTC)", "daily", budgets.user_daily, USER_BUDGET_SETTING, mine.today, mine.held, daily),
            (True, "this month (UTC)", "monthly", budgets.user_monthly, USER_MONTHLY_SETTING, mine.month, mine.held,
             monthly),
            (False, "today (UTC)", "daily", budgets.daily, BUDGET_SETTING, total.today, total.held, daily),
            (False, "this month (UTC)", "monthly", budgets.monthly, MONTHLY_SETTING, total.month, total.held,
             monthly),
        )  # fmt: skip
        for yours, span, label, budget, setting, spent, held, resets in windows:
            if budget is None:
                continue
            already = dollars(spent) + dollars(held)
            if already + dollars(estimate.amount) <= dollars(budget) and already < dollars(budget):
                continue
            raise BudgetExceededError(
                self._refusal(model, estimate, yours, float(already), f"{span} of", f"{usd(budget)} {label}", setting)
                + f" {resets}; {'the operator can raise' if yours else 'raise'} {setting} to spend more now (the "
                "usage tool shows where it went)."
            )

    def _refusal(
        self, model: str, estimate: Estimate, yours: bool, already: float, span: str, budget: str, setting: str
    ) -> str:
        """The first sentence of a budget refusal: what the call costs, and whose budget it would cross."""
        if estimate.unknown_because is not None:
            what = (
                f"has no known price ({estimate.unknown_because}), so it counts as {usd(estimate.amount)} "
                f"({FALLBACK_SETTING})"
            )
        else:
            what = f"could cost up to about {usd(estimate.amount)}"
        memory = f"this process (its spending is kept in memory: {self.store.problem})"
        if yours:
            where = "" if self.store.shared else f" in {memory}"
            return (
                f"This call to {model} {what}, and you have already spent or committed about {usd(already)}{where} "
                f"{span} your {budget} budget ({setting}); nothing was sent."
            )
        scope = "every user and server process of this deployment" if self.store.shared else memory
        return (
            f"This call to {model} {what}, and {scope} has already spent or committed about {usd(already)} {span} "
            f"the deployment's {budget} budget ({setting}); nothing was sent."
        )


# A row of `calls`: at, model, usage (JSON), cost_usd, counted_usd, cached, kind, pid, user_id.
CallRow = tuple[float, str, str, float | None, float, int, str, int, str]


def _write_call(conn: Connection, row: CallRow, release: str | None) -> None:
    """One answered call with the day totals it joins, the deployment's and its user's, and its reservation
    `release` dropped."""
    at, counted, user = row[0], row[4], row[8]
    conn.execute(
        "INSERT INTO calls (at, model, usage, cost_usd, counted_usd, cached, kind, pid, user_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row,
    )
    conn.execute(
        "INSERT INTO days (day, counted_usd) VALUES (?, ?) "
        "ON CONFLICT (day) DO UPDATE SET "
        "counted_usd = round(CAST(days.counted_usd + excluded.counted_usd AS NUMERIC), 12)",
        (_day(at), counted),
    )
    conn.execute(
        "INSERT INTO user_days (day, user_id, counted_usd) VALUES (?, ?, ?) ON CONFLICT (day, user_id) "
        "DO UPDATE SET counted_usd = round(CAST(user_days.counted_usd + excluded.counted_usd AS NUMERIC), 12)",
        (_day(at), user, counted),
    )
    if release is not None:
        conn.execute("DELETE FROM reservations WHERE id = ?", (release,))


def _prune(conn: Connection, now: float) -> None:
    """Drop calls (and day totals) over `KEEP_DAYS` older than the newest record written up to `now`.

    The clock is the records', not the wall's: a record from a clock set ahead is later than `now`
    once it is corrected, and counts as the newest only while it is not. Nothing is dropped while the
    records kept would start more than `PRUNE_GAP_DAYS` after the cutoff, since that gap is what a
    jump forward looks like; the history is then kept whole until the records close the gap.
    """
    newest = conn.execute("SELECT MAX(at) FROM calls WHERE at <= ?", (now,)).fetchone()[0]
    if newest is None:
        return
    cutoff = newest - KEEP_DAYS * 86400
    kept_from = conn.execute("SELECT MIN(at) FROM calls WHERE at >= ?", (cutoff,)).fetchone()[0]
    if kept_from is None or kept_from - cutoff > PRUNE_GAP_DAYS * 86400:
        return
    conn.execute("DELETE FROM calls WHERE at < ?", (cutoff,))
    conn.execute("DELETE FROM days WHERE day < ?", (_day(cutoff),))
    conn.execute("DELETE FROM user_days WHERE day < ?", (_day(cutoff),))


def _expire(conn: Connection, now: float, own: str) -> None:
    """Drop reservations past their expiry, and those of server runs that are gone (`own` is this one)."""
    conn.execute("DELETE FROM reservations WHERE expires < ?", (now,))
    owners = conn.execute("SELECT DISTINCT pid, pid_start, instance FROM reservations WHERE pid IS NOT NULL").fetchall()
    gone = [(pid, started, run) for pid, started, run in owners if not owner_alive(conn, own, run, pid, started)]
    if gone:
        conn.executemany(
            "DELETE FROM reservations WHERE pid = ? AND pid_start IS NOT DISTINCT FROM ? "
            "AND instance IS NOT DISTINCT FROM ?",
            gone,
        )


def _standing(conn: Connection, now: float, user: str) -> Standing:
    """`user`'s and the deployment's spend of today and this month, and what each holds, as one reading."""
    today, month = _day(now), _day(month_start(now))
    total = conn.execute(
        "SELECT SUM(CASE WHEN day = ? THEN counted_usd ELSE 0 END), SUM(counted_usd) FROM days WHERE day >= ?",
        (today, month),
    ).fetchone()
    mine = conn.execute(
        "SELECT SUM(CASE WHEN day = ? THEN counted_usd ELSE 0 END), SUM(counted_usd) FROM user_days "
        "WHERE user_id = ? AND day >= ?",
        (today, user, month),
    ).fetchone()
    held = conn.execute(
        "SELECT SUM(amount), SUM(CASE WHEN user_id = ? THEN amount ELSE 0 END) FROM reservations", (user,)
    ).fetchone()
    return Standing(
        user=Committed(today=mine[0] or 0.0, month=mine[1] or 0.0, held=held[1] or 0.0),
        total=Committed(today=total[0] or 0.0, month=total[1] or 0.0, held=held[0] or 0.0),
    )


@dataclass
class UserTotals:
    """One user's counted spend today and this month (UTC), and what their calls in flight hold."""

    user: str
    today: float = 0.0
    month: float = 0.0
    held: float = 0.0


def _usage(text: str | None) -> dict[str, float]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]


def usd(amount: float) -> str:
    """Dollars with two significant digits for sub-cent amounts: $2.50, $0.0123, $0.0080, $0.000053."""
    if amount >= 1:
        return f"${amount:,.2f}"
    decimals = 4 if amount <= 0 else max(4, 1 - math.floor(math.log10(amount)))
    return f"${amount:.{decimals}f}"
