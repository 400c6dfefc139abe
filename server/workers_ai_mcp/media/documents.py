"""The document kind: what `to_markdown` reads, under the media policy's sandbox, SSRF guard and caps.

A document is named by a local path (inside the input roots, like every path), an http(s) URL (the
SSRF guard) or a `data:` URI, and may be at most `max_document_bytes` (WORKERS_AI_MCP_MAX_DOCUMENT_BYTES),
its own cap, checked before anything is sent. Its type is read from its bytes (PDF, images, Office
Open XML and OpenDocument by the files inside the ZIP, Apple Numbers, legacy Excel) and, for text
formats whose bytes say little (CSV, XML, HTML), from its extension or declared type. The name sent to
Cloudflare ends in an extension of that type, since the converter reads the name too.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import anyio
import httpx2

from ..settings import Settings
from .inputs import MediaInputError, decode_data_uri
from .paths import PathRefused, read_local_file
from .sniff import sniff
from .urls import UrlRefused, describe_url, fetch_url

CAP_SETTING = "WORKERS_AI_MCP_MAX_DOCUMENT_BYTES"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSM = "application/vnd.ms-excel.sheet.macroenabled.12"
XLSB = "application/vnd.ms-excel.sheet.binary.macroenabled.12"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODT = "application/vnd.oasis.opendocument.text"
NUMBERS = "application/vnd.apple.numbers"
XLS = "application/vnd.ms-excel"
# Extension → type, for the formats whose bytes alone do not say which they are (text, OLE2).
BY_EXTENSION = {
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".xls": XLS,
    ".et": XLS,
    ".xlsm": XLSM,
    ".svg": "image/svg+xml",
}
# Type → the extension its name gets when it has none of that type.
EXTENSIONS = {
    "application/pdf": ".pdf", "text/html": ".html", "application/xml": ".xml", "text/csv": ".csv",
    DOCX: ".docx", XLSX: ".xlsx", XLSM: ".xlsm", XLSB: ".xlsb", XLS: ".xls", ODS: ".ods", ODT: ".odt",
    NUMBERS: ".numbers", "image/jpeg": ".jpeg", "image/png": ".png", "image/webp": ".webp",
    "image/svg+xml": ".svg", "image/gif": ".gif", "image/bmp": ".bmp", "image/tiff": ".tiff",
    "text/plain": ".txt", "application/json": ".json",
}  # fmt: skip
_TEXT_TYPES = frozenset({"text/plain", "application/json", "text/html", "image/svg+xml"})


@dataclass(frozen=True)
class DocumentInput:
    """A document read and typed, ready to send: the name it goes by, its bytes, its MIME type."""

    name: str
    data: bytes
    media_type: str
    source: str


async def resolve_document(value: str, *, settings: Settings, http: httpx2.AsyncClient) -> DocumentInput:
    """The document `value` names (path, URL or data URI), read within the caps and typed."""
    text = value.strip()
    if not text:
        raise MediaInputError("A document is empty; pass a file path, an http(s) URL or a data: URI.")
    capped = settings.model_copy(update={"max_input_bytes": settings.max_document_bytes})
    declared: str | None = None
    try:
        if text[:8].lower().startswith(("http://", "https://")):
            fetched = await fetch_url(text, settings=capped, http=http)
            data, name, source = fetched.data, _url_name(fetched.url), f"URL {describe_url(text)}"
            declared = (fetched.content_type or "").split(";", 1)[0].strip().lower() or None
        elif text[:5].lower() == "data:":
            declared, data = await decode_data_uri(text, settings.max_document_bytes)
            name, source = "document", "data URI"
        else:
            local = await anyio.to_thread.run_sync(read_local_file, text, capped)
            data, name, source = local.data, local.path.name, f"file {local.path.name}"
    except (UrlRefused, PathRefused, MediaInputError) as exc:
        raise MediaInputError(_document_cap(str(exc))) from None
    if not data:
        raise MediaInputError(f"The {source} is empty; pass a document with content.")
    media_type = document_type(data, name, declared)
    if media_type is None:
        raise MediaInputError(
            f"The {source} is not a document type this server can recognise (it looks like "
            f"{sniff(data) or 'unknown data'}); pass a PDF, Office, OpenDocument, HTML, XML, CSV or image file."
        )
    return DocumentInput(name=_named(name, media_type), data=data, media_type=media_type, source=source)


def document_type(data: bytes, name: str, declared: str | None = None) -> str | None:
    """The MIME type of a document, by its content first, then (for text and OLE2) its extension."""
    extension = PurePosixPath(name.lower()).suffix
    sniffed = sniff(data)
    if sniffed == "application/zip":
        return _zip_type(data, extension)
    if data.startswith(OLE2):
        return BY_EXTENSION.get(extension) if BY_EXTENSION.get(extension) == XLS else None
    if sniffed in _TEXT_TYPES or sniffed is None and _is_text(data):
        by_name = BY_EXTENSION.get(extension)
        if by_name is not None and by_name != XLS:
            return by_name
        if declared in ("text/csv", "application/xml", "text/xml", "text/html"):
            return "application/xml" if declared == "text/xml" else declared
        if data.lstrip()[:5].lower() == b"<?xml" and sniffed != "image/svg+xml":
            return "application/xml"
        return sniffed or "text/plain"
    return sniffed


def _zip_type(data: bytes, extension: str) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in (ODS, ODT) else None
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.bin" in names:
                return XLSB
            if "xl/workbook.xml" in names:
                return XLSM if extension == ".xlsm" or "xl/vbaProject.bin" in names else XLSX
            if any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
                return NUMBERS
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    return None


def _is_text(data: bytes) -> bool:
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _named(name: str, media_type: str) -> str:
    """`name` with an extension of `media_type` (kept when it already has one)."""
    clean = "".join(c for c in name if c.isprintable() and c not in '/\\"').strip() or "document"
    wanted = EXTENSIONS.get(media_type)
    suffix = PurePosixPath(clean.lower()).suffix
    if wanted is None or suffix == wanted or BY_EXTENSION.get(suffix) == media_type:
        return clean[:200]
    return f"{clean[:190]}{wanted}"


def _url_name(url: str) -> str:
    return PurePosixPath(httpx2.URL(url).path).name or "document"


def _document_cap(message: str) -> str:
    """A refusal of the shared readers, worded for documents: their cap is their own setting."""
    return message.replace("input limit", "document limit").replace("WORKERS_AI_MCP_MAX_INPUT_BYTES", CAP_SETTING)
