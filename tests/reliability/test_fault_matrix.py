"""Every scripted emulator fault against every tool the registry has, then hostile answers (endless bodies,
a gzip bomb, an empty answer, a redirect) against a JSON tool, a streamed chat and a binary answer.

The matrix is one: its tools come from the registry (`selftest.registered.tool_families`) and their
arguments from each tool module's samples, so a new tool is covered without editing this file. Each
case opens a real MCP session, makes the same clean call twice (what the emulator answers the same
way both times is the expected answer: the structured content, with new file names set aside, and
the bytes of the files the call saved), injects the fault, makes the call again, and checks that it
ends (a hang fails the test at the deadline plus 5 s; no timing is asserted) with the same answer (a
transient fault with retries left) or a tool error naming the cause; that the emulator saw exactly
the attempts the retry policy allows (max_retries=2: 3 for retryable faults, 1 for final ones); that
the same session then answers the next call; and that the output folder holds only whole, decodable
files. A tool that makes no Workers AI request (it reads local state) answers as before, the faults
left unplayed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.types import CallToolResult
from starlette.applications import Starlette

from security.upstream import Endless, GzipBomb, Upstream, session
from support.loopback import serving
from support.media import small_png
from support.settings import make_settings
from workers_ai_mcp.app import create_server, tool_modules
from workers_ai_mcp.emulator import EmulatorState, Fault, create_emulator_app
from workers_ai_mcp.selftest.registered import tool_families, tool_samples
from workers_ai_mcp.selftest.samples import sample_arguments
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.state import AppState

from .checks import assert_whole_file, assert_whole_files, text_of

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
TIMEOUT = 10.0
HANG_TIMEOUT = 0.5
# A call may overrun its deadline by scheduling noise, not by another attempt.
MAX_ATTEMPTS = 3  # max_retries=2 (the default)

RETRYABLE = (
    Fault.RATE_LIMIT_3040,
    Fault.RATE_LIMIT_3040_RETRY_AFTER,
    Fault.SERVER_ERROR_500,
    Fault.BAD_GATEWAY_HTML_502,
    Fault.UNAVAILABLE_503,
    Fault.GATEWAY_TIMEOUT_504,
    Fault.CONNECTION_RESET,
)
FINAL = (Fault.DAILY_LIMIT_4006, Fault.DAILY_LIMIT_3036, Fault.MALFORMED_JSON, Fault.TRUNCATED_SSE, Fault.HANG)

# What the error text must name, per fault (and per tool where the tool changes the cause).
CAUSES: dict[Fault, tuple[str, ...]] = {
    Fault.RATE_LIMIT_3040: ("out of capacity", "HTTP 429, code 3040", "Gave up after 3 attempts"),
    Fault.RATE_LIMIT_3040_RETRY_AFTER: ("out of capacity", "HTTP 429, code 3040", "Gave up after 3 attempts"),
    Fault.DAILY_LIMIT_4006: ("daily free Workers AI allocation", "used up", "HTTP 429, code 4006"),
    Fault.DAILY_LIMIT_3036: ("daily free Workers AI allocation", "used up", "HTTP 429, code 3036"),
    Fault.SERVER_ERROR_500: ("server-side error", "HTTP 500", "Gave up after 3 attempts"),
    Fault.BAD_GATEWAY_HTML_502: ("server-side error", "HTTP 502", "Gave up after 3 attempts"),
    Fault.UNAVAILABLE_503: ("server-side error", "HTTP 503", "Gave up after 3 attempts"),
    Fault.GATEWAY_TIMEOUT_504: ("server-side error", "HTTP 504", "Gave up after 3 attempts"),
    Fault.CONNECTION_RESET: ("Could not reach Workers AI", "after 3 attempts"),
    Fault.HANG: (f"did not finish within {HANG_TIMEOUT:g} s",),
    Fault.MALFORMED_JSON: ("not valid JSON",),
    Fault.TRUNCATED_SSE: ("not valid JSON",),  # a tool that did not ask for a stream gets cut-off JSON
}
# A tool that asked for a stream (chat, with a progress token) names the cut stream instead.
STREAM_CUT = ("stream ended before it was complete",)
ALSO_CAUSES: dict[Fault, tuple[tuple[str, ...], ...]] = {Fault.TRUNCATED_SSE: (STREAM_CUT,)}
# Over a socket a reset arrives after the response headers, while the answer is read.
SOCKET_CAUSES = {
    ("translate", Fault.CONNECTION_RESET): ("broke mid-answer", "after 3 attempts"),
    ("chat", Fault.CONNECTION_RESET): ("stream broke",),
    ("chat", Fault.TRUNCATED_SSE): STREAM_CUT,
}


# A tool whose module declares it SENT_ONCE (a batch submission) is not sent again after a failure that may
# have reached Cloudflare: one request, and a sentence that says so.
SENT_ONCE = frozenset(name for module in tool_modules() for name in getattr(module, "SENT_ONCE", ()))
MAY_HAVE_ARRIVED = (
    Fault.SERVER_ERROR_500,
    Fault.BAD_GATEWAY_HTML_502,
    Fault.UNAVAILABLE_503,
    Fault.GATEWAY_TIMEOUT_504,
    Fault.CONNECTION_RESET,
)
SENT_ONCE_CAUSES: dict[Fault, tuple[str, ...]] = {
    **{fault: CAUSES[fault][:2] for fault in MAY_HAVE_ARRIVED if fault is not Fault.CONNECTION_RESET},
    Fault.CONNECTION_RESET: ("may have reached Cloudflare", "not sent again"),
}


def sent_once(tool: str, fault: Fault) -> bool:
    return tool in SENT_ONCE and fault in MAY_HAVE_ARRIVED


# Retry-After: 1 costs a real second per retry, and the wait is the client's, the same for every tool.
RETRY_AFTER_TOOLS = ("translate", "chat")
TOOLS = list(tool_families())


def test_the_matrix_covers_every_scripted_fault_and_every_tool() -> None:
    assert set(RETRYABLE) | set(FINAL) == set(Fault)
    assert set(CAUSES) == set(Fault)
    assert set(RETRY_AFTER_TOOLS) <= set(TOOLS) and len(TOOLS) == len(tool_samples())


def _cases() -> list[Any]:
    cases: list[Any] = []
    for tool in TOOLS:
        for fault in RETRYABLE:
            if fault is Fault.RATE_LIMIT_3040_RETRY_AFTER and tool not in RETRY_AFTER_TOOLS:
                continue
            if sent_once(tool, fault):
                cases.append(pytest.param(tool, fault, 1, id=f"{tool}-{fault.name}-sent-once"))
                continue
            cases.append(pytest.param(tool, fault, 1, id=f"{tool}-{fault.name}-recovers"))
            if fault is not Fault.RATE_LIMIT_3040_RETRY_AFTER or tool == RETRY_AFTER_TOOLS[0]:
                cases.append(pytest.param(tool, fault, MAX_ATTEMPTS, id=f"{tool}-{fault.name}-exhausts"))
        cases += [pytest.param(tool, fault, 1, id=f"{tool}-{fault.name}-fails") for fault in FINAL]
    return cases


@dataclass
class Outcome:
    result: CallToolResult
    seconds: float
    progress: int


async def _call(client: Client, tool: str, arguments: dict[str, Any], bound: float) -> Outcome:
    updates: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append(progress)

    started = time.monotonic()
    with anyio.fail_after(bound):
        result = await client.call_tool(tool, arguments, progress_callback=on_progress)
    return Outcome(result, time.monotonic() - started, len(updates))


def _files(folder: Path) -> set[Path]:
    return set(folder.iterdir()) if folder.exists() else set()


@dataclass(frozen=True)
class Answer:
    """What a successful call gave: its structured content (new file names set aside), its files, its progress."""

    structured: str
    files: tuple[bytes, ...]
    progressed: bool


def _answer(outcome: Outcome, new_files: set[Path]) -> Answer:
    result = outcome.result
    assert not result.is_error, text_of(result)
    structured = json.dumps(result.structured_content, sort_keys=True, ensure_ascii=False)
    shown = text_of(result) + structured + " ".join(str(getattr(block, "uri", "")) for block in result.content)
    for path in new_files:
        assert path.name in shown, f"the result does not name the file it saved, {path.name}"
        structured = structured.replace(path.name, "<saved file>")
    return Answer(structured, tuple(sorted(path.read_bytes() for path in new_files)), outcome.progress > 0)


@dataclass(frozen=True)
class Reference:
    """Two clean calls of a tool in one session, and how many Workers AI requests the second made (caches warm)."""

    expected: Answer
    again: Answer
    requests: int


def _assert_same(got: Answer, expected: Answer, again: Answer) -> None:
    """`got` is what two clean calls agreed on: whatever differed between them (a job id, a count) is not compared."""
    if expected.structured == again.structured:
        assert got.structured == expected.structured
    if expected.files == again.files:
        assert got.files == expected.files
    assert got.progressed or not (expected.progressed and again.progressed), "the call reported no progress"


def _ai_requests(state: EmulatorState) -> int:
    """Requests to the Workers AI API (the paths the emulator plays faults on) since the last reset."""
    return sum("/ai/" in request.path or "/workers-ai/" in request.path for request in state.requests)


async def _check_fault(
    client: Client,
    settings: Settings,
    state: EmulatorState,
    tool: str,
    fault: Fault,
    injected: int,
    causes: tuple[str, ...] | None = None,
    earlier: dict[str, dict[str, Any]] | None = None,
    references: dict[str, Reference] | None = None,
) -> None:
    listed = {listed.name: listed for listed in (await client.list_tools()).tools}
    arguments = sample_arguments(tool, listed[tool].input_schema, settings.input_roots[0], earlier)
    outputs = settings.output_dir
    bound = settings.timeout + 5  # a hang guard, not a timing budget
    present = _files(outputs)

    async def clean() -> Answer:
        before = _files(outputs)
        outcome = await _call(client, tool, arguments, bound)
        return _answer(outcome, _files(outputs) - before)

    first = await clean()  # also fills this session's caches (a model's schema, the catalog)
    known = (references or {}).get(tool)
    if known is None:
        state.reset_counters()
        known = Reference(first, await clean(), _ai_requests(state))
        if references is not None:
            references[tool] = known
    else:
        _assert_same(first, known.expected, known.again)
    expected, again, requests = known.expected, known.again, known.requests

    state.reset_counters()
    state.inject(*[fault] * injected)
    before = _files(outputs)
    faulty = await _call(client, tool, arguments, bound)
    written = _files(outputs) - before

    if requests == 0:  # the tool reads local state only: no fault can reach it
        assert len(state.faults) == injected
        state.faults.clear()
        _answer(faulty, written)
    elif fault in RETRYABLE and injected < MAX_ATTEMPTS and not sent_once(tool, fault):
        assert not state.faults, "the call did not consume every injected fault"
        _assert_same(_answer(faulty, written), expected, again)
        assert _ai_requests(state) == requests + injected
        if fault is Fault.RATE_LIMIT_3040_RETRY_AFTER:
            assert faulty.seconds >= 1.0, "Retry-After: 1 was not honoured"
    else:
        assert not state.faults, "the call did not consume every injected fault"
        text = text_of(faulty.result)
        assert faulty.result.is_error, text
        if causes is None and sent_once(tool, fault):
            causes = SENT_ONCE_CAUSES[fault]
        options = [causes] if causes is not None else [CAUSES[fault], *ALSO_CAUSES.get(fault, ())]
        assert any(all(cause in text for cause in option) for option in options), text
        assert "<" not in text and "Traceback" not in text  # no raw HTML body, no internals
        assert _ai_requests(state) == (MAX_ATTEMPTS if fault in RETRYABLE and not sent_once(tool, fault) else 1)
        assert not written, f"a failed call left files behind: {written}"

    before = _files(outputs)
    after = await _call(client, tool, arguments, bound)
    _assert_same(_answer(after, _files(outputs) - before), expected, again)
    for path in _files(outputs) - present:  # the folder grows over the module: each file is checked once
        assert_whole_file(path)


@dataclass
class Rig:
    """One emulator for the module and a server per deadline: building a server costs about 0.15 s.

    `earlier` holds every tool's structured result from one pass over all tools in registry order,
    made before the first case: the arguments of a tool that follows up on another come from it.
    """

    state: EmulatorState
    servers: dict[float, tuple[MCPServer[AppState], Settings]]
    earlier: dict[str, dict[str, Any]] | None = None
    references: dict[str, Reference] = field(default_factory=dict[str, Reference])

    async def warmed(self) -> dict[str, dict[str, Any]]:
        if self.earlier is None:
            server, settings = self.servers[TIMEOUT]
            earlier: dict[str, dict[str, Any]] = {}
            async with Client(server, mode="legacy", raise_exceptions=True) as client:
                for tool in (await client.list_tools()).tools:
                    arguments = sample_arguments(tool.name, tool.input_schema, settings.input_roots[0], earlier)
                    result = await client.call_tool(tool.name, arguments)
                    assert not result.is_error, f"{tool.name}: {text_of(result)}"
                    if result.structured_content:
                        earlier[tool.name] = result.structured_content
            self.earlier = earlier
        return self.earlier


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Rig:
    folder = tmp_path_factory.mktemp("fault-matrix")
    (folder / "photo.png").write_bytes(small_png())
    state = EmulatorState()
    transport = httpx2.ASGITransport(app=create_emulator_app(state))
    servers: dict[float, tuple[MCPServer[AppState], Settings]] = {}
    for timeout in (TIMEOUT, HANG_TIMEOUT):
        settings = make_settings(folder, timeout=timeout)
        servers[timeout] = (create_server(settings, transport=transport), settings)
    return Rig(state, servers)


@pytest.mark.parametrize(("tool", "fault", "injected"), _cases())
async def test_a_fault_ends_in_time_with_the_answer_or_its_cause_and_the_session_serves_on(
    rig: Rig, tool: str, fault: Fault, injected: int
) -> None:
    rig.state.faults.clear()
    server, settings = rig.servers[HANG_TIMEOUT if fault is Fault.HANG else TIMEOUT]
    # Legacy mode puts the progress token in `_meta`, so that chat streams (see tools/host/progress.progress_token).
    earlier = await rig.warmed()
    async with Client(server, mode="legacy", raise_exceptions=True) as client:
        await _check_fault(
            client, settings, rig.state, tool, fault, injected, earlier=earlier, references=rig.references
        )


@pytest.mark.parametrize(
    ("tool", "fault", "injected"),
    [
        pytest.param("translate", Fault.HANG, 1, id="translate-HANG-fails"),
        pytest.param("chat", Fault.HANG, 1, id="chat-HANG-fails"),
        pytest.param("translate", Fault.TRUNCATED_SSE, 1, id="translate-TRUNCATED_SSE-fails"),
        pytest.param("chat", Fault.TRUNCATED_SSE, 1, id="chat-TRUNCATED_SSE-fails"),
        pytest.param("translate", Fault.CONNECTION_RESET, 1, id="translate-RESET-recovers"),
        pytest.param("chat", Fault.CONNECTION_RESET, 1, id="chat-RESET-recovers"),
        pytest.param("translate", Fault.CONNECTION_RESET, MAX_ATTEMPTS, id="translate-RESET-exhausts"),
        pytest.param("chat", Fault.CONNECTION_RESET, MAX_ATTEMPTS, id="chat-RESET-exhausts"),
    ],
)
async def test_over_a_loopback_socket_resets_hangs_and_cut_streams_follow_the_same_policy(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, tool: str, fault: Fault, injected: int
) -> None:
    (tmp_path / "photo.png").write_bytes(small_png())
    async with serving(emulator_app) as url:
        timeout = HANG_TIMEOUT if fault is Fault.HANG else TIMEOUT
        settings = make_settings(tmp_path, base_url=f"{url}/client/v4", timeout=timeout)
        async with Client(create_server(settings), mode="legacy", raise_exceptions=True) as client:
            causes = SOCKET_CAUSES.get((tool, fault))
            await _check_fault(client, settings, emulator_state, tool, fault, injected, causes)


KIB = 1024
HOSTILE_CAP = 256 * KIB
HOSTILE: dict[str, tuple[Callable[[], httpx2.Response], tuple[str, ...], int]] = {
    # name: (the answer, what the error must name, upstream attempts)
    "endless-json": (
        lambda: httpx2.Response(200, headers={"content-type": "application/json"}, content=Endless(b" " * 16 * KIB)),
        ("WORKERS_AI_MCP_MAX_ANSWER_BYTES",),
        1,
    ),
    "endless-sse-line": (
        lambda: httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=Endless(b"x" * 16 * KIB)),
        ("WORKERS_AI_MCP_MAX_STREAM_LINE_BYTES",),
        1,
    ),
    "endless-binary": (
        lambda: httpx2.Response(200, headers={"content-type": "image/png"}, content=Endless(b"\0" * 16 * KIB)),
        ("WORKERS_AI_MCP_MAX_MEDIA_ANSWER_BYTES",),
        1,
    ),
    "gzip-bomb": (
        lambda: httpx2.Response(
            200, headers={"content-type": "application/json", "content-encoding": "gzip"}, content=GzipBomb()
        ),
        ("WORKERS_AI_MCP_MAX_ANSWER_BYTES",),
        1,
    ),
    "endless-500-body": (
        lambda: httpx2.Response(500, headers={"content-type": "text/html"}, content=Endless(b"<p>x</p>" * 2 * KIB)),
        ("server-side error", "HTTP 500", "Gave up after 3 attempts"),
        MAX_ATTEMPTS,
    ),
    "empty-200": (lambda: httpx2.Response(200, headers={"content-type": "application/json"}), ("empty answer",), 1),
    "redirect-302": (
        lambda: httpx2.Response(302, headers={"location": "https://elsewhere.example/"}),
        ("redirect (HTTP 302 to https://elsewhere.example/)", "not followed"),
        1,
    ),
}
# One tool per way of reading an answer: JSON, a stream, binary media.
HOSTILE_TOOLS: dict[str, dict[str, Any]] = {
    "translate": {"text": "The lighthouse keeper waved.", "target_lang": "fr"},
    "chat": {"prompt": "Name three rivers.", "max_tokens": 48},
    "generate_image": {"prompt": "a red fox", "model": SDXL, "width": 256, "height": 256, "steps": 2},
}


def _hostile_cases() -> list[Any]:
    cases: list[Any] = []
    for name in HOSTILE:
        for tool in HOSTILE_TOOLS:
            if name == "endless-sse-line" and tool != "chat":
                continue  # only a streamed call reads an event stream line by line
            if name == "endless-binary" and tool == "chat":
                continue  # a streamed call reads any answer that is not a stream as JSON (that cap is above)
            cases.append(pytest.param(tool, name, id=f"{tool}-{name}"))
    return cases


@pytest.mark.parametrize(("tool", "hostile"), _hostile_cases())
async def test_a_hostile_answer_ends_in_a_named_error_within_the_caps_and_the_session_serves_on(
    tmp_path: Path, tool: str, hostile: str
) -> None:
    make, causes, attempts = HOSTILE[hostile]
    armed = True
    upstream = Upstream(lambda request, n: make() if armed else None)
    arguments = HOSTILE_TOOLS[tool]
    caps = {
        "max_answer_bytes": HOSTILE_CAP,
        "max_stream_line_bytes": HOSTILE_CAP,
        "max_media_answer_bytes": HOSTILE_CAP,
    }
    async with session(upstream, tmp_path, timeout=TIMEOUT, **caps) as client:
        faulty = await _call(client, tool, arguments, TIMEOUT + 5)
        text = text_of(faulty.result)
        assert faulty.result.is_error, text
        for cause in causes:
            assert cause in text
        assert len(upstream.calls) == attempts
        armed = False
        after = await _call(client, tool, arguments, TIMEOUT + 5)
        assert not after.result.is_error, text_of(after.result)
    assert_whole_files(tmp_path / "outputs")
