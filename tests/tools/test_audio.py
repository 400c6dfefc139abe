"""transcribe_audio and text_to_speech through a real MCP session against the emulator."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import AudioContent, BlobResourceContents, CallToolResult
from starlette.applications import Starlette

from support.media import (
    Captured,
    assert_valid,
    data_uri,
    real_input_schema,
    recording_upstream,
    serve_files,
    small_png,
    wav_bytes,
    write,
)
from support.results import links_of, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState, RecordedRequest
from workers_ai_mcp.tools import audio

Connect = Callable[..., AbstractAsyncContextManager[Client]]

TURBO = "@cf/openai/whisper-large-v3-turbo"
WHISPER = "@cf/openai/whisper"
AURA = "@cf/deepgram/aura-1"


@pytest.fixture
def captured() -> Captured:
    return Captured()


@pytest.fixture
def connect(tmp_path: Path, emulator_app: Starlette, captured: Captured) -> Connect:
    """Opens a session in the test's own task; keyword arguments override settings."""

    def session(**overrides: Any) -> AbstractAsyncContextManager[Client]:
        settings = make_settings(tmp_path, allowed_url_hosts=["127.0.0.1"], **overrides)
        return open_session(settings, upstream=recording_upstream(emulator_app, captured))

    return session


@pytest.fixture
async def files_url() -> AsyncIterator[str]:
    async with serve_files({"/voice.wav": (wav_bytes(), "audio/wav")}) as base:
        yield base


def run_requests(state: EmulatorState) -> list[RecordedRequest]:
    return [r for r in state.requests if "/ai/run/" in r.path]


def audio_blocks(result: CallToolResult) -> list[AudioContent]:
    return [block for block in result.content if isinstance(block, AudioContent)]


def is_mp3(data: bytes) -> bool:
    return data.startswith(b"ID3") or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


async def test_transcribe_audio_sends_base64_json_that_fits_whisper_turbos_real_schema(
    connect: Connect, tmp_path: Path, captured: Captured
) -> None:
    sound = wav_bytes(seconds=2.0)
    path = write(tmp_path, "voice.wav", sound)

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": str(path), "language": "fr", "vad_filter": True})

    assert not result.is_error, text_of(result)
    body = captured.last_json()
    assert_valid(body, real_input_schema("whisper-large-v3-turbo.json"))
    assert base64.b64decode(body["audio"]) == sound
    assert (body["language"], body["vad_filter"], body["task"]) == ("fr", True, "transcribe")
    data = result.structured_content
    assert data is not None and data["model"] == TURBO
    assert data["text"] and data["language"] == "fr" and data["duration"] == pytest.approx(2.0)
    assert data["segments"] and data["segments"][0]["start"] == 0.0
    assert all(s["end"] >= s["start"] for s in data["segments"])
    assert data["vtt"] is None and data["transcript_path"] is None
    assert data["text"] in text_of(result)


async def test_transcribe_audio_sends_raw_bytes_to_whisper_and_times_segments_from_its_subtitles(
    connect: Connect, tmp_path: Path, emulator_state: EmulatorState
) -> None:
    sound = wav_bytes(seconds=1.5)
    path = write(tmp_path, "voice.wav", sound)

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": str(path), "model": WHISPER})

    assert not result.is_error, text_of(result)
    request = run_requests(emulator_state)[-1]
    assert request.content_type == "audio/wav" and request.body_size == len(sound)
    data = result.structured_content
    assert data is not None and data["text"]
    assert data["segments"] == [{"start": 0.0, "end": 1.5, "text": data["text"]}]


async def test_transcribe_audio_reads_deepgram_style_answers_from_nova(
    connect: Connect, tmp_path: Path, emulator_state: EmulatorState
) -> None:
    sound = wav_bytes(seconds=1.0)
    path = write(tmp_path, "voice.wav", sound)

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": str(path), "model": "@cf/deepgram/nova-3"})

    assert not result.is_error, text_of(result)
    request = run_requests(emulator_state)[-1]
    assert request.content_type == "audio/wav" and request.body_size == len(sound)
    data = result.structured_content
    assert data is not None and "transcript" in data["text"] and data["segments"] == []
    assert data["duration"] == pytest.approx(1.0)


@pytest.mark.parametrize("form", ["data URI", "base64", "URL"])
async def test_transcribe_audio_accepts_every_input_form(
    connect: Connect, files_url: str, captured: Captured, form: str
) -> None:
    sound = wav_bytes()
    value = {
        "data URI": data_uri(sound, "audio/wav"),
        "base64": base64.b64encode(sound).decode(),
        "URL": f"{files_url}/voice.wav",
    }[form]

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": value})

    assert not result.is_error, text_of(result)
    assert base64.b64decode(captured.last_json()["audio"]) == sound


