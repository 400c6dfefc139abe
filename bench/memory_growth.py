"""Memory growth over 5,000 calls in one server process (budget ≤ 10 MB).

Our server, pointed at the emulator on loopback (a separate process, so its memory is not in the
figure), gets 200 warm-up calls, then 5,000 more; VmRSS is read before and after, and every 500
calls to show the shape (a plateau is caches filling; a straight line is a leak). Calls rotate
over the cheap JSON tools that are present (translate, classify_text, summarize, embed,
rank_documents, chat), with `samples.sample_arguments`, four in flight at a time.

`python bench/memory_growth.py [--calls N]`
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

from benchlib import OURS, Emulator, Json, StdioServer, emulator_env, inputs_dir, rss_kib, tool_error_text, write_json

BUDGET_MB = 10.0
WARMUP = 200
WINDOW = 4
ROTATION = ("translate", "classify_text", "summarize", "embed", "rank_documents", "chat")


def drive(server: StdioServer, calls: list[tuple[str, Json]], count: int, start: int) -> None:
    pending: deque[int] = deque()
    errors = 0
    for index in range(start, start + count):
        name, arguments = calls[index % len(calls)]
        pending.append(server.send_call(name, arguments))
        if len(pending) >= WINDOW:
            errors += tool_error_text(server.wait_for(pending.popleft())) is not None
    while pending:
        errors += tool_error_text(server.wait_for(pending.popleft())) is not None
    if errors:
        raise RuntimeError(f"{errors} calls failed (see bench/out/logs/memory_growth.log)")


def run(calls: int = 5000) -> dict[str, Any]:
    from workers_ai_mcp.selftest.samples import sample_arguments

    curve: list[tuple[int, float]] = []
    with (
        Emulator() as emulator,
        StdioServer(OURS, env=emulator_env(emulator.base_url), log_name="memory_growth") as ours,
    ):
        ours.initialize()
        tools = {str(t["name"]): t for t in cast(list[Json], ours.list_tools().body["result"]["tools"])}
        rotation = [
            (name, sample_arguments(name, cast(Json, tools[name].get("inputSchema", {})), inputs_dir()))
            for name in ROTATION
            if name in tools
        ]
        drive(ours, rotation, WARMUP, 0)
        before = rss_kib(ours.pid)
        done = 0
        curve.append((0, before / 1024))
        while done < calls:
            step = min(500, calls - done)
            drive(ours, rotation, step, WARMUP + done)
            done += step
            curve.append((done, rss_kib(ours.pid) / 1024))
        after = rss_kib(ours.pid)
    growth_mb = (after - before) * 1024 / 1e6
    results: dict[str, Any] = {
        "calls": calls,
        "tools": [name for name, _ in rotation],
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "growth_mb": growth_mb,
        "budget_mb": BUDGET_MB,
        "met": growth_mb <= BUDGET_MB,
        "curve_mib": curve,
    }
    write_json("memory_growth", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    curve = " ".join(f"{n}:{mib:.1f}" for n, mib in results["curve_mib"])
    return [
        f"memory over {results['calls']} calls ({', '.join(results['tools'])}): RSS {results['rss_before_mib']:.1f} → "
        f"{results['rss_after_mib']:.1f} MiB, growth {results['growth_mb']:.1f} MB "
        f"(budget {results['budget_mb']:.0f} MB → {'met' if results['met'] else 'MISSED'})",
        f"  RSS MiB by calls done: {curve}",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.calls))))


if __name__ == "__main__":
    main()
