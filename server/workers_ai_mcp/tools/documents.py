"""to_markdown: documents (PDF, Office, OpenDocument, HTML, XML, CSV, images) to Markdown, in one request.

The documents are read under the media policy (media/documents.py: sandbox, SSRF guard, their own size
cap, type by content) and checked against the types Cloudflare lists at `ai/tomarkdown/supported`
(read once, then cached for `schema_cache_ttl`), so nothing it would refuse is sent; then they go in one
multipart request. Conversions are free except images, which Cloudflare describes with its own models
(it does not say which): a call with images is metered as one call of the image-description model
(WORKERS_AI_MCP_DESCRIBE_IMAGE_MODEL), priced on the tokens Cloudflare reports for the images' Markdown.
Each document's Markdown comes back inline while the result stays small, otherwise saved as a `.md`
file in the output folder with a preview and a resource link.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from typing import Annotated

import anyio
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import Field

from ..client import InvalidRequestError, JsonResult, WorkersAIClient, WorkersAIError
from ..client.documents import Conversion, Document, SupportedFormat, convert, supported_formats
from ..media.documents import DocumentInput, resolve_document
from ..state import AppState
from .host.call_info import CallInfo
from .host.common import WRITES_OUTPUT, AppContext, state_of
from .host.links import human_size, resource_link, saved_line
from .host.registry import Registry
from .host.samples import Samples

MAX_DOCUMENTS = 10
# Markdown shown inline, all documents together; the rest goes to files (DESIGN §10: results stay small).
INLINE_MARKDOWN_BYTES = 16_000
PREVIEW_CHARS = 1_200
IMAGE_PROMPT = "Describe the image as Markdown."

_SUPPORTED: weakref.WeakKeyDictionary[WorkersAIClient, tuple[float, list[SupportedFormat]]] = (
    weakref.WeakKeyDictionary()
)


async def to_markdown(
    documents: Annotated[
        list[str],
        Field(
            min_length=1,
            max_length=MAX_DOCUMENTS,
            description="File paths (allowed folders), https URLs or data: URIs.",
        ),
    ],
    ctx: AppContext,
) -> CallToolResult:
    """Convert documents to Markdown (PDF, Word/Excel, ODF, Numbers, HTML, XML, CSV; images are described).
    Free, except images: billed like a vision model call."""
    state = state_of(ctx)
    await anyio.to_thread.run_sync(state.outputs.check_usable)  # long Markdown is saved to a file
    read = [await resolve_document(value, settings=state.settings, http=state.ai.http) for value in documents]
    await _check_supported(state, read)
    batch = [Document(d.name, d.data, d.media_type) for d in read]
    images = sum(d.media_type.startswith("image/") for d in read)
    conversions, result = await (_metered(state, batch, images) if images else convert(state.ai.client, batch))
    blocks = _blocks(state, read, conversions)
    note = CallInfo.from_meta(result.meta).note if images else "Free conversion (no images): nothing was billed."
    return CallToolResult(content=[*blocks, TextContent(type="text", text=note)])


async def supported(state: AppState) -> list[SupportedFormat]:
    """The types Cloudflare converts, from `ai/tomarkdown/supported`, cached for `schema_cache_ttl`."""
    client = state.ai.client
    cached = _SUPPORTED.get(client)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    formats = await supported_formats(client)
    _SUPPORTED[client] = (time.monotonic() + state.settings.schema_cache_ttl, formats)
    return formats


async def _check_supported(state: AppState, read: Sequence[DocumentInput]) -> None:
    try:
        formats = await supported(state)
    except WorkersAIError:
        return  # the list could not be read: Cloudflare still answers an unsupported document with its error
    types = {f.mime_type.lower() for f in formats}
    for document in read:
        if types and document.media_type.lower() not in types:
            extensions = ", ".join(sorted({f.extension for f in formats if f.extension}))
            raise InvalidRequestError(
                f"The {document.source} is {document.media_type}, which Workers AI's Markdown conversion does not "
                f"take, so nothing was sent; it converts {extensions}."
            )


async def _metered(state: AppState, batch: list[Document], images: int) -> tuple[list[Conversion], JsonResult]:
    """Convert, counted as one call of the image-description model on the images' reported tokens."""
    call = state.ai.prepare(state.settings.describe_image_model)
    kept: list[list[Conversion]] = []

    async def send() -> JsonResult:
        conversions, result = await convert(state.ai.client, batch)
        kept.append(conversions)
        tokens = sum(c.tokens or 0 for c in conversions if c.mime_type.startswith("image/"))
        described = [c.markdown or "" for c in conversions if c.mime_type.startswith("image/")]
        return JsonResult({"response": "\n".join(described), "usage": {"completion_tokens": tokens}}, result.meta)

    priced = await state.ai.spending.metered(call, {"prompt": IMAGE_PROMPT * images}, send)
    return kept[0], priced


def _blocks(state: AppState, read: Sequence[DocumentInput], conversions: Sequence[Conversion]) -> list[ContentBlock]:
    blocks: list[ContentBlock] = []
    room = INLINE_MARKDOWN_BYTES
    for index, conversion in enumerate(conversions):
        sent = read[index] if index < len(read) else None
        name = conversion.name or (sent.name if sent else f"document {index + 1}")
        kind = conversion.mime_type or (sent.media_type if sent else "unknown type")
        if conversion.error is not None:
            blocks.append(TextContent(type="text", text=f"{name} ({kind}): not converted: {conversion.error}"))
            continue
        markdown = conversion.markdown or ""
        tokens = f", {conversion.tokens:,} tokens" if conversion.tokens is not None else ""
        head = f"{name} ({kind}{tokens})"
        size = len(markdown.encode())
        if size <= room:
            room -= size
            blocks.append(TextContent(type="text", text=f"{head}:\n\n{markdown}"))
            continue
        saved = state.outputs.save(markdown.encode(), stem=f"{name}-markdown", extension="md")
        preview = markdown[:PREVIEW_CHARS].rstrip()
        text = (
            f"{head}: {human_size(size)} of Markdown, too long to show here; {saved_line(saved)} "
            f"The first {len(preview):,} characters:\n\n{preview}"
        )
        blocks += [TextContent(type="text", text=text), resource_link(saved, f"Markdown of {name}")]
    return blocks


SAMPLES: Samples = {"to_markdown": {"documents": ["data:text/csv;base64,bmFtZSxzY29yZQphZGEsMQo="]}}


def register(server: Registry) -> None:
    """Add to_markdown to `server`."""
    # Not `add_inference_tool`: most conversions are free, and the description says which are not.
    server.add_tool(to_markdown, title="Documents to Markdown", annotations=WRITES_OUTPUT, structured_output=False)
