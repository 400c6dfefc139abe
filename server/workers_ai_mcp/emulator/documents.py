"""`POST ai/tomarkdown` and `GET ai/tomarkdown/supported`, in Cloudflare's shapes.

The conversion takes `multipart/form-data` whose parts are all files under the field `files` (each
part's filename is the document's name); it answers the envelope with one result per file, in order:
`{id, name, mimeType, format: "markdown", tokens, data}` or `{..., format: "error", error}`.
Shapes from cloudflare-typescript `src/resources/ai/to-markdown.ts` and Cloudflare's REST docs (see
tests/recorded/documents/).
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from .envelope import CloudflareError, ok
from .generate_text import count_tokens
from .markdown import SUPPORTED, detect, to_markdown

# Large enough for the server's default document cap (10 MiB) and then some.
MAX_PART_BYTES = 32 * 1024 * 1024


async def supported(_request: Request) -> Response:
    return ok([{"extension": extension, "mimeType": mime} for extension, mime in SUPPORTED])


async def transform(request: Request) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise CloudflareError(400, 1000, "Send the files as multipart/form-data, each under the field 'files'.")
    try:
        async with request.form(max_part_size=MAX_PART_BYTES) as form:
            results = [await _part(field, value) for field, value in form.multi_items() if field != "conversionOptions"]
    except (AssertionError, ValueError, KeyError) as exc:
        raise CloudflareError(400, 1000, f"The multipart body could not be read ({type(exc).__name__}).") from None
    if not results:
        raise CloudflareError(400, 1000, "No files: send each document under the field 'files'.")
    return ok(results)


async def _part(field: str, value: UploadFile | str) -> dict[str, object]:
    if field != "files" or not isinstance(value, UploadFile):
        raise CloudflareError(400, 1000, f"Unexpected form field '{field}': send each document under 'files'.")
    return _result(value.filename or "file", await value.read())


def _result(name: str, data: bytes) -> dict[str, object]:
    ident = hashlib.blake2b(name.encode() + data, digest_size=16).hexdigest()
    try:
        media_type, markdown = to_markdown(name, data)
    except (ValueError, KeyError, OSError) as exc:
        detected = detect(name, data) or "application/octet-stream"
        return {"id": ident, "name": name, "mimeType": detected, "format": "error", "error": str(exc)}
    tokens = count_tokens(markdown)
    return {"id": ident, "name": name, "mimeType": media_type, "format": "markdown", "tokens": tokens, "data": markdown}
