"""What the shared state store adds to one metered call (in process, on a real file or database).

A metered call touches the store once or twice: with a budget, the check and reservation
(`Ledger.reserve`, one BEGIN IMMEDIATE transaction) before sending, and always the record that
also drops the reservation (`Ledger.record`) after the answer. Both run on a worker thread, so
the figures include the thread hop. The file is first filled with a month of history (30 days x
`--per-day` calls) so that the window sums are measured on a store that has been used.
Variants, interleaved call by call: `budget` (reserve + record) and `no budget` (record only);
optionally a second process recording calls into the same file the whole time (`--contended`).
With `--postgres URL` (or WORKERS_AI_MCP_TEST_POSTGRES_URL set, as `source scripts/postgres.sh` does)
the same variants run against PostgreSQL too, in a throwaway schema, interleaved with SQLite's call by
call so that both see the same machine. Budget: median(budget) < 1 ms (SQLite; PostgreSQL's figure
includes a round trip per statement to the server, on loopback here).

`python bench/state_store.py [--calls N] [--per-day N] [--contended] [--postgres URL]`
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
from benchlib import summary, write_json
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from workers_ai_mcp.settings import Settings
from workers_ai_mcp.spending.ledger import Budgets, Estimate, Ledger
from workers_ai_mcp.spending.store import StateStore, open_store, transaction

USAGE = {"prompt_tokens": 120.0, "completion_tokens": 256.0, "total_tokens": 376.0}
WRITER = """
import sys, time, anyio
sys.path.insert(0, sys.argv[2])
from workers_ai_mcp.spending.ledger import Budgets, Ledger
from workers_ai_mcp.spending.store import StateStore
async def main():
    ledger = Ledger(StateStore(__import__("pathlib").Path(sys.argv[1])), Budgets())
    while True:
        await ledger.record("@cf/other/model", {"prompt_tokens": 5.0}, 0.00001)
anyio.run(main)
"""


def fill(store: StateStore, per_day: int) -> None:
    now = time.time()
    rows = [
        (now - day * 86400 - i, "@cf/meta/llama-3.3-70b-instruct-fp8-fast", '{"prompt_tokens": 100}', 0.0003, 0.0003)
        for day in range(30)
        for i in range(per_day)
    ]
    days: dict[str, float] = {}
    for at, *_, counted in rows:
        day = time.strftime("%Y-%m-%d", time.gmtime(at))
        days[day] = days.get(day, 0.0) + counted

    def work(conn: Any) -> None:
        conn.executemany("INSERT INTO calls (at, model, usage, cost_usd, counted_usd) VALUES (?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT INTO days (day, counted_usd) VALUES (?, ?) "
            "ON CONFLICT (day) DO UPDATE SET counted_usd = excluded.counted_usd",
            list(days.items()),
        )

    store.run_sync(lambda conn: transaction(conn, work))


MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


async def measure(stores: dict[str, StateStore], calls: int, per_day: int) -> dict[str, list[float]]:
    """Per backend, `budget` and `no budget` calls, interleaved (the order rotates every call)."""
    variants: list[tuple[str, Ledger, bool]] = []
    for backend, store in stores.items():
        fill(store, per_day)
        variants.append((f"budget ({backend})", Ledger(store, Budgets(daily=1e9, monthly=1e9), call_ttl=120), True))
        variants.append((f"no budget ({backend})", Ledger(store, Budgets()), False))
    times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for index in range(calls + 50):
        shift = index % len(variants)
        for name, ledger, budgeted in variants[shift:] + variants[:shift]:
            key = f"call:{uuid.uuid4().hex}"
            start = time.perf_counter()
            if budgeted:
                await ledger.reserve(key, MODEL, Estimate(0.0006))
                await ledger.record(MODEL, USAGE, 0.0006, release=key)
            else:
                await ledger.record(MODEL, USAGE, 0.0006)
            elapsed = (time.perf_counter() - start) * 1000
            if index >= 50:  # warm-up
                times[name].append(elapsed)
    for store in stores.values():
        await store.aclose()
    return times


def postgres_store(url: str, schema: str) -> StateStore:
    return open_store(Settings(state_url=SecretStr(url), state_schema=schema))  # pyright: ignore[reportCallIssue]


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--contended", action="store_true", help="another process records calls meanwhile")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("WORKERS_AI_MCP_TEST_POSTGRES_URL"),
        help="also measure a PostgreSQL store at this URL (a throwaway schema is made and dropped)",
    )
    args = parser.parse_args()
    schema = f"state_bench_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="state-bench-") as tmp:
        folder = Path(tmp)
        stores = {"sqlite": StateStore(folder)}
        stores["sqlite"].run_sync(lambda conn: None)  # create the schema before the writer starts
        if args.postgres:
            stores["postgresql"] = postgres_store(args.postgres, schema)
        writer = None
        if args.contended:
            server = str(Path(__file__).resolve().parents[1] / "server")
            writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), server])
        try:
            times = anyio.run(measure, stores, args.calls, args.per_day)
        finally:
            if writer is not None:
                writer.kill()
                writer.wait()
            if args.postgres:
                drop_schema(args.postgres, schema)
    result: dict[str, Any] = {name: summary(values) for name, values in times.items()}
    result["history_calls"] = {"n": 30 * args.per_day}
    write_json("state_store" + ("_contended" if args.contended else ""), result)
    for name in times:
        s = result[name]
        figures = f"median {s['median']:.3f} ms  q1 {s['q1']:.3f}  q3 {s['q3']:.3f}  p99 {s['p99']:.3f}"
        print(f"{name:>24}: {figures}  (n={s['n']})")
    verdict = "within" if result["budget (sqlite)"]["median"] < 1.0 else "OVER"
    print(f"budget: median(reserve + record) on SQLite < 1 ms: {verdict}")


if __name__ == "__main__":
    main()
