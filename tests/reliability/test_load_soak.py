# The harness lives in bench/reliability (put on the path by __init__.py), outside what pyright resolves:
# pyright: reportMissingImports=false, reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false
"""Small, fast versions of the load and soak runs of `bench/reliability/run.py`, with the same harness and checks.

Full sizes (2,000 HTTP calls from 32 clients, 64 calls in flight over stdio, a 5,000-call soak)
are in the bench; these keep the default test run under a few seconds each.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import httpload
import sleep_server
import soak
import stdioload
from mcp import Client

from conftest import make_settings
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState

CONCURRENCY_BUDGET = 1.4
MEBIBYTE_KIB = 1024


async def test_streamable_http_answers_every_call_and_99_percent_through_10_percent_faults() -> None:
    with anyio.fail_after(120):
        async with httpload.http_target(0.05, backoff=0.0) as base:
            clean = await httpload.drive(base, 200, 8, latency=0.05, fault_rate=0.0)
            faulty = await httpload.drive(base, 200, 8, latency=0.05, fault_rate=0.1)

    assert (clean.ok, clean.clear_errors, clean.unclear) == (200, [], [])
    assert clean.upstream["run_requests"] == 200
    assert faulty.unclear == [], faulty.unclear[:3]
    assert faulty.ok + len(faulty.clear_errors) == 200
    assert faulty.success_rate >= 0.99
    injected, runs = faulty.upstream["faults_injected"], faulty.upstream["run_requests"]
    assert 0.05 <= injected / runs <= 0.2, faulty.upstream
    # Each upstream request was a 503 or the one answer of a call that succeeded: the retries add up.
    assert runs == faulty.ok + injected - faulty.upstream["faults_unconsumed"], faulty.upstream


async def test_sixteen_calls_in_flight_do_not_queue_and_sequential_calls_reuse_one_connection(
    tmp_path: Path,
) -> None:
    state = EmulatorState(latency=0.2)
    with anyio.fail_after(60):
        async with stdioload.emulator_on_loopback(state) as url:
            server = create_server(make_settings(tmp_path, base_url=f"{url}/client/v4"))
            async with Client(server) as ours, Client(sleep_server.build()) as bare:
                upstream = stdioload.LocalUpstream(state)
                result = await stdioload.compare(ours, bare, upstream, in_flight=16, rounds=3)

    assert result.ratio <= CONCURRENCY_BUDGET, result.figures()
    assert result.connections["sequential_fresh"] == 1
    assert result.connections["sequential_after_bursts"] == 1


async def test_a_300_call_soak_leaves_no_descriptor_task_or_memory_behind(tmp_path: Path) -> None:
    with anyio.fail_after(120):
        run = await soak.soak(300, tmp_path, warmup=100)

    assert [e for e in run.errors if e.startswith("UNEXPECTED")] == []
    assert run.ok + len(run.errors) == 300
    assert len(run.errors) <= run.faults["MALFORMED_JSON"]
    growth, left = run.growth("after_warmup", "at_end"), run.growth("before_session", "after_close")
    assert (growth["fds"], growth["tasks"]) == (0, 0), run.figures()
    assert (left["fds"], left["tasks"]) == (0, 0), run.figures()
    assert growth["rss_kib"] < 10 * MEBIBYTE_KIB
