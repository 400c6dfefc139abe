"""Hostile inputs through a real MCP session: races on the file system, I/O errors, odd paths, huge data URIs.

Every refusal must be one sentence for the assistant (never the bare "Error executing tool <name>" of a
crash), and no
race may get a file from outside the input roots sent to Workers AI.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import anyio
import pytest
from mcp import Client
from starlette.applications import Starlette

from support.media import noise_png, small_png
from support.results import text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.media import inputs, paths
from workers_ai_mcp.settings import Settings

INSIDE = small_png(64, 48)
OUTSIDE = small_png(32, 16)  # another size, so the emulator's records tell which file was sent


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    (folder / "album").mkdir(parents=True)
    (folder / "album" / "ok.png").write_bytes(INSIDE)
    (folder / "ok.png").write_bytes(INSIDE)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ok.png").write_bytes(OUTSIDE)
    return folder


@pytest.fixture
def settings(tmp_path: Path, root: Path) -> Settings:
    return make_settings(tmp_path, input_roots=[root], max_input_bytes=256 * 1024)


def sent_sizes(state: EmulatorState) -> list[int]:
    return [r.body_size for r in state.requests if "/ai/run/" in r.path]


async def classify(client: Client, image: str) -> tuple[bool, str]:
    result = await client.call_tool("classify_image", {"image": image})
    return bool(result.is_error), text_of(result)


def assert_one_sentence(text: str) -> None:
    """A deliberate refusal: the SDK's prefix, then our sentence (a crash is the bare prefix alone)."""
    prefix = "Error executing tool classify_image: "
    assert text.startswith(prefix) and "Traceback" not in text, text
    sentence = text.removeprefix(prefix)
    assert 20 < len(sentence) < 400 and sentence.endswith("."), text


def patch_resolve_then(monkeypatch: pytest.MonkeyPatch, target: Path, action: Callable[[], None]) -> None:
    """Run `action` right after the sandbox resolves `target`: the window between the checks and the open."""
    original = Path.resolve

    def resolve(self: Path, strict: bool = False) -> Path:
        result = original(self, strict=strict)
        if self == target:
            action()
        return result

    monkeypatch.setattr(Path, "resolve", resolve)


async def test_a_percent_encoded_nul_in_a_file_uri_is_a_sentence(
    root: Path, settings: Settings, emulator_app: Starlette
) -> None:
    async with open_session(settings, upstream=emulator_app) as client:
        failed, text = await classify(client, (root / "ok.png").as_uri() + "%00")
    assert failed and "NUL character" in text
    assert_one_sentence(text)


