"""What the shared state store adds to one metered call (in process, on a real file).

A metered call touches the store once or twice: with a budget, the check and reservation
(`Ledger.reserve`, one BEGIN IMMEDIATE transaction) before sending, and always the record that
also drops the reservation (`Ledger.record`) after the answer. Both run on a worker thread, so
the figures include the thread hop. The file is first filled with a month of history (30 days x
`--per-day` calls) so that the window sums are measured on a store that has been used.
Variants, interleaved call by call: `budget` (reserve + record) and `no budget` (record only);
optionally a second process recording calls into the same file the whole time (`--contended`).
Budget: median(budget) < 1 ms.

`python bench/state_store.py [--calls N] [--per-day N] [--contended]`
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
from benchlib import summary, write_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from workers_ai_mcp.spending.ledger import Budgets, Estimate, Ledger
from workers_ai_mcp.spending.store import StateStore, transaction

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

    def work(conn: Any) -> None:
        conn.executemany("INSERT INTO calls (at, model, usage, cost_usd, counted_usd) VALUES (?, ?, ?, ?, ?)", rows)
        conn.execute(
            "INSERT INTO days (day, counted_usd) SELECT strftime('%Y-%m-%d', at, 'unixepoch'), SUM(counted_usd) "
            "FROM calls GROUP BY 1 ON CONFLICT (day) DO UPDATE SET counted_usd = excluded.counted_usd"
        )

    store.run_sync(lambda conn: transaction(conn, work))


async def measure(folder: Path, calls: int, per_day: int) -> dict[str, list[float]]:
    store = StateStore(folder)
    fill(store, per_day)
    guarded = Ledger(store, Budgets(daily=1e9, monthly=1e9), call_ttl=120)
    plain = Ledger(store, Budgets())
    times: dict[str, list[float]] = {"budget": [], "no budget": []}
    for index in range(calls + 50):
        for name in ("budget", "no budget") if index % 2 else ("no budget", "budget"):
            key = f"call:{uuid.uuid4().hex}"
            start = time.perf_counter()
            if name == "budget":
                await guarded.reserve(key, "@cf/meta/llama-3.3-70b-instruct-fp8-fast", Estimate(0.0006))
                await guarded.record("@cf/meta/llama-3.3-70b-instruct-fp8-fast", USAGE, 0.0006, release=key)
            else:
                await plain.record("@cf/meta/llama-3.3-70b-instruct-fp8-fast", USAGE, 0.0006)
            elapsed = (time.perf_counter() - start) * 1000
            if index >= 50:  # warm-up
                times[name].append(elapsed)
    await store.aclose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--contended", action="store_true", help="another process records calls meanwhile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="state-bench-") as tmp:
        folder = Path(tmp)
        StateStore(folder).run_sync(lambda conn: None)  # create the schema before the writer starts
        writer = None
        if args.contended:
            server = str(Path(__file__).resolve().parents[1] / "server")
            writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), server])
        try:
            times = anyio.run(measure, folder, args.calls, args.per_day)
        finally:
            if writer is not None:
                writer.kill()
                writer.wait()
    result = {name: summary(values) for name, values in times.items()}
    result["history_calls"] = {"n": 30 * args.per_day}
    write_json("state_store" + ("_contended" if args.contended else ""), result)
    for name in ("budget", "no budget"):
        s = result[name]
        figures = f"median {s['median']:.3f} ms  q1 {s['q1']:.3f}  q3 {s['q3']:.3f}  p99 {s['p99']:.3f}"
        print(f"{name:>10}: {figures}  (n={s['n']})")
    verdict = "within" if result["budget"]["median"] < 1.0 else "OVER"
    print(f"budget: median(reserve + record) < 1 ms: {verdict}")


if __name__ == "__main__":
    main()