async def test_translating_with_a_model_that_cannot_is_refused_before_sending(
    connect: Connect, tmp_path: Path, emulator_state: EmulatorState
) -> None:
    path = write(tmp_path, "voice.wav", wav_bytes())

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": str(path), "model": WHISPER, "task": "translate"})

    assert result.is_error
    assert "does not take `task`" in text_of(result) and TURBO in text_of(result)
    assert run_requests(emulator_state) == []


async def test_an_image_passed_as_audio_is_refused(
    connect: Connect, tmp_path: Path, emulator_state: EmulatorState
) -> None:
    path = write(tmp_path, "voice.mp3", small_png())

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": str(path)})

    assert result.is_error and "not audio" in text_of(result)
    assert run_requests(emulator_state) == []


async def test_include_vtt_returns_subtitles(connect: Connect, tmp_path: Path) -> None:
    path = write(tmp_path, "voice.wav", wav_bytes())

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": str(path), "include_vtt": True})

    data = result.structured_content
    assert data is not None and data["vtt"].startswith("WEBVTT")
    assert "WEBVTT" in text_of(result)


async def test_a_long_transcript_is_saved_to_files_and_trimmed_inline(
    connect: Connect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio, "INLINE_TEXT_CHARS", 30)
    path = write(tmp_path, "voice.wav", wav_bytes(seconds=3.0))

    async with connect() as client:
        result = await client.call_tool("transcribe_audio", {"audio": str(path), "include_vtt": True})
        data = result.structured_content
        assert data is not None and data["truncated"] is True
        full = Path(data["transcript_path"]).read_text()
        assert len(data["text"]) <= 30 and full.startswith(data["text"]) and len(full) > 30
        subtitles = Path(data["vtt_path"]).read_text()
        assert subtitles.startswith("WEBVTT") and data["vtt"] is None
        uris = {str(link.uri) for link in links_of(result)}
        assert uris == {data["transcript_uri"], data["vtt_uri"]}
        read = await client.read_resource(data["transcript_uri"])
        assert getattr(read.contents[0], "text", None) == full


async def test_text_to_speech_saves_an_mp3_and_returns_it_as_audio(
    connect: Connect, tmp_path: Path, captured: Captured
) -> None:
    async with connect() as client:
        result = await client.call_tool("text_to_speech", {"text": "Bonjour tout le monde", "lang": "fr"})
        assert not result.is_error, text_of(result)
        assert_valid(captured.last_json(), real_input_schema("melotts.json"))
        assert captured.last_json() == {"prompt": "Bonjour tout le monde", "lang": "fr"}
        (link,) = links_of(result)
        saved = tmp_path / "outputs" / link.name
        sound = saved.read_bytes()
        assert is_mp3(sound) and saved.suffix == ".mp3" and link.mime_type == "audio/mpeg"
        (block,) = audio_blocks(result)
        assert block.mime_type == "audio/mpeg" and base64.b64decode(block.data) == sound
        assert str(saved) in text_of(result)
        read = await client.read_resource(str(link.uri))
        (blob,) = read.contents
        assert isinstance(blob, BlobResourceContents) and base64.b64decode(blob.blob) == sound


async def test_text_to_speech_with_aura_sends_the_voice_and_keeps_its_raw_mp3(
    connect: Connect, tmp_path: Path, captured: Captured
) -> None:
    async with connect() as client:
        result = await client.call_tool("text_to_speech", {"text": "Hello there", "voice": "luna", "model": AURA})

    assert not result.is_error, text_of(result)
    body = captured.last_json()
    assert_valid(body, real_input_schema("aura-1.json"))
    assert body == {"text": "Hello there", "speaker": "luna"}
    (link,) = links_of(result)
    assert is_mp3((tmp_path / "outputs" / link.name).read_bytes())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"voice": "luna"}, "does not take `voice`"),
        ({"voice": "nobody", "model": AURA}, "must be one of angus"),
        ({"lang": "fr", "model": AURA}, "does not take `lang`"),
    ],
)
async def test_text_to_speech_refuses_options_the_model_does_not_have(
    connect: Connect, emulator_state: EmulatorState, arguments: dict[str, str], message: str
) -> None:
    async with connect() as client:
        result = await client.call_tool("text_to_speech", {"text": "Hi", **arguments})

    assert result.is_error and message in text_of(result)
    assert run_requests(emulator_state) == []


async def test_in_file_mode_speech_is_linked_not_inlined(connect: Connect) -> None:
    async with connect(media_mode="file") as client:
        result = await client.call_tool("text_to_speech", {"text": "Hello"})

    assert not result.is_error and audio_blocks(result) == []
    assert len(links_of(result)) == 1


async def test_speech_longer_than_the_preview_cap_is_only_linked(connect: Connect) -> None:
    async with connect(preview_max_bytes=20_000) as client:
        result = await client.call_tool("text_to_speech", {"text": "A fairly long sentence to speak. " * 20})

    assert not result.is_error and audio_blocks(result) == []
    (link,) = links_of(result)
    assert (link.size or 0) > 20_000
    assert "too long to play inline" in text_of(result)
