"""Media carried inside JSON answers (base64 fields, data URIs): found, decoded, and replaced by a short note.

A field the model's schema declares as base64 media is taken whatever its length; any other
string is taken when it is a data URI or long, high-entropy base64 whose bytes are not text.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any, cast

from .sniff import sniff

# Shorter undeclared strings stay as they are: below this, base64 costs the assistant little.
MIN_UNDECLARED_CHARS = 1_024
MIN_DECLARED_CHARS = 64
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_BASE64_URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_DATA_URI = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*);base64,", re.IGNORECASE)
_TEXT_TYPES = ("text/", "application/json", "image/svg+xml")
_MAX_DEPTH = 32

# Called with the decoded bytes, their media type and the field's name; returns the note that replaces them.
Keep = Callable[[bytes, str, str], str]


def replace_media(value: Any, declared: frozenset[str], keep: Keep) -> Any:
    """A copy of the JSON `value` where every embedded media string is handed to `keep` and replaced by its note."""
    return _replace(value, "", declared, keep, 0)


def _replace(value: Any, key: str, declared: frozenset[str], keep: Keep, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        items = cast(dict[str, Any], value).items()
        return {k: _replace(v, k, declared, keep, depth + 1) for k, v in items}
    if isinstance(value, list):
        return [_replace(v, key, declared, keep, depth + 1) for v in cast(list[Any], value)]
    if isinstance(value, str):
        found = decode_media(value, declared=key in declared)
        if found is not None:
            return keep(found[0], found[1], key)
    return value


def decode_media(text: str, *, declared: bool = False) -> tuple[bytes, str] | None:
    """(bytes, media type) when `text` carries media as a data URI or base64, else None."""
    head = _DATA_URI.match(text[:256])
    if head is not None:
        data = _b64decode(text[head.end() :])
        if data is None:
            return None
        return data, sniff(data) or head.group(1) or "application/octet-stream"
    if len(text) < (MIN_DECLARED_CHARS if declared else MIN_UNDECLARED_CHARS):
        return None
    compact = "".join(text.split()) if declared else text
    if not declared and not _looks_binary(compact):
        return None
    data = _b64decode(compact)
    if data is None:
        return None
    kind = sniff(data)
    if kind is None:
        return (data, "application/octet-stream") if declared or not _is_utf8(data) else None
    if kind.startswith(_TEXT_TYPES):
        return (data, kind) if declared else None
    return data, kind


def _looks_binary(text: str) -> bool:
    """Base64 of binary data mixes cases and digits; a long word of capitals (a DNA string) does not."""
    if not (_BASE64.fullmatch(text) or _BASE64_URL.fullmatch(text)):
        return False
    return (
        any(c.islower() for c in text[:512])
        and any(c.isupper() for c in text[:512])
        and any(c.isdigit() for c in text[:512])
    )


def _b64decode(text: str) -> bytes | None:
    compact = "".join(text.split())
    padded = compact + "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
