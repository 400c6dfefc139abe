"""Every figure of docs/reliability.md, in one command: `uv run python bench/reliability/run.py`.

1. Fault matrix and fuzzing: tests/reliability/test_fault_matrix.py and test_fuzz_tools.py (pytest, in a subprocess).
2. Streamable HTTP: 2,000 calls from 32 clients, 50 ms emulated latency; then again with about 10 % of
   upstream requests answered 503.
3. stdio: 64 calls in flight in one session at 200 ms emulated latency against a bare MCPServer tool
   sleeping 200 ms (alternating rounds); connections used by sequential calls.
4. Soak: 5,000 calls in one process: memory, descriptors and tasks before and after.

Prints the figures as Markdown; a full run (every part, full sizes) also writes bench/reliability/results.json
and, with `--write-docs`, puts the figures in docs/reliability.md. Exits with status 1 when a figure misses its
budget. `--quick` runs small sizes; `--only PART` runs some parts.
Loopback only; everything it starts stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import anyio
import httpload
import soak
import stdioload
from figures import HERE, machine
from mcp import Client
from report import render, update_docs, verdicts

ROOT = HERE.parents[1]
PARTS = ("tests", "http", "stdio", "soak")
TESTS = ("tests/reliability/test_fault_matrix.py", "tests/reliability/test_fuzz_tools.py")


def run_tests() -> dict[str, Any]:
    """The fault matrix and the fuzz tests, counted per file from pytest's JUnit report."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        command = [sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        counts: dict[str, dict[str, int]] = {}
        for case in ElementTree.parse(report).iter("testcase"):
            name = Path(str(case.get("classname", "")).replace(".", "/")).name
            outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else "passed"
            if (skipped := case.find("skipped")) is not None:
                outcome = (
                    "xfailed"
                    if "xfail" in str(skipped.get("type", "")) + str(skipped.get("message", ""))
                    else "skipped"
                )
            file_counts = counts.setdefault(name, {})
            file_counts[outcome] = file_counts.get(outcome, 0) + 1
    return {
        "exit_code": completed.returncode,
        "seconds": round(seconds, 1),
        "by_file": counts,
        "summary": completed.stdout.strip().splitlines()[-1:],
    }


async def run_http(calls: int, clients: int) -> dict[str, Any]:
    async with httpload.http_target(0.05) as base:
        await httpload.drive(base, 4 * clients, clients, latency=0.05, fault_rate=0.0)  # warm-up, not counted
        clean = await httpload.drive(base, calls, clients, latency=0.05, fault_rate=0.0)
        faulty = await httpload.drive(base, calls, clients, latency=0.05, fault_rate=0.1)
    return {"clean": clean.figures(), "faults_10_percent": faulty.figures()}


async def run_stdio(in_flight: int, rounds: int) -> dict[str, Any]:
    """Three processes: the emulator, our server over stdio, the bare server over stdio; clients here."""
    with tempfile.TemporaryDirectory(prefix="reliability-stdio-") as folder:
        async with (
            httpload.http_target(0.2, emulator_only=True) as url,
            Client(stdioload.stdio_ours(url, Path(folder))) as ours,
            Client(stdioload.stdio_bare(Path(folder))) as bare,
        ):
            upstream = stdioload.RemoteUpstream(url, 0.2)
            result = await stdioload.compare(ours, bare, upstream, in_flight=in_flight, rounds=rounds)
    return result.figures()


async def run_soak(calls: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reliability-soak-") as folder:
        result = await soak.soak(calls, Path(folder), warmup=min(200, calls // 5))
    return result.figures()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not the published figures")
    parser.add_argument("--write-docs", action="store_true", help="put the figures in docs/reliability.md")
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable); budgets of the rest are not judged",
    )
    args = parser.parse_args()
    parts = set(args.only or PARTS)
    for name in [n for n in os.environ if n.startswith(("CLOUDFLARE_", "WORKERS_AI_"))]:
        del os.environ[name]  # the runs build their own settings; nothing of the developer's may leak in
    quick = args.quick
    results: dict[str, Any] = {"machine": machine(), "quick": quick}
    if "tests" in parts:
        print("fault matrix and fuzzing (pytest) ...", file=sys.stderr)
        results["tests"] = run_tests()
    if "http" in parts:
        print("streamable HTTP load ...", file=sys.stderr)
        results["http"] = anyio.run(run_http, 200 if quick else 2000, 8 if quick else 32)
    if "stdio" in parts:
        print("stdio concurrency ...", file=sys.stderr)
        results["stdio"] = anyio.run(run_stdio, 16 if quick else 64, 3 if quick else 5)
    if "soak" in parts:
        print("soak ...", file=sys.stderr)
        results["soak"] = anyio.run(run_soak, 300 if quick else 5000)
    results["verdicts"] = verdicts(results)
    markdown = render(results)
    print(markdown)
    if parts == set(PARTS) and not quick:  # only a full run replaces the published figures
        (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        if args.write_docs:
            update_docs(ROOT / "docs" / "reliability.md", markdown)
    return 0 if all(verdict["met"] for verdict in results["verdicts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
