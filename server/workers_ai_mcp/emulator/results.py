"""What an answer is made of: raw bytes with a content type, and per-request ids."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Binary:
    """An answer sent as raw bytes with its own content type (no envelope)."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class Ids:
    """Per-request identifiers that OpenAI-shaped answers carry."""

    ident: str
    created: int
    cached_tokens: int = 0  # prompt tokens shared with the previous request of the same session affinity
