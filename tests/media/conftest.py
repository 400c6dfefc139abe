"""Fixtures for the media input tests: sample bytes, settings, a loopback HTTP server, a recording client."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from support.media_inputs import Loopback, RecordingTransport, make_png, make_wav, serve_loopback
from workers_ai_mcp.client.client import create_http_client
from workers_ai_mcp.settings import Settings


@pytest.fixture
def png() -> bytes:
    return make_png()


@pytest.fixture
def wav() -> bytes:
    return make_wav()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The one input root of `media_settings`; tests put files here."""
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


@pytest.fixture
def media_settings(tmp_path: Path, root: Path) -> Callable[..., Settings]:
    """Settings with `root` as the input root, guard on, a 64 KiB input cap; overrides win."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "output_dir": tmp_path / "outputs",
            "input_roots": [root],
            "max_input_bytes": 64 * 1024,
            "timeout": 10.0,
        }
        values.update(overrides)
        return Settings(**values)  # pyright: ignore[reportArgumentType]

    return build


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    with serve_loopback() as state:
        yield state


@pytest.fixture
def server(loopback: Loopback) -> Loopback:
    """The module's loopback server with its request log emptied for this test."""
    loopback.hits.clear()
    loopback.huge_bytes_sent = 0
    return loopback


@pytest.fixture(scope="session")
def ssl_context() -> ssl.SSLContext:
    """Built once: loading the CA store takes a tenth of a second."""
    return ssl.create_default_context()


@pytest.fixture
def recorder(ssl_context: ssl.SSLContext) -> RecordingTransport:
    return RecordingTransport(ssl_context)


@pytest.fixture
async def http(
    recorder: RecordingTransport, media_settings: Callable[..., Settings]
) -> AsyncIterator[httpx2.AsyncClient]:
    """The production HTTP client (as the server builds it) over the recording transport."""
    async with create_http_client(media_settings(), transport=recorder) as client:
        yield client
