"""Audio tools: transcribe_audio (speech to text) and text_to_speech.

Over 300 lines because both directions share one reading of the models' audio schemas (raw bodies,
base64 fields, stream handles) and one set of language and voice checks.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from ..catalog import languages
from ..catalog.model_input import ModelWire, Param, fill, wire_for
from ..catalog.requests import media_request
from ..client import BinaryResult, RunResult
from ..client.errors import InvalidRequestError, ResponseDecodeError
from ..client.request import json_request
from ..jsonvalues import as_dict, dicts
from ..media.inputs import resolve_media
from ..state import AppState
from .host.call_info import CallInfo, call_of
from .host.common import WRITES_OUTPUT, AppContext, add_inference_tool, model_param, state_of
from .host.links import resource_link
from .host.registry import Registry
from .host.results import media_result
from .host.samples import AUDIO, Samples

WHISPER_TURBO = "@cf/openai/whisper-large-v3-turbo"
_RAW_AUDIO = ModelWire(body=True, json_form="array", media_field="audio")
# whisper and whisper-tiny-en take the audio itself as the body; whisper-large-v3-turbo only JSON
# with base64 audio; nova-3 over REST a raw body with an audio content type, its options (such as
# `language`) as query parameters.
ASR_KNOWN: dict[str, ModelWire] = {
    "@cf/openai/whisper": _RAW_AUDIO,
    "@cf/openai/whisper-tiny-en": _RAW_AUDIO,
    "@cf/deepgram/nova-3": ModelWire(params={"language": Param("language")}, stream=True, media_field="audio"),
    WHISPER_TURBO: ModelWire(
        params={
            "task": Param("task", choices=("transcribe", "translate")),
            "language": Param("language"),
            "vad_filter": Param("vad_filter"),
        },
        json_form="base64",
        media_field="audio",
    ),
}
_ASR_NAMES = {"task": ("task",), "language": ("language",), "vad_filter": ("vad_filter",)}
AURA_SPEAKERS = (
    *("angus", "asteria", "arcas", "orion", "orpheus", "athena"),
    *("luna", "zeus", "perseus", "helios", "hera", "stella"),
)
TTS_DEFAULT = "@cf/myshell-ai/melotts"
TTS_KNOWN: dict[str, ModelWire] = {
    "@cf/myshell-ai/melotts": ModelWire(params={"text": Param("prompt"), "lang": Param("lang")}),
    "@cf/deepgram/aura-1": ModelWire(params={"text": Param("text"), "voice": Param("speaker", choices=AURA_SPEAKERS)}),
}
_TTS_NAMES = {"text": ("text", "prompt"), "lang": ("lang", "language"), "voice": ("speaker", "voice")}
# A catalog model that takes each optional input, named when the chosen model does not.
_TTS_TAKES = {"voice": "@cf/deepgram/aura-1", "lang": "@cf/myshell-ai/melotts"}
# Transcripts longer than this go to a file; the result keeps their start.
INLINE_TEXT_CHARS = 20_000
_CUE_TIME = re.compile(r"(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)")


class Segment(BaseModel):
    start: float = Field(description="Seconds from the start of the audio.")
    end: float
    text: str


class Transcription(BaseModel):
    """What was said, with timing."""

    model: str
    text: str = Field(description="The transcript (its start only, when `truncated`).")
    language: str | None = None
    duration: float | None = Field(default=None, description="Length of the audio in seconds.")
    segments: list[Segment] = Field(default_factory=list[Segment])
    vtt: str | None = Field(default=None, description="WebVTT subtitles, when asked for and small enough.")
    truncated: bool = Field(default=False, description="Text or segments were cut; the files have everything.")
    transcript_path: str | None = None
    transcript_uri: str | None = None
    vtt_path: str | None = None
    vtt_uri: str | None = None
    call: dict[str, Any] | None = None


async def transcribe_audio(
    audio: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40_000_000,
            description="Audio (MP3, WAV, OGG, FLAC, M4A, WebM): https URL, data: URI, base64, or a file path.",
        ),
    ],
    ctx: AppContext,
    language: Annotated[
        str | None,
        Field(
            min_length=2,
            max_length=8,
            pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?$",
            description="Language spoken, as an ISO code such as 'en' or 'fr' (whisper-large-v3-turbo assumes "
            "'en' when omitted).",
        ),
    ] = None,
    task: Annotated[
        Literal["transcribe", "translate"],
        Field(description="'translate' gives an English translation (whisper-large-v3-turbo only)."),
    ] = "transcribe",
    include_vtt: Annotated[bool, Field(description="Also return WebVTT subtitles.")] = False,
    vad_filter: Annotated[
        bool | None, Field(description="Skip silence with voice activity detection (whisper-large-v3-turbo).")
    ] = None,
    model: Annotated[str | None, model_param()] = None,
) -> Annotated[CallToolResult, Transcription]:
    """Transcribe speech in an audio file to text with timed segments (Whisper large v3 turbo by default)."""
    state = state_of(ctx)
    await anyio.to_thread.run_sync(state.outputs.check_usable)  # a long transcript is saved to a file
    chosen = model or state.settings.transcribe_model
    media = await resolve_media(audio, "audio", settings=state.settings, http=state.ai.http)
    wire = await wire_for(state.ai, chosen, ASR_KNOWN, names=_ASR_NAMES, media_field="audio")
    values: dict[str, Any] = {"language": language, "vad_filter": vad_filter}
    if task != "transcribe" or "task" in wire.params:
        values["task"] = task
    extra = fill(chosen, wire.params, values, hint=f", or use {WHISPER_TURBO}")
    if not (wire.body or wire.stream or wire.json_form):
        raise InvalidRequestError(
            f"{chosen} takes no audio file this tool can send (streaming-only models need a WebSocket); "
            f"use {WHISPER_TURBO}, or call get_model_schema to check."
        )
    result = await state.ai.run(chosen, media_request(chosen, wire, media.data, media.media_type, extra))
    data = _transcript(result, chosen, include_vtt=include_vtt)
    data.call = call_of(result.meta)
    return _transcription_result(state, data)


async def text_to_speech(
    text: Annotated[str, Field(min_length=1, max_length=2000, description="What to say.")],
    ctx: AppContext,
    lang: Annotated[
        str,
        Field(
            min_length=2,
            max_length=8,
            description="Language of the text for melotts: 'en', 'es', 'fr', 'zh', 'ja' or 'ko' (or its English name).",
        ),
    ] = "en",
    voice: Annotated[
        str | None,
        Field(max_length=40, description=f"Voice (speaker) for Deepgram Aura models, e.g. {', '.join(AURA_SPEAKERS)}."),
    ] = None,
    model: Annotated[str | None, model_param()] = None,
) -> list[ContentBlock]:
    """Speak a text aloud: saves an MP3 in the output folder and returns it as audio (MeloTTS by default)."""
    state = state_of(ctx)
    chosen = model or state.settings.speech_model
    await anyio.to_thread.run_sync(state.outputs.check_usable)  # the speech is always saved
    wire = await wire_for(state.ai, chosen, TTS_KNOWN, names=_TTS_NAMES)
    if "text" not in wire.params:
        raise InvalidRequestError(
            f"{chosen} takes no `text` or `prompt` to speak; use a text-to-speech model such as {TTS_DEFAULT}."
        )
    values: dict[str, Any] = {"text": text, "voice": voice}
    if lang != "en" or "lang" in wire.params:
        values["lang"] = _speech_lang(chosen, wire, lang)
    inputs = fill(chosen, wire.params, values, takes=_TTS_TAKES)
    result = await state.ai.run(chosen, json_request(inputs))
    data, media_type = _speech(result, chosen)
    note = TextContent(type="text", text=CallInfo.from_meta(result.meta).note)
    return await media_result(state.outputs, state.settings, data, media_type, stem=f"speech-{text[:30]}", after=[note])


def _speech(result: RunResult, model: str) -> tuple[bytes, str]:
    """Audio bytes and type from a raw audio answer or a JSON `{audio: <base64>}` one."""
    if isinstance(result, BinaryResult):
        if not result.media_type.startswith("audio/"):
            raise ResponseDecodeError(f"{model} answered with {result.media_type}, not audio.")
        return result.data, result.media_type
    encoded = result.object.get("audio")
    if not isinstance(encoded, str) or not encoded:
        raise ResponseDecodeError(f"{model} answered JSON without an `audio` field, so there is no speech to save.")
    try:
        return base64.b64decode(encoded, validate=True), "audio/mpeg"
    except (binascii.Error, ValueError):
        raise ResponseDecodeError(f"{model} answered with audio that is not valid base64.") from None


def _transcript(result: RunResult, model: str, *, include_vtt: bool) -> Transcription:
    """A Whisper-style (`text`, `segments`/`vtt`) or Deepgram-style (`results.channels`) answer, read."""
    data = result.object
    info = as_dict(data.get("transcription_info"))
    text = data.get("text")
    words: list[dict[str, Any]] = []
    if not isinstance(text, str):
        channels = dicts(as_dict(data.get("results")).get("channels"))
        alternatives = dicts(channels[0].get("alternatives")) if channels else []
        text = alternatives[0].get("transcript") if alternatives else None
        words = dicts(alternatives[0].get("words")) if alternatives else []
    if not isinstance(text, str):
        raise ResponseDecodeError(
            f"{model} answered without a transcript (no `text` and no `results.channels`); try {WHISPER_TURBO}."
        )
    vtt = data.get("vtt") if isinstance(data.get("vtt"), str) else None
    segments = [
        Segment(start=float(s["start"]), end=float(s["end"]), text=str(s.get("text", "")).strip())
        for s in dicts(data.get("segments"))
        if isinstance(s.get("start"), int | float) and isinstance(s.get("end"), int | float)
    ] or _cues(vtt or "")
    if include_vtt and vtt is None and segments:
        vtt = _to_vtt(segments)
    duration = info.get("duration")
    if not isinstance(duration, int | float):
        ends = [float(w["end"]) for w in words if isinstance(w.get("end"), int | float)]
        duration = segments[-1].end if segments else max(ends, default=None)
    language = info.get("language")
    return Transcription(
        model=model,
        text=text.strip(),
        language=language if isinstance(language, str) else None,
        duration=float(duration) if duration is not None else None,
        segments=segments,
        vtt=vtt if include_vtt else None,
    )


def _speech_lang(model: str, wire: ModelWire, lang: str) -> str:
    """`lang` in the model's form; refused when its schema lists the languages and this is not one of them,
    or when it names no language at all (a schema with a free `lang` string still wants a language code)."""
    param = wire.params.get("lang")
    if param is None:
        return lang  # `fill` refuses it, naming a model that takes it
    code = languages.model_code(lang, param.choices)
    if param.choices and code not in param.choices:
        raise InvalidRequestError(f"{model} does not speak {lang!r}; it knows {languages.names_of(param.choices)}.")
    if not param.choices and languages.find(lang) is None:
        raise InvalidRequestError(
            f"{lang!r} is not a language {model} can be given; pass an ISO 639-1 code such as 'en' or 'fr', or "
            "the language's English name."
        )
    return code


def _transcription_result(state: AppState, data: Transcription) -> CallToolResult:
    """Big transcripts (or subtitles) saved to files, with their start kept inline; the content is readable text."""
    links: list[ContentBlock] = []
    segments_size = len(json.dumps([s.model_dump() for s in data.segments]))
    if len(data.text) > INLINE_TEXT_CHARS or segments_size > INLINE_TEXT_CHARS:
        saved = state.outputs.save(data.text.encode(), stem="transcript", extension="txt")
        data.transcript_path, data.transcript_uri = str(saved.path), saved.uri
        links.append(resource_link(saved))
        data.text, data.segments, data.truncated = _head(data.text), _first_segments(data.segments), True
    if data.vtt is not None and len(data.vtt) > INLINE_TEXT_CHARS:
        saved = state.outputs.save(data.vtt.encode(), stem="subtitles", extension="vtt")
        data.vtt_path, data.vtt_uri, data.vtt = str(saved.path), saved.uri, None
        links.append(resource_link(saved))
    structured = data.model_dump(mode="json")
    facts = [f for f in (data.language, f"{data.duration:g} s" if data.duration is not None else None) if f]
    lines = [data.text, "", f"[{data.model}{', ' + ', '.join(facts) if facts else ''}]"]
    if data.transcript_path:
        lines.append(f"Full transcript: {data.transcript_path}")
    if data.vtt_path:
        lines.append(f"Subtitles (WebVTT): {data.vtt_path}")
    if data.vtt:
        lines += ["", data.vtt]
    blocks: list[ContentBlock] = [TextContent(type="text", text="\n".join(lines)), *links]
    return CallToolResult(content=blocks, structured_content=structured)


def _head(text: str) -> str:
    cut = text[:INLINE_TEXT_CHARS]
    return cut[: cut.rfind(" ")] if " " in cut[-200:] else cut


def _first_segments(segments: list[Segment]) -> list[Segment]:
    kept: list[Segment] = []
    size = 0
    for segment in segments:
        size += len(segment.text) + 40
        if size > INLINE_TEXT_CHARS:
            break
        kept.append(segment)
    return kept


def _cues(vtt: str) -> list[Segment]:
    """Segments from WebVTT cues (`00:01.000 --> 00:02.500` then text lines)."""
    segments: list[Segment] = []
    for block in re.split(r"\n\s*\n", vtt.replace("\r\n", "\n")):
        lines = [line for line in block.strip().splitlines() if line.strip()]
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue
        start, _, end = lines[timing].partition("-->")
        begin, finish = _seconds(start), _seconds(end.split()[0] if end.split() else "")
        if begin is not None and finish is not None:
            segments.append(Segment(start=begin, end=finish, text=" ".join(lines[timing + 1 :]).strip()))
    return segments


def _seconds(clock: str) -> float | None:
    match = _CUE_TIME.fullmatch(clock.strip())
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def _to_vtt(segments: list[Segment]) -> str:
    def clock(value: float) -> str:
        hours, rest = divmod(value, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{int(hours):02d}:{int(minutes):02d}:{seconds:06.3f}"

    cues = [f"{clock(s.start)} --> {clock(s.end)}\n{s.text}" for s in segments]
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


SAMPLES: Samples = {
    "transcribe_audio": {"audio": AUDIO},
    "text_to_speech": {"text": "Hi."},
}


def register(server: Registry) -> None:
    """Add the audio tools to `server`."""
    add_inference_tool(server, transcribe_audio, title="Transcribe audio", annotations=WRITES_OUTPUT)
    add_inference_tool(server, text_to_speech, title="Text to speech", annotations=WRITES_OUTPUT)
