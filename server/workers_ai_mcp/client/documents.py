"""Markdown Conversion: `POST ai/tomarkdown` and `GET ai/tomarkdown/supported`.

Shapes as Cloudflare publishes them (cloudflare/cloudflare-typescript `src/resources/ai/to-markdown.ts`;
developers.cloudflare.com/workers-ai/features/markdown-conversion/usage/rest-api/; recorded in
tests/recorded/documents/): the documents go in ONE multipart form, each a part of the repeated field
`files` (its filename is the document's name); the answer is the envelope whose `result` lists one
`{name, mimeType, format: "markdown" | "error", tokens, data | error}` per document, in order.
`supported` lists `{extension, mimeType}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..jsonvalues import dicts
from .client import WorkersAIClient
from .errors import ResponseDecodeError
from .request import FilePart, Request
from .results import JsonResult

TOMARKDOWN = "ai/tomarkdown"
SUPPORTED = "ai/tomarkdown/supported"


@dataclass(frozen=True)
class Document:
    """One document to convert: its name (with an extension Cloudflare can read), bytes and MIME type."""

    name: str
    data: bytes
    media_type: str


@dataclass(frozen=True)
class Conversion:
    """What Cloudflare made of one document: its Markdown, or why it could not be converted."""

    name: str
    mime_type: str
    markdown: str | None
    tokens: int | None
    error: str | None


@dataclass(frozen=True)
class SupportedFormat:
    extension: str
    mime_type: str


def conversion_request(documents: Sequence[Document]) -> Request:
    """The multipart form: one `files` part per document, nothing else."""
    parts = tuple(("files", FilePart(d.name, d.data, d.media_type)) for d in documents)
    return Request(repeated=parts, multipart=True)


async def convert(client: WorkersAIClient, documents: Sequence[Document]) -> tuple[list[Conversion], JsonResult]:
    """Convert `documents` in one request; one `Conversion` per document, in the order sent."""
    result = await client.account_call("POST", TOMARKDOWN, request=conversion_request(documents))
    listed = isinstance(result, JsonResult) and isinstance(result.data, list)
    if not isinstance(result, JsonResult) or not listed:
        raise ResponseDecodeError("Workers AI answered the Markdown conversion with something other than a list.")
    return [_conversion(item) for item in result.rows], result


async def supported_formats(client: WorkersAIClient) -> list[SupportedFormat]:
    """The extensions and MIME types Cloudflare converts today."""
    result = await client.account_call("GET", SUPPORTED)
    if not isinstance(result, JsonResult):
        raise ResponseDecodeError("Workers AI answered the supported-formats list with binary data.")
    return [
        SupportedFormat(str(item.get("extension", "")), str(item.get("mimeType", "")))
        for item in dicts(result.data)
        if item.get("extension") or item.get("mimeType")
    ]


def _conversion(item: dict[str, object]) -> Conversion:
    tokens = item.get("tokens")
    # The SDK types `tokens` as a string, the docs as a number: both are read.
    counted = int(tokens) if isinstance(tokens, int | float) or (isinstance(tokens, str) and tokens.isdigit()) else None
    failed = item.get("format") == "error"
    data = item.get("data")
    return Conversion(
        name=str(item.get("name", "")),
        mime_type=str(item.get("mimeType", "")),
        markdown=None if failed else (data if isinstance(data, str) else ""),
        tokens=None if failed else counted,
        error=str(item.get("error") or "the document could not be converted") if failed else None,
    )
