"""Where a call's CPU time goes: both servers under cProfile, per package, per call.

Our server (`translate` against the emulator on loopback) and the bare echo server each run
under `python -m cProfile` and answer the same number of sequential calls; the profile is
written when stdin closes. Own time (tottime) is summed by top-level package and divided by
the number of calls, so the two columns show what a call costs beyond the SDK's own handling.
cProfile inflates every figure (roughly 2×); compare the columns, not the absolute values.
Start-up and the first call (a warm-up, which loads the tool modules) are excluded: the profile
starts with the second call.

`python bench/profile_calls.py [--calls N]`
"""

from __future__ import annotations

import argparse
import pstats
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from benchlib import BARE, OURS, Emulator, StdioServer, clean_env, emulator_env, out_dir, write_json

# The profiler is switched on by the second `tools/call` and dumped at exit, so neither start-up nor the
# first call (which imports the tool modules) is in it.
SHIM = r"""
import cProfile, runpy, sys, atexit
from mcp.server.mcpserver.server import MCPServer
profile = cProfile.Profile()
target, out, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
calls = 0
original = MCPServer._handle_call_tool
async def handle(self, *args, **kwargs):
    global calls
    calls += 1
    if calls == 2:  # the first call (a warm-up: it loads the tool modules) is not profiled
        profile.enable()
    return await original(self, *args, **kwargs)
MCPServer._handle_call_tool = handle
atexit.register(lambda: (profile.disable(), profile.dump_stats(out)))
if target == "-m":
    sys.argv = rest
    runpy.run_module(rest[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = [target, *rest]
    runpy.run_path(target, run_name="__main__")
"""


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/server/workers_ai_mcp/" in filename:
        return "workers_ai_mcp"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "stdlib:" + Path(filename).stem if "/lib/python" in filename else filename


IDLE = ("<method 'poll' of 'select.epoll' objects>",)


StatsTable = dict[tuple[str, int, str], tuple[int, int, float, float, Any]]


def load_stats(path: Path) -> StatsTable:
    """pstats' raw table: (file, line, function) → (primitive calls, calls, own s, cumulative s, callers)."""
    return cast(StatsTable, getattr(pstats.Stats(str(path)), "stats"))  # noqa: B009 (untyped attribute)


def by_package(path: Path, calls: int) -> dict[str, float]:
    """Own time per call by package; waiting in epoll (idle, not CPU) is left out."""
    stats = load_stats(path)
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tottime, _cum, _callers) in stats.items():
        if name in IDLE:
            continue
        package = package_of(str(filename))
        if package.startswith("stdlib:"):
            package = "stdlib:" + ("asyncio" if "asyncio" in str(filename) else package.split(":", 1)[1])
        totals[package] += tottime * 1000 / calls
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def top_functions(
    path: Path, calls: int, prefix: str = "", count: int = 12, *, own: bool = False
) -> list[tuple[str, float]]:
    """Functions whose file contains `prefix`, by cumulative (or own) ms per call."""
    stats = load_stats(path)
    rows: list[tuple[str, float]] = []
    for (filename, line, name), (_cc, _nc, tottime, cumtime, _callers) in stats.items():
        if prefix in str(filename) and name not in IDLE:
            short = str(filename).split(prefix, 1)[1] if prefix else str(filename).split("site-packages/")[-1]
            rows.append((f"{short}:{line}({name})", (tottime if own else cumtime) * 1000 / calls))
    return sorted(rows, key=lambda row: -row[1])[:count]


def profiled(command: list[str], out: Path) -> list[str]:
    python, *rest = command
    if rest[0] == "-m":
        return [python, "-c", SHIM, "-m", str(out), *rest[1:]]
    return [python, "-c", SHIM, rest[0], str(out), *rest[1:]]


def run(calls: int = 300, bursts: int = 5, in_flight: int = 64) -> dict[str, Any]:
    ours_prof, bare_prof, burst_prof = out_dir() / "ours.prof", out_dir() / "bare.prof", out_dir() / "burst.prof"
    for path in (ours_prof, bare_prof, burst_prof):
        path.unlink(missing_ok=True)
    with Emulator() as emulator:
        with StdioServer(profiled(OURS, burst_prof), env=emulator_env(emulator.base_url), log_name="profile") as ours:
            ours.initialize()
            ours.call("translate", {"text": "hello world", "target_lang": "fr"})
            emulator.configure(latency=0.2)
            for _ in range(bursts):
                ids = [ours.send_call("translate", {"text": "hello", "target_lang": "fr"}) for _ in range(in_flight)]
                for request_id in ids:
                    ours.wait_for(request_id)
            emulator.configure(latency=0)
        with StdioServer(profiled(OURS, ours_prof), env=emulator_env(emulator.base_url), log_name="profile") as ours:
            ours.initialize()
            for _ in range(calls + 1):  # the first is the unprofiled warm-up
                ours.call("translate", {"text": "hello world", "target_lang": "fr"})
        with StdioServer(profiled(BARE, bare_prof), env=clean_env(), log_name="profile") as bare:
            bare.initialize()
            for _ in range(calls + 1):
                bare.call("echo", {"text": "hello world"})
    ours_pk, bare_pk = by_package(ours_prof, calls), by_package(bare_prof, calls)
    results: dict[str, Any] = {
        "calls": calls,
        "ours_ms_per_call": sum(ours_pk.values()),
        "bare_ms_per_call": sum(bare_pk.values()),
        "by_package_ms_per_call": {
            name: {"ours": ours_pk.get(name, 0.0), "bare": bare_pk.get(name, 0.0)}
            for name in sorted(set(ours_pk) | set(bare_pk), key=lambda n: -ours_pk.get(n, 0.0))
        },
        "top_own_functions_cum_ms_per_call": top_functions(ours_prof, calls, "/server/workers_ai_mcp/"),
        "top_sdk_functions_cum_ms_per_call": top_functions(ours_prof, calls, "site-packages/mcp/"),
        "burst": {
            "calls": bursts * in_flight,
            "by_package_ms_per_call": by_package(burst_prof, bursts * in_flight + 1),
            "top_own_time_ms_per_call": top_functions(burst_prof, bursts * in_flight + 1, own=True),
            "httpcore2_pool_cum_ms_per_call": top_functions(burst_prof, bursts * in_flight + 1, "httpcore2/", 6),
        },
    }
    write_json("profile_calls", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = [
        f"CPU per call under cProfile ({results['calls']} calls): ours translate "
        f"{results['ours_ms_per_call']:.2f} ms, bare echo {results['bare_ms_per_call']:.2f} ms",
        "  own time by package, ms/call (ours / bare): "
        + ", ".join(
            f"{name} {v['ours']:.2f}/{v['bare']:.2f}"
            for name, v in list(results["by_package_ms_per_call"].items())[:12]
        ),
        "  our functions by cumulative ms/call: "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in results["top_own_functions_cum_ms_per_call"][:8]),
        f"  {results['burst']['calls']} calls in bursts of 64, own time by package ms/call: "
        + ", ".join(f"{k} {v:.2f}" for k, v in list(results["burst"]["by_package_ms_per_call"].items())[:8]),
        "  bursts, httpcore2 by cumulative ms/call: "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in results["burst"]["httpcore2_pool_cum_ms_per_call"]),
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.calls))))


if __name__ == "__main__":
    main()
