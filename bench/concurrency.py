"""64 calls in flight with 200 ms emulated latency, and how many TCP connections the emulator saw.

One round writes 64 `tools/call` requests at once and times until the 64th answer is read:
- ours: `translate` on our server pointed at the emulator on loopback, emulator latency 0.2 s;
- bare: a bare MCPServer tool that sleeps 0.2 s (`bench/bare_server.py --sleep`);
- bare+http (diagnostic, not the budget's baseline): a bare MCPServer tool that makes the same
  request to the same emulator with a plain pooled httpx2 client (`bare_server.py --http URL`),
  so "ours vs bare+http" is what our own code adds and "bare+http vs bare" what HTTP adds.
Rounds rotate; budget: median(ours) ≤ 1.4 × median(bare). CPU time of each process is read
from /proc before and after the rounds.

Connections (distinct client (host, port) pairs the emulator recorded, counters reset first):
sequential calls from a fresh server (must be 1: the pooled connection is reused), the 64
concurrent calls, and sequential calls again after the burst.

`python bench/concurrency.py [--rounds N] [--in-flight N]`
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from benchlib import (
    BARE,
    OURS,
    Emulator,
    StdioServer,
    clean_env,
    cpu_seconds,
    emulator_env,
    summary,
    tool_error_text,
    write_json,
)

LATENCY = 0.2
BUDGET = 1.4
SEQUENTIAL = 30
TRANSLATE = {"text": "hello", "target_lang": "fr"}


def burst(server: StdioServer, name: str, arguments: dict[str, Any], count: int) -> float:
    """Seconds from writing `count` calls to reading the last answer; raises on any tool error."""
    started = time.monotonic()
    ids = [server.send_call(name, arguments) for _ in range(count)]
    last = started
    for request_id in ids:
        answer = server.wait_for(request_id)
        if error := tool_error_text(answer):
            raise RuntimeError(f"{name} failed under load: {error}")
        last = max(last, answer.received)
    return last - started


def sequential(server: StdioServer, count: int) -> None:
    for _ in range(count):
        answer = server.call("translate", {"text": "hello", "target_lang": "fr"})
        if error := tool_error_text(answer):
            raise RuntimeError(f"translate failed: {error}")


def first_burst(emulator: Emulator, in_flight: int) -> dict[str, int]:
    """Emulator requests, by kind, for `in_flight` concurrent calls that are a fresh server's first calls.

    One request per call would be `in_flight` runs and nothing else; price and catalog look-ups
    made once per call instead of once per process show up as extra `models/search` requests.
    """
    with StdioServer(OURS, env=emulator_env(emulator.base_url), log_name="concurrency_first") as fresh:
        fresh.initialize()
        emulator.reset()
        burst(fresh, "translate", TRANSLATE, in_flight)
        requests = emulator.state()["requests"]
    kinds: dict[str, int] = {}
    for request in requests:
        kind = str(request["path"]).rsplit("/ai/", 1)[-1].split("/", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def run(rounds: int = 9, in_flight: int = 64) -> dict[str, Any]:
    connections: dict[str, int] = {}
    with (
        Emulator() as emulator,
        StdioServer(OURS, env=emulator_env(emulator.base_url), log_name="concurrency_ours") as ours,
        StdioServer([*BARE, "--sleep"], env=clean_env(), log_name="concurrency_bare") as bare,
        StdioServer([*BARE, "--http", emulator.base_url], env=clean_env(), log_name="concurrency_http") as http,
    ):
        ours.initialize()
        bare.initialize()
        http.initialize()
        emulator.configure(latency=LATENCY)
        first = first_burst(emulator, in_flight)
        emulator.configure(latency=0)
        emulator.reset()
        sequential(ours, SEQUENTIAL)
        connections[f"{SEQUENTIAL} sequential calls, fresh server"] = emulator.state()["connections"]
        emulator.configure(latency=LATENCY)
        burst(ours, "translate", TRANSLATE, in_flight)  # warm-up: opens the pool
        burst(bare, "sleep", {"seconds": LATENCY}, in_flight)
        burst(http, "translate", TRANSLATE, in_flight)
        samples: dict[str, list[float]] = {"ours": [], "bare": [], "bare+http": []}
        assert emulator.proc is not None
        pids = {"ours": ours.pid, "bare": bare.pid, "bare+http": http.pid, "emulator": emulator.proc.pid}
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        burst_connections: list[int] = []
        kinds = ["ours", "bare", "bare+http"]
        for index in range(rounds):
            shift = index % len(kinds)
            for name in kinds[shift:] + kinds[:shift]:
                if name == "ours":
                    emulator.reset()
                    samples["ours"].append(burst(ours, "translate", TRANSLATE, in_flight))
                    burst_connections.append(emulator.state()["connections"])
                elif name == "bare":
                    samples["bare"].append(burst(bare, "sleep", {"seconds": LATENCY}, in_flight))
                else:
                    samples["bare+http"].append(burst(http, "translate", TRANSLATE, in_flight))
        cpu_ms_per_call = {
            name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / (rounds * in_flight) for name, pid in pids.items()
        }
        # The emulator serves both ours and bare+http: its CPU is per request it answered.
        cpu_ms_per_call["emulator"] /= 2
        connections[f"{in_flight} concurrent calls (median of rounds)"] = sorted(burst_connections)[rounds // 2]
        emulator.configure(latency=0)
        emulator.reset()
        sequential(ours, SEQUENTIAL)
        connections[f"{SEQUENTIAL} sequential calls after the bursts"] = emulator.state()["connections"]
    ms = {name: [s * 1000 for s in values] for name, values in samples.items()}
    stats = {name: summary(values) for name, values in ms.items()}
    ratio = stats["ours"]["median"] / stats["bare"]["median"]
    ratio_http = stats["ours"]["median"] / stats["bare+http"]["median"]
    results: dict[str, Any] = {
        "in_flight": in_flight,
        "latency_s": LATENCY,
        "rounds": rounds,
        "stats_ms": stats,
        "ratio": ratio,
        "ratio_vs_bare_http": ratio_http,
        "budget": BUDGET,
        "met": ratio <= BUDGET,
        "connections": connections,
        "cpu_ms_per_call": cpu_ms_per_call,
        "first_burst_requests": first,
    }
    write_json("concurrency", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    stats = results["stats_ms"]
    lines = [
        f"{results['in_flight']} calls in flight, {results['latency_s'] * 1000:.0f} ms emulated latency, "
        f"{results['rounds']} rounds:",
        f"  ours {stats['ours']['median']:.0f} ms (IQR {stats['ours']['q1']:.0f}–{stats['ours']['q3']:.0f})  "
        f"bare sleep {stats['bare']['median']:.0f} ms (IQR {stats['bare']['q1']:.0f}–{stats['bare']['q3']:.0f})  "
        f"ratio {results['ratio']:.2f}x (budget {results['budget']}x → {'met' if results['met'] else 'MISSED'})",
        f"  bare+http (same request, plain httpx2 in a bare MCPServer) {stats['bare+http']['median']:.0f} ms: "
        f"ours / bare+http = {results['ratio_vs_bare_http']:.2f}x",
        "  CPU per call during the bursts: "
        + ", ".join(f"{k} {v:.2f} ms" for k, v in results["cpu_ms_per_call"].items()),
        f"  a fresh server's first {results['in_flight']} concurrent calls sent: "
        + ", ".join(f"{v} {k}" for k, v in results["first_burst_requests"].items()),
        "  TCP connections seen by the emulator: " + "; ".join(f"{k}: {v}" for k, v in results["connections"].items()),
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--in-flight", type=int, default=64)
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.rounds, args.in_flight))))


if __name__ == "__main__":
    main()
