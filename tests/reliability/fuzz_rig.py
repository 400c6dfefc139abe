"""The fuzz tests' rig: one MCP session on our server, canaries on disk and on loopback, and the invariants.

Canaries: files outside the input root, hidden files inside it and a symlink out of it, each
holding a random marker; an audit hook records any `open` of them, whoever makes it. A loopback
HTTP server counts every request: with the SSRF guard on it must see none. The server's URL
fetches go to the real (loopback) network, its Workers AI calls to the emulator, whose request
bodies are kept so the marker can be looked for there too.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote

import anyio
from anyio.from_thread import BlockingPortal
from hypothesis import currently_in_test_context, event
from hypothesis.strategies import SearchStrategy
from mcp import Client
from mcp.types import CallToolResult, Tool
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from starlette.types import ASGIApp

from support.canary import Canary, canary_server
from support.media import Captured, data_uri, recording_upstream, small_png, wav_bytes
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState

from .checks import assert_whole_file, text_of
from .hostile import INTERNALS, OTHER_SCHEMES, PRIVATE_HOSTS, SENSITIVE_PATHS, Drawn, Pools, strings_in
from .schema_args import schema_invalid

T = TypeVar("T")

CALL_BOUND = 20.0
# A clear error is a sentence or a short list, never the caller's megabytes echoed back.
MAX_ERROR_CHARS = 1000
# Programmer's wording that must never reach an assistant (pydantic's dumps and their links).
PYDANTIC_WORDING = ("validation error for", "errors.pydantic.dev", "input_value=", "[type=", "pydantic")
# Base64 or data-URI text longer than this in a text block or structured content is inlined media.
MAX_BASE64_RUN = 2048
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/]{{{MAX_BASE64_RUN},}}")

_watched: set[str] = set()
_opened: list[str] = []
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _watched or not args or isinstance(args[0], int):
        return
    try:
        real = os.path.realpath(os.fsdecode(args[0]))
    except (TypeError, ValueError, OSError):
        return
    if real in _watched:
        _opened.append(real)


def watch_opens(paths: set[Path]) -> list[str]:
    """Record every later `open` of `paths` (their resolved forms); returns the live record."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_audit)  # cannot be removed: it does nothing while nothing is watched
        _hooked = True
    _watched.clear()
    _watched.update(os.path.realpath(path) for path in paths)
    _opened.clear()
    return _opened


def stop_watching() -> None:
    _watched.clear()
    _opened.clear()


def marked_png(marker: str) -> bytes:
    info = PngInfo()
    info.add_text("Comment", marker)
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@dataclass
class Layout:
    """The folders and files of one fuzz run."""

    root: Path
    outputs: Path
    marker: str
    secrets: set[Path]
    pools: Pools


def lay_out(tmp_path: Path, canary: Canary) -> Layout:
    """Input root with good media, secrets around and inside it, and the good and refused input values."""
    marker = f"CANARY-{uuid.uuid4().hex}"
    root, outside = tmp_path / "root", tmp_path / "outside"
    for folder in (root / ".hidden", root / "sub", outside):
        folder.mkdir(parents=True)
    (root / "photo.png").write_bytes(small_png())
    (root / "voice.wav").write_bytes(wav_bytes(0.5))
    png = marked_png(marker)
    secrets = {outside / "canary.png", outside / "canary.txt", root / ".hidden" / "secret.png", root / ".env"}
    for path in secrets:
        path.write_bytes(png if path.suffix == ".png" else marker.encode())
    (root / "innocent.png").symlink_to(outside / "canary.png")
    (root / "sub" / "escape").symlink_to(outside, target_is_directory=True)
    canary_png = outside / "canary.png"
    refused = [
        str(canary_png),
        str(outside / "canary.txt"),
        "../outside/canary.png",
        "sub/../../outside/canary.png",
        "innocent.png",
        "sub/escape/canary.png",
        ".hidden/secret.png",
        str(root / ".hidden" / "secret.png"),
        ".env",
        canary_png.as_uri(),
        f"file://localhost{quote(str(canary_png))}",
        f"file://{quote(str(root))}/%2e%2e/outside/canary.png",
        f"{root}/./../outside/canary.png",
        *SENSITIVE_PATHS,
        *OTHER_SCHEMES,
        *(f"http://{host}:{canary.port}/cat.png" for host in PRIVATE_HOSTS),
        *(f"https://{host}/latest/meta-data/" for host in PRIVATE_HOSTS[:4]),
        f"HTTP://127.0.0.1:{canary.port}/cat.png",
        f"http://user:pass@127.0.0.1:{canary.port}/cat.png",
    ]
    good = [
        "photo.png",
        str(root / "photo.png"),
        (root / "photo.png").as_uri(),
        data_uri(small_png(), "image/png"),
        data_uri(small_png(), "image/png").partition(",")[2],
        "voice.wav",
        data_uri(wav_bytes(0.5), "audio/wav"),
    ]
    pools = Pools(good_media=good, refused_media=refused, extra=[str(outside), str(canary_png)])
    return Layout(root, tmp_path / "outputs", marker, secrets, pools)


