"""Every scripted emulator fault against a JSON tool, a streamed chat, two binary answers and a media upload,
then hostile answers (endless bodies, a gzip bomb, an empty answer, a redirect) against the same tools.

Each case opens a real MCP session, makes a clean call (the expected answer: the emulator is
deterministic), injects the fault, makes the same call, and checks that it ends (a hang fails the
test at the deadline plus 5 s; no timing is asserted) with the same answer (a transient fault with
retries left) or a tool error naming the cause; that the emulator saw exactly the attempts the retry
policy allows (max_retries=2: 3 for retryable faults, 1 for final ones); that the same session then
answers the next call; and that the output folder holds only whole, decodable files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
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
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState, Fault, create_emulator_app
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.state import AppState

from .checks import assert_whole_files, text_of

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
AURA = "@cf/deepgram/aura-1"
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
STREAM_CAUSES = {Fault.TRUNCATED_SSE: ("stream ended before it was complete",)}
# Over a socket a reset arrives after the response headers, while the answer is read.
SOCKET_CAUSES = {
    ("translate", Fault.CONNECTION_RESET): ("broke mid-answer", "after 3 attempts"),
    ("chat", Fault.CONNECTION_RESET): ("stream broke",),
}


@dataclass(frozen=True)
class ToolCase:
    arguments: Callable[[Path], dict[str, Any]]
    saves_file: bool = False
    streams: bool = False


TOOLS: dict[str, ToolCase] = {
    "translate": ToolCase(lambda _: {"text": "The lighthouse keeper waved.", "target_lang": "fr"}),
    "chat": ToolCase(lambda _: {"prompt": "Name three rivers.", "max_tokens": 48}, streams=True),
    "generate_image": ToolCase(
        lambda _: {"prompt": "a red fox", "model": SDXL, "width": 256, "height": 256, "steps": 2}, saves_file=True
    ),
    "text_to_speech": ToolCase(lambda _: {"text": "Hello there.", "model": AURA, "voice": "luna"}, saves_file=True),
    "classify_image": ToolCase(lambda root: {"image": str(root / "photo.png"), "top_k": 3}),
}


def test_the_matrix_covers_every_scripted_fault() -> None:
    assert set(RETRYABLE) | set(FINAL) == set(Fault)
    assert set(CAUSES) == set(Fault)


def _cases() -> list[Any]:
    cases: list[Any] = []
    for tool in TOOLS:
        for fault in RETRYABLE:
            # Retry-After: 1 costs a real second per retry; keep those cases few.
            if fault is Fault.RATE_LIMIT_3040_RETRY_AFTER and tool not in ("translate", "chat"):
                continue
            cases.append(pytest.param(tool, fault, 1, id=f"{tool}-{fault.name}-recovers"))
            if fault is not Fault.RATE_LIMIT_3040_RETRY_AFTER or tool == "translate":
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


def _answer(case: ToolCase, outcome: Outcome, new_files: set[Path]) -> object:
    """What must be the same after a recovered fault as in a clean call."""
    assert not outcome.result.is_error, text_of(outcome.result)
    if case.streams:
        assert outcome.progress > 0, "the chat did not stream progress"
    if not case.saves_file:
        return outcome.result.structured_content
    assert len(new_files) == 1, new_files
    (saved,) = new_files
    assert str(saved) in text_of(outcome.result)
    return saved.read_bytes()


def _run_attempts(state: EmulatorState) -> int:
    return sum("/ai/run/" in request.path for request in state.requests)


async def _check_fault(
    client: Client,
    settings: Settings,
    state: EmulatorState,
    tool: str,
    fault: Fault,
    injected: int,
    causes: tuple[str, ...] | None = None,
) -> None:
    case = TOOLS[tool]
    arguments = case.arguments(settings.input_roots[0])
    outputs = settings.output_dir
    bound = settings.timeout + 5  # a hang guard, not a timing budget

    before = _files(outputs)
    expected = _answer(case, await _call(client, tool, arguments, bound), _files(outputs) - before)

    state.reset_counters()
    state.inject(*[fault] * injected)
    before = _files(outputs)
    faulty = await _call(client, tool, arguments, bound)
    written = _files(outputs) - before

    assert not state.faults, "the call did not consume every injected fault"
    recovers = fault in RETRYABLE and injected < MAX_ATTEMPTS
    if recovers:
        assert _answer(case, faulty, written) == expected
        assert _run_attempts(state) == injected + 1
        if fault is Fault.RATE_LIMIT_3040_RETRY_AFTER:
            assert faulty.seconds >= 1.0, "Retry-After: 1 was not honoured"
    else:
        text = text_of(faulty.result)
        assert faulty.result.is_error, text
        if causes is None:
            causes = STREAM_CAUSES.get(fault, CAUSES[fault]) if case.streams else CAUSES[fault]
        for cause in causes:
            assert cause in text
        assert "<" not in text and "Traceback" not in text  # no raw HTML body, no internals
        assert _run_attempts(state) == (MAX_ATTEMPTS if fault in RETRYABLE else 1)
        assert not written, f"a failed call left files behind: {written}"

    before = _files(outputs)
    after = await _call(client, tool, arguments, bound)
    assert _answer(case, after, _files(outputs) - before) == expected
    assert_whole_files(outputs)


@dataclass
class Rig:
    """One emulator for the module and a server per deadline: building a server costs about 0.15 s."""

    state: EmulatorState
    servers: dict[float, tuple[MCPServer[AppState], Settings]]


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
    # Legacy mode puts the progress token in `_meta`, so that chat streams (see chat_support.progress_token).
    async with Client(server, mode="legacy", raise_exceptions=True) as client:
        await _check_fault(client, settings, rig.state, tool, fault, injected)


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
HOSTILE_TOOLS = {"translate": TOOLS["translate"], "chat": TOOLS["chat"], "generate_image": TOOLS["generate_image"]}


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
    arguments = HOSTILE_TOOLS[tool].arguments(tmp_path)
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