async def test_a_file_deleted_between_the_checks_and_the_open_is_a_sentence(
    root: Path, settings: Settings, emulator_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = root / "album" / "ok.png"
    patch_resolve_then(monkeypatch, target, target.unlink)
    async with open_session(settings, upstream=emulator_app) as client:
        failed, text = await classify(client, str(target))
    assert failed and "There is no file at" in text
    assert_one_sentence(text)


def swap_for_symlink(folder: Path, outside: Path) -> None:
    folder.rename(folder.with_name("album-real"))
    folder.symlink_to(outside, target_is_directory=True)


@pytest.mark.skipif(not paths.WALKS_BY_DESCRIPTOR, reason="this platform cannot open relative to a folder descriptor")
async def test_a_parent_folder_swapped_for_a_symlink_after_the_checks_is_refused(
    tmp_path: Path,
    root: Path,
    settings: Settings,
    emulator_app: Starlette,
    emulator_state: EmulatorState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = root / "album" / "ok.png"
    patch_resolve_then(monkeypatch, target, lambda: swap_for_symlink(root / "album", tmp_path / "outside"))
    async with open_session(settings, upstream=emulator_app) as client:
        failed, text = await classify(client, str(target))
    assert failed and "changed while it was being opened" in text
    assert_one_sentence(text)
    assert sent_sizes(emulator_state) == []


@pytest.mark.skipif(not paths.WALKS_BY_DESCRIPTOR, reason="this platform cannot open relative to a folder descriptor")
async def test_a_race_swapping_a_folder_for_a_symlink_never_sends_an_outside_file(
    tmp_path: Path, root: Path, settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    album, real, link = root / "album", root / "album-real", root / "album-link"
    link.symlink_to(tmp_path / "outside", target_is_directory=True)
    stop = threading.Event()
    swaps = 0

    def swapper() -> None:  # flips `album` between the real folder and a symlink leading outside
        nonlocal swaps
        while not stop.is_set() and swaps < 200_000:
            album.rename(real)
            link.rename(album)
            album.rename(link)
            real.rename(album)
            swaps += 1

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    outcomes: list[tuple[bool, str]] = []
    try:
        with anyio.fail_after(60):
            async with open_session(settings, upstream=emulator_app) as client:
                deadline = time.monotonic() + 4  # bounds the loop, asserts nothing about speed
                while len(outcomes) < 150 and time.monotonic() < deadline:
                    outcomes.append(await classify(client, "album/ok.png"))
    finally:
        stop.set()
        thread.join(10)
    assert swaps > 0 and outcomes
    for failed, text in outcomes:
        if failed:
            assert_one_sentence(text)
    assert len(INSIDE) != len(OUTSIDE)
    assert len(OUTSIDE) not in sent_sizes(emulator_state)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc/self/mem (reads fail with EIO)")
async def test_an_io_error_after_the_open_is_a_sentence(tmp_path: Path, emulator_app: Starlette) -> None:
    proc = Path(f"/proc/{os.getpid()}")
    settings = make_settings(tmp_path, input_roots=[proc])
    async with open_session(settings, upstream=emulator_app) as client:
        failed, text = await classify(client, str(proc / "mem"))
    assert failed and "could not be read (Input/output error)" in text
    assert_one_sentence(text)


async def test_a_percent_encoded_data_uri_decodes_to_the_same_bytes(
    settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    plain = "data:image/png," + quote_from_bytes(INSIDE)
    escaped = base64.b64encode(INSIDE).decode().replace("+", "%2B").replace("/", "%2F")
    escaped_base64 = "data:image/png;base64," + escaped
    async with open_session(settings, upstream=emulator_app) as client:
        for uri in (plain, escaped_base64):
            failed, text = await classify(client, uri)
            assert not failed, text
    assert sent_sizes(emulator_state) == [len(INSIDE), len(INSIDE)]


@pytest.mark.parametrize("header", ["data:image/png;base64,", "data:image/png,"])
async def test_a_huge_percent_encoded_data_uri_is_refused_without_decoding_it_whole(
    header: str, settings: Settings, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    escapes = 2_000_000  # 6 MB of "%41"; decoded 2 MB, far over the 256 KiB cap
    uri = header + "%41" * escapes
    async with open_session(settings, upstream=emulator_app) as client:
        tracemalloc.start()
        try:
            failed, text = await classify(client, uri)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert failed and "larger than the 0.2 MiB input limit (WORKERS_AI_MCP_MAX_INPUT_BYTES)" in text
    assert_one_sentence(text)
    # The request itself is copied a few times on its way in; decoding it whole took over 400 MB.
    assert peak < 20 * len(uri), f"peak {peak / 1e6:.0f} MB"
    assert sent_sizes(emulator_state) == []


@pytest.mark.parametrize("form", ["data URI", "base64"])
async def test_large_inline_data_is_decoded_off_the_event_loop(
    form: str, settings: Settings, emulator_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = noise_png(280, 300)  # about 250 KB: under the 256 KiB cap, and 330,000 characters of base64
    encoded = base64.b64encode(image).decode()
    value = f"data:image/png;base64,{encoded}" if form == "data URI" else encoded
    assert len(value) > 256 * 1024 and len(image) < settings.max_input_bytes
    threads: list[int] = []
    for name in ("_decode_data_uri", "_as_base64"):
        original: Callable[..., Any] = getattr(inputs, name)

        def recording(*args: Any, _original: Callable[..., Any] = original) -> Any:
            threads.append(threading.get_ident())
            return _original(*args)

        monkeypatch.setattr(inputs, name, recording)
    async with open_session(settings, upstream=emulator_app) as client:
        failed, text = await classify(client, value)
    assert not failed, text
    assert threads and threading.get_ident() not in threads, "decoded on the event loop's thread"
