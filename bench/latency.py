"""Per-call latency over stdio against the emulator on loopback (zero emulated latency).

Three kinds of call, interleaved round by round in rotating order after a warm-up:
- ours: `tools/call translate` on `python -m workers_ai_mcp` pointed at the emulator
  (WORKERS_AI_BASE_URL=http://127.0.0.1:P/client/v4);
- echo: `tools/call echo` on the bare MCPServer (the SDK's own per-call cost over stdio);
- direct: the same translate request sent straight to the emulator with one keep-alive
  `httpx2.Client` (the HTTP + emulator cost).
Budget: median(ours) ≤ median(echo) + median(direct) + 1 ms. Also counts emulator requests
per call of ours (any extra look-up shows up here), and, as a diagnostic, a fourth kind:
- bare+http: the same request made by a bare MCPServer tool with a plain pooled httpx2 client
  (`bench/bare_server.py --http URL`); ours − bare+http is what our own code adds per call.

`python bench/latency.py [--calls N]`
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchlib import BARE, OURS, Emulator, StdioServer, clean_env, emulator_env, summary, tool_error_text, write_json

TRANSLATE_MODEL = "@cf/meta/m2m100-1.2b"
TRANSLATE_ARGS = {"text": "hello world", "target_lang": "fr"}
WARMUP = 20
BUDGET_SLACK_MS = 1.0


def run(calls: int = 300, against: str | None = None) -> dict[str, Any]:
    import contextlib

    import httpx2

    with (
        contextlib.ExitStack() as extra,
        Emulator() as emulator,
        StdioServer(OURS, env=emulator_env(emulator.base_url), log_name="latency_ours") as ours,
        StdioServer(BARE, env=clean_env(), log_name="latency_bare") as bare,
        StdioServer([*BARE, "--http", emulator.base_url], env=clean_env(), log_name="latency_http") as bare_http,
        httpx2.Client(
            base_url=emulator.base_url, headers={"authorization": "Bearer emulator-token"}, timeout=30
        ) as http,
    ):
        other = None
        if against is not None:  # another checkout's package, for a before/after in one run
            env = {**emulator_env(emulator.base_url), "PYTHONPATH": against}
            other = extra.enter_context(StdioServer(OURS, env=env, log_name="latency_against"))
            other.initialize()
        ours.initialize()
        bare.initialize()
        bare_http.initialize()
        url = f"/client/v4/accounts/bench/ai/run/{TRANSLATE_MODEL}"
        body = {"text": TRANSLATE_ARGS["text"], "source_lang": "en", "target_lang": "fr"}

        def call_ours() -> None:
            answer = ours.call("translate", TRANSLATE_ARGS)
            if error := tool_error_text(answer):
                raise RuntimeError(f"translate failed: {error}")

        def call_echo() -> None:
            bare.call("echo", {"text": "hello world"})

        def call_bare_http() -> None:
            bare_http.call("translate", TRANSLATE_ARGS)

        def call_direct() -> None:
            http.post(url, json=body).raise_for_status()

        kinds: list[tuple[str, Callable[[], None]]] = [
            ("ours", call_ours),
            ("echo", call_echo),
            ("direct", call_direct),
            ("bare+http", call_bare_http),
        ]
        if other is not None:
            kinds.append(("against", lambda: other.call("translate", TRANSLATE_ARGS)))
        for _ in range(WARMUP):
            for _name, fn in kinds:
                fn()
        emulator.reset()
        samples: dict[str, list[float]] = {name: [] for name, _ in kinds}
        for index in range(calls):
            shift = index % len(kinds)
            for name, fn in kinds[shift:] + kinds[:shift]:
                started = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - started) * 1000)
        state = emulator.state()
    stats = {name: summary(values) for name, values in samples.items()}
    allowed = stats["echo"]["median"] + stats["direct"]["median"] + BUDGET_SLACK_MS
    results: dict[str, Any] = {
        "calls": calls,
        "stats_ms": stats,
        "allowed_median_ms": allowed,
        "overhead_median_ms": stats["ours"]["median"] - stats["echo"]["median"] - stats["direct"]["median"],
        "ours_minus_bare_http_ms": stats["ours"]["median"] - stats["bare+http"]["median"],
        "met": stats["ours"]["median"] <= allowed,
        # ours, direct and bare+http all reach the emulator: 3 per round if ours sends one request per call
        "emulator_requests_per_round": state["request_count"] / calls - (1 if against else 0),
    }
    write_json("latency", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = [f"per-call latency, {results['calls']} interleaved calls each:"]
    for name, s in results["stats_ms"].items():
        lines.append(f"  {name:9} p50 {s['median']:.2f} ms  p99 {s['p99']:.2f} ms  (IQR {s['q1']:.2f}–{s['q3']:.2f})")
    lines.append(
        f"  ours − echo − direct = {results['overhead_median_ms']:+.2f} ms at the median "
        f"(budget: ours ≤ {results['allowed_median_ms']:.2f} ms → {'met' if results['met'] else 'MISSED'}); "
        f"emulator requests per round {results['emulator_requests_per_round']:.2f} (3.00 = one per call of ours)"
    )
    lines.append(f"  ours − bare+http = {results['ours_minus_bare_http_ms']:+.2f} ms (what our own code adds per call)")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument(
        "--against",
        metavar="SERVER_DIR",
        help="also time another checkout's server/ folder, interleaved",
    )
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.calls, args.against))))


if __name__ == "__main__":
    main()
