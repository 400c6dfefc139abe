"""Cold start and idle memory over stdio: our server against a bare `MCPServer` with one echo tool.

One sample = spawn → `initialize` answered → `tools/list` answered, timed by the stdlib client
from just before `Popen` to the moment the `tools/list` line is read; then VmRSS of the server
process (idle, after tools/list). Variants are interleaved round by round in rotating order,
after one unmeasured warm-up each (bytecode caches and the page cache are warm for all alike).

Variants: the bare server; ours plain (`python -m workers_ai_mcp`, no credentials: it starts and
lists tools; the budget compares this one); ours with `--emulator`.

`python bench/cold_start.py [--runs N]`
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchlib import BARE, OURS, StdioServer, clean_env, fmt_spread, ratio_of_medians, rss_kib, summary, write_json

COLD_BUDGET = 1.10
MEMORY_BUDGET = 1.15


@dataclass
class Variant:
    name: str
    command: list[str]
    start_ms: list[float] = field(default_factory=lambda: list[float]())
    init_ms: list[float] = field(default_factory=lambda: list[float]())
    rss_mib: list[float] = field(default_factory=lambda: list[float]())
    tools: int = 0
    tools_list_bytes: int = 0
    env: dict[str, str] = field(default_factory=lambda: dict[str, str]())


VARIANTS = (
    ("bare MCPServer (1 echo tool)", BARE),
    ("ours, plain (no credentials)", OURS),
    ("ours, --emulator", [*OURS, "--emulator"]),
)


def one_start(variant: Variant, *, record: bool) -> None:
    server = StdioServer(variant.command, env={**clean_env(), **variant.env}, log_name="cold_start")
    server.start()
    try:
        init = server.initialize()
        listed = server.list_tools()
        rss = rss_kib(server.pid)
    finally:
        server.close()
    if record:
        variant.start_ms.append((listed.received - server.started) * 1000)
        variant.init_ms.append((init.received - server.started) * 1000)
        variant.rss_mib.append(rss / 1024)
        variant.tools = len(listed.body["result"]["tools"])
        variant.tools_list_bytes = listed.size


def run(runs: int = 9, against: str | None = None) -> dict[str, Any]:
    variants = [Variant(name, list(command)) for name, command in VARIANTS]
    if against is not None:  # another checkout's package, for a before/after in one run
        variants.append(Variant("against: plain", list(OURS), env={"PYTHONPATH": against}))
    for variant in variants:
        one_start(variant, record=False)
    for round_index in range(runs):
        shift = round_index % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            one_start(variant, record=True)
    bare, plain, emulator = variants[:3]
    results: dict[str, Any] = {
        "runs": runs,
        "variants": {
            v.name: {
                "start_ms": summary(v.start_ms),
                "initialize_ms": summary(v.init_ms),
                "rss_mib": summary(v.rss_mib),
                "tools": v.tools,
                "tools_list_bytes": v.tools_list_bytes,
                "samples_ms": v.start_ms,
            }
            for v in variants
        },
        "cold_ratio": ratio_of_medians(plain.start_ms, bare.start_ms),
        "cold_ratio_emulator": ratio_of_medians(emulator.start_ms, bare.start_ms),
        "cold_extra_ms": summary([o - b for o, b in zip(plain.start_ms, bare.start_ms, strict=True)]),
        "memory_ratio": ratio_of_medians(plain.rss_mib, bare.rss_mib),
        "memory_ratio_emulator": ratio_of_medians(emulator.rss_mib, bare.rss_mib),
        "cold_ratio_against": ratio_of_medians(variants[3].start_ms, bare.start_ms) if against else None,
        "cold_budget": COLD_BUDGET,
        "memory_budget": MEMORY_BUDGET,
    }
    write_json("cold_start", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = [f"cold start, {results['runs']} interleaved rounds:"]
    for name, v in results["variants"].items():
        lines.append(
            f"  {name:32} start {fmt_spread(v['start_ms'])}  RSS {fmt_spread(v['rss_mib'], 'MiB', 1)}  "
            f"{v['tools']} tools"
        )
    lines.append(
        f"  cold ratio {results['cold_ratio']:.2f}x (budget {COLD_BUDGET}x), "
        f"--emulator {results['cold_ratio_emulator']:.2f}x"
        + (f", against {results['cold_ratio_against']:.2f}x" if results.get("cold_ratio_against") else "")
    )
    lines.append(
        f"  memory ratio {results['memory_ratio']:.2f}x (budget {MEMORY_BUDGET}x), "
        f"--emulator {results['memory_ratio_emulator']:.2f}x"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--against",
        metavar="SERVER_DIR",
        help="also start another checkout's server/ folder, interleaved",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    print("\n".join(report(run(args.runs, args.against))))
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
