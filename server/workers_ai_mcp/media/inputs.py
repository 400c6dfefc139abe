"""The one resolver behind every `image` and `audio` parameter.

A value is, in this order of detection: an http(s) URL (fetched by `urls`), a `data:` URI,
raw base64, or a local path or `file://` URI (read by `paths`). Whatever the form, the bytes
must sniff as the expected kind before anything is sent to Workers AI. Every refusal is a
`MediaInputError`: one sentence saying why and what to do.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import anyio
import httpx2

from ..client.errors import InvalidRequestError
from ..settings import Settings
from .paths import PathRefused, display_path, read_local_file
from .sniff import sniff
from .urls import UrlRefused, describe_url, fetch_url

__all__ = ["MediaInput", "MediaInputError", "MediaKind", "accepts", "decode_data_uri", "resolve_media"]

MediaKind = Literal["image", "audio"]

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff"})
# Containers that carry audio as often as video; speech-to-text models read both.
AUDIO_CONTAINERS = frozenset({"video/webm", "video/mp4"})
_UNREADABLE_IMAGES = frozenset({"image/svg+xml", "image/avif", "image/heic", "image/heif"})
_ADVICE: dict[MediaKind, str] = {
    "image": "pass a PNG, JPEG, GIF, WebP, BMP or TIFF image",
    "audio": "pass an MP3, WAV, OGG/Opus, FLAC, M4A/MP4, AAC or WebM audio file",
}

_OTHER_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_WHITESPACE = re.compile(r"\s+")
# Shorter strings of base64 characters could also be a path ("photos/cat"): they count as
# base64 only when they decode to a known media format.
_SURELY_BASE64_CHARS = 1024
# Data longer than this is decoded on a worker thread, so the event loop keeps serving other requests.
OFF_LOOP_CHARS = 256 * 1024
# Percent-decoding works through the text this many bytes at a time and stops once past the cap.
_PERCENT_STEP = 256 * 1024
_ESCAPE_RUNS = re.compile(rb"((?:%[0-9A-Fa-f]{2})+)")

T = TypeVar("T")


class MediaInputError(InvalidRequestError):
    """An image or audio input was refused before anything was sent."""


@dataclass(frozen=True)
class MediaInput:
    """Bytes ready to send, their sniffed MIME type, and where they came from."""

    data: bytes
    media_type: str
    source: str


def accepts(kind: MediaKind, media_type: str) -> bool:
    """Whether a sniffed `media_type` is one the models of `kind` read."""
    if kind == "image":
        return media_type in IMAGE_TYPES
    return media_type.startswith("audio/") or media_type in AUDIO_CONTAINERS


async def resolve_media(value: str, kind: MediaKind, *, settings: Settings, http: httpx2.AsyncClient) -> MediaInput:
    """Bytes of the image or audio `value` names; raise `MediaInputError` with the reason otherwise."""
    text = value.strip()
    if not text:
        raise MediaInputError(f"The {kind} is empty; pass a file path, an http(s) URL, a data: URI or base64 data.")
    limit = settings.max_input_bytes
    declared: str | None = None
    try:
        if text[:8].lower().startswith(("http://", "https://")):
            fetched = await fetch_url(text, settings=settings, http=http)
            data, source = fetched.data, f"URL {describe_url(text)}"
        elif text[:5].lower() == "data:":
            declared, data = await _decode(_decode_data_uri, text, limit)
            source = "data URI"
        elif (decoded := await _decode(_as_base64, text, limit)) is not None:
            data, source = decoded, "base64"
        else:
            local = await anyio.to_thread.run_sync(read_local_file, text, settings)
            data, source = local.data, f"file {display_path(local.path)}"
    except (UrlRefused, PathRefused) as exc:
        raise MediaInputError(str(exc)) from None
    media_type = _checked_type(data, kind, source, declared)
    return MediaInput(data=data, media_type=media_type, source=source)


async def _decode(decoder: Callable[[str, int], T], text: str, limit: int) -> T:
    """`decoder(text, limit)`, on a worker thread when the text is long."""
    if len(text) > OFF_LOOP_CHARS:
        return await anyio.to_thread.run_sync(decoder, text, limit)
    return decoder(text, limit)


def _as_base64(text: str, limit: int) -> bytes | None:
    """The decoded bytes when `text` is raw base64, None when it should be read as a path."""
    scheme = _OTHER_SCHEME.match(text)
    if scheme and scheme.group(1).lower() != "file":
        raise MediaInputError(
            f"{scheme.group(1)}:// URLs are not fetched; pass an http(s) URL, a data: URI, base64 data or a file path."
        )
    compact = _WHITESPACE.sub("", text)
    if len(compact) > _SURELY_BASE64_CHARS:  # far longer than any sensible path
        return _decode_base64(compact, limit, "The base64 data")
    if not _BASE64.fullmatch(compact):
        return None
    try:
        decoded = _decode_base64(compact, limit, "The base64 data")
    except MediaInputError:
        return None
    kind = sniff(decoded)
    return decoded if kind and kind.startswith(("image/", "audio/", "video/")) else None


def _decode_base64(compact: str, limit: int, subject: str) -> bytes:
    if len(compact) // 4 * 3 > limit:
        raise _too_large(subject, limit)
    urlsafe = "-" in compact or "_" in compact
    if urlsafe and ("+" in compact or "/" in compact):
        raise MediaInputError(f"{subject} mixes two base64 alphabets; pass standard base64.")
    body = compact.rstrip("=")
    if len(body) % 4 == 1:
        raise MediaInputError(f"{subject} is not valid base64 (its length is wrong); pass the complete data.")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        raise MediaInputError(f"{subject} is not valid base64; pass the complete, unmodified data.") from None


async def decode_data_uri(text: str, limit: int) -> tuple[str | None, bytes]:
    """The declared MIME type (or None) and the bytes of the data URI `text`, at most `limit` of them."""
    return await _decode(_decode_data_uri, text, limit)


def _decode_data_uri(text: str, limit: int) -> tuple[str | None, bytes]:
    header, comma, payload = text[5:].partition(",")
    if not comma:
        raise MediaInputError("The data URI has no comma before its data; write it as data:image/png;base64,<data>.")
    params = [part.strip().lower() for part in header.split(";")]
    declared = params[0] if "/" in params[0] else None
    if params[-1] == "base64":
        compact = _WHITESPACE.sub("", payload)
        if "%" in compact:
            # Base64 of `limit` bytes is about 4/3 as long; a little room for escaped whitespace.
            unescaped = _percent_decode(compact, limit // 3 * 4 + 1024, "The data URI", reported=limit)
            compact = _WHITESPACE.sub("", unescaped.decode("ascii", "replace"))
        return declared, _decode_base64(compact, limit, "The data URI")
    return declared, _percent_decode(payload, limit, "The data URI")


def _percent_decode(text: str, limit: int, subject: str, *, reported: int | None = None) -> bytes:
    """`text` with its %XX escapes decoded, refused as soon as it would exceed `limit` bytes.

    Each valid escape shortens the text by two, so the text's length less twice its `%` count
    bounds the result from below: hopeless inputs are refused before any decoding. Otherwise the
    text is decoded a step at a time, runs of escapes in one C call each. A refusal names the
    `reported` cap (the media cap when `limit` bounds base64 text rather than bytes).
    """
    too_large = _too_large(subject, reported or limit)
    if len(text) - 2 * text.count("%") > limit:
        raise too_large
    out = bytearray()
    start = 0
    while start < len(text):
        end = min(start + _PERCENT_STEP, len(text))
        if end < len(text) and (cut := text.rfind("%", end - 2, end)) > start:
            end = cut  # never split an escape between two steps
        step = text[start:end].encode("utf-8", "replace")
        for index, piece in enumerate(_ESCAPE_RUNS.split(step)):
            out += binascii.unhexlify(piece.replace(b"%", b"")) if index % 2 else piece
        if len(out) > limit:
            raise too_large
        start = end
    return bytes(out)


def _family(media_type: str) -> str | None:
    major = media_type.split("/", 1)[0]
    if major == "image":
        return "image"
    return "audio or video" if major in ("audio", "video") else None


def _checked_type(data: bytes, kind: MediaKind, source: str, declared: str | None) -> str:
    subject = "The base64 data" if source == "base64" else f"The {source}"
    if not data:
        raise MediaInputError(f"{subject} is empty; {_ADVICE[kind]}.")
    sniffed = sniff(data)
    if sniffed is not None and accepts(kind, sniffed):
        declared_family = _family(declared) if declared else None
        if declared_family is not None and declared_family != _family(sniffed):
            raise MediaInputError(
                f"{subject} declares {declared} but holds {sniffed} data; fix the declared type or the data."
            )
        return sniffed
    if kind == "image" and sniffed in _UNREADABLE_IMAGES:
        raise MediaInputError(f"{subject} is {sniffed}, which the models cannot read; convert it to PNG or JPEG.")
    expected = "an image" if kind == "image" else "audio"
    raise MediaInputError(f"{subject} is not {expected} (it looks like {sniffed or 'unknown data'}); {_ADVICE[kind]}.")


def _too_large(subject: str, limit: int) -> MediaInputError:
    return MediaInputError(
        f"{subject} is larger than the {limit / (1024 * 1024):.1f} MiB input limit "
        "(WORKERS_AI_MCP_MAX_INPUT_BYTES); pass a smaller file."
    )
