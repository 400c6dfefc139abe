# The harness lives in bench/reliability (put on the path by __init__.py), outside what pyright resolves:
# pyright: reportMissingImports=false, reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false
"""Small, fast versions of the load and soak runs of `bench/reliability/run.py`, with the same harness and checks.

Full sizes (2,000 HTTP calls from 32 clients, 64 calls in flight over stdio, a 5,000-call soak)
are in the bench; these keep the default test run under a few seconds each. Nothing here depends
on how loaded the machine is: the wall-clock ratio against a bare server is measured by the bench
(`bench/reliability/run.py`, "concurrency"), and "calls do not queue" is shown here by holding every
upstream request until all of them have arrived.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import httpload
import soak
import stdioload
from starlette.types import ASGIApp, Receive, Scope, Send

from support.loopback import serving
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app

MEBIBYTE_KIB = 1024
IN_FLIGHT = 16


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


class HoldRuns:
    """Holds each model run until `count` of them are in the emulator at once: only calls that do not
    queue behind one another can all get through."""

    def __init__(self, app: ASGIApp, count: int) -> None:
        self.app = app
        self.count = count
        self.arrived = 0
        self.all_in = anyio.Event()
        self.armed = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/ai/run/" in scope["path"] and self.armed:
            self.arrived += 1
            if self.arrived >= self.count:
                self.all_in.set()
                self.armed = False
            await self.all_in.wait()
        await self.app(scope, receive, send)


async def test_sixteen_calls_in_flight_do_not_queue_and_sequential_calls_reuse_one_connection(
    tmp_path: Path,
) -> None:
    state = EmulatorState()
    held = HoldRuns(create_emulator_app(state), IN_FLIGHT)
    translate = {"text": "hello", "target_lang": "fr"}
    answers: list[dict[str, object] | None] = []
    with anyio.fail_after(60):
        async with serving(held) as url:
            settings = make_settings(tmp_path, base_url=f"{url}/client/v4")
            async with open_session(settings, raise_exceptions=False) as client:
                upstream = stdioload.LocalUpstream(state)
                sequential_fresh = await stdioload.sequential_connections(client, upstream)

                async def one() -> None:
                    result = await client.call_tool("translate", translate)
                    answers.append(None if result.is_error else result.structured_content)

                held.armed = True
                async with anyio.create_task_group() as group:
                    for _ in range(IN_FLIGHT):
                        group.start_soon(one)
                sequential_after = await stdioload.sequential_connections(client, upstream)

    assert held.all_in.is_set()
    assert len(answers) == IN_FLIGHT
    assert all(answer is not None and answer["target_lang"] == "fr" for answer in answers), answers
    assert (sequential_fresh, sequential_after) == (1, 1)


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