@asynccontextmanager
async def open_rig(tmp_path: Path, emulator_app: ASGIApp, state: EmulatorState) -> AsyncGenerator[FuzzRig]:
    """One session on our server (emulator behind it, URL fetches to loopback), canaries watched throughout."""
    with canary_server(marked_png("canary-server")) as canary:
        layout = lay_out(tmp_path, canary)
        settings = make_settings(tmp_path, input_roots=[layout.root], output_dir=layout.outputs, timeout=5.0)
        captured = Captured()
        sensitive = {Path("/etc/shadow"), Path("/etc/passwd"), Path("/proc/self/environ"), Path.home() / ".ssh/id_rsa"}
        opened = watch_opens(layout.secrets | sensitive)
        try:
            async with open_session(settings, upstream=recording_upstream(emulator_app, captured)) as client:
                tools = {tool.name: tool for tool in (await client.list_tools()).tools}
                yield FuzzRig(client, tools, state, captured, canary, layout, opened)
        finally:
            stop_watching()


@dataclass
class FuzzRig:
    client: Client
    tools: dict[str, Tool]
    state: EmulatorState
    captured: Captured
    canary: Canary
    layout: Layout
    opened: list[str]
    seen_files: set[Path] = field(default_factory=set[Path])
    _strategies: dict[object, SearchStrategy[Any]] = field(default_factory=dict[object, SearchStrategy[Any]])

    def strategy(self, key: object, build: Callable[[], SearchStrategy[T]]) -> SearchStrategy[T]:
        """`build()`, made once per test: a strategy built inside every example costs more than its draws."""
        if key not in self._strategies:
            self._strategies[key] = build()
        return cast(SearchStrategy[T], self._strategies[key])

    async def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        with anyio.fail_after(CALL_BOUND):
            return await self.client.call_tool(tool, arguments)

    async def check(self, tool: str, drawn: Drawn) -> CallToolResult:
        """Call `tool` with `drawn.arguments` and hold every invariant; returns the result."""
        requests, bodies = self.state.request_count, len(self.captured.bodies)
        result = await self.call(tool, drawn.arguments)
        shown = text_of(result)
        everything = shown + json.dumps(result.structured_content, ensure_ascii=False)
        sent = strings_in(drawn.arguments)

        assert shown.strip() != f"Error executing tool {tool}", "the tool crashed (UnexpectedToolError)"
        for internal in INTERNALS:
            assert internal not in everything or any(internal in s for s in sent), f"{internal!r} leaked: {shown}"
        assert self.layout.marker not in everything, "a file outside the input root reached a result"
        assert not any(self.layout.marker.encode() in body for _, body in self.captured.bodies[bodies:])
        assert not self.opened, f"opened outside the input root: {self.opened}"
        assert not self.canary.hits, f"fetched a refused address: {self.canary.hits}"

        invalid = schema_invalid(self.tools[tool].input_schema, drawn.arguments)
        if result.is_error:
            assert len(shown) <= MAX_ERROR_CHARS, f"an error of {len(shown)} characters: {shown[:300]}"
            assert not any(word in shown.lower() for word in PYDANTIC_WORDING), f"pydantic wording: {shown[:300]}"
        else:
            # A model may echo the caller's own text (translate, the emulator's chat); anything else is inlined media.
            inlined = [run for run in _BASE64_RUN.findall(everything) if not any(run in s for s in sent)]
            assert not inlined, f"{len(inlined[0])} characters of base64 inlined as text" if inlined else ""
        if invalid or drawn.refusable:
            assert result.is_error, f"accepted: {everything[:300]}"
            assert self.state.request_count == requests, "a request we could refuse reached Workers AI"
            assert shown.startswith((f"Error executing tool {tool}: ", f"{tool}: ")) and len(shown) >= 30, shown
        self._check_new_files()
        return result

    def _check_new_files(self) -> None:
        current = set(self.layout.outputs.iterdir()) if self.layout.outputs.exists() else set[Path]()
        for path in current - self.seen_files:
            assert_whole_file(path)
        self.seen_files |= current


class Fuzz:
    """The rig, driven from synchronous hypothesis tests: each call runs on the portal's event loop.

    (Hypothesis examples then are plain function calls; pytest-asyncio's wrapping of async
    @given tests reported flaky data generation for examples that drew nothing.)
    """

    def __init__(self, rig: FuzzRig, portal: BlockingPortal) -> None:
        self.rig = rig
        self.portal = portal

    def check(self, tool: str, drawn: Drawn) -> CallToolResult:
        requests = self.rig.state.request_count
        result = self.portal.call(self.rig.check, tool, drawn)
        if not currently_in_test_context():
            return result
        outcome = "error" if result.is_error else "answer"
        reached = "reached Workers AI" if self.rig.state.request_count > requests else "stayed local"
        event(f"{outcome}, {reached}")
        return result

    def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        return self.portal.call(self.rig.call, tool, arguments)
