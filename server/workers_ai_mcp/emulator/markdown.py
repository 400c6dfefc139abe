"""Deterministic Markdown for the emulator's `ai/tomarkdown`: documents honestly read as far as the
standard library can (HTML and XML text, CSV tables, the text of a simple PDF's content streams and of
a DOCX's paragraphs); formats it cannot read get a note saying so. Images get an emulated description
of their format and size. It is a test double: every answer says it was made by the emulator.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
import zlib
from html.parser import HTMLParser
from pathlib import PurePosixPath
from xml.etree import ElementTree

NOTE = "<!-- converted by the workers-ai-mcp emulator -->"
_PDF_TEXT = re.compile(rb"\((?P<text>(?:\\.|[^\\)])*)\)\s*Tj")
_PDF_STREAM = re.compile(rb"stream\r?\n(?P<data>.*?)\r?\nendstream", re.S)
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADINGS = {f"h{n}": "#" * n for n in range(1, 7)}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What the emulator's `tomarkdown/supported` lists: Cloudflare's published table (tests/recorded/documents).
SUPPORTED: tuple[tuple[str, str], ...] = (
    (".pdf", "application/pdf"),
    (".jpeg", "image/jpeg"), (".jpg", "image/jpeg"), (".png", "image/png"), (".webp", "image/webp"),
    (".svg", "image/svg+xml"),
    (".html", "text/html"), (".htm", "text/html"), (".xml", "application/xml"),
    (".xlsx", XLSX), (".xlsm", "application/vnd.ms-excel.sheet.macroenabled.12"),
    (".xlsb", "application/vnd.ms-excel.sheet.binary.macroenabled.12"), (".xls", "application/vnd.ms-excel"),
    (".et", "application/vnd.ms-excel"), (".docx", DOCX),
    (".ods", "application/vnd.oasis.opendocument.spreadsheet"), (".odt", "application/vnd.oasis.opendocument.text"),
    (".csv", "text/csv"), (".numbers", "application/vnd.apple.numbers"),
)  # fmt: skip
_BY_EXTENSION: dict[str, str] = dict(SUPPORTED)
_MAGIC = (
    (b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
)  # fmt: skip


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._prefix = ""
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self._prefix = f"{_HEADINGS[tag]} " if tag in _HEADINGS else "- " if tag == "li" else ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.lines.append(f"{self._prefix}{text}")
            self._prefix = ""


def detect(name: str, data: bytes) -> str | None:
    """The document's type, as the emulator reads it: magic bytes, the files of a ZIP, else the extension."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    return _BY_EXTENSION.get(PurePosixPath(name.lower()).suffix)


def to_markdown(name: str, data: bytes) -> tuple[str, str]:
    """`(mime type, markdown)` of one document; raises ValueError for what cannot be converted."""
    media_type = detect(name, data)
    if media_type is None:
        raise ValueError(f"{name}: unsupported file type")
    body = _convert(media_type, data)
    return media_type, f"{NOTE}\n\n{body.strip()}\n"


def _convert(media_type: str, data: bytes) -> str:
    if media_type == "text/html":
        return _html(data.decode("utf-8", "replace"))
    if media_type == "text/csv":
        return _csv(data.decode("utf-8", "replace"))
    if media_type == "application/xml":
        return _xml(data)
    if media_type == "application/pdf":
        return _pdf(data)
    if media_type == DOCX:
        return _docx(data)
    if media_type.startswith("image/"):
        return _image(media_type, data)
    return f"({media_type} document of {len(data):,} bytes; the emulator does not read its contents.)"


def _html(text: str) -> str:
    parser = _HtmlText()
    parser.feed(text)
    return "\n\n".join(parser.lines)


def _csv(text: str) -> str:
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if not rows:
        return "(empty CSV)"
    width = max(len(r) for r in rows)
    padded = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(padded[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in padded[1:]]
    return "\n".join(lines)


def _xml(data: bytes) -> str:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ValueError(f"the XML is not well formed ({exc})") from None
    return "\n\n".join(" ".join(t.split()) for t in root.itertext() if t.strip())


def _pdf(data: bytes) -> str:
    texts: list[str] = []
    for stream in _PDF_STREAM.finditer(data):
        content = stream.group("data")
        with contextlib.suppress(zlib.error):  # else an uncompressed stream
            content = zlib.decompress(content)
        texts += [_pdf_string(m.group("text")) for m in _PDF_TEXT.finditer(content)]
    if not texts:
        return "(PDF without text the emulator can read.)"
    return "\n\n".join(texts)


def _pdf_string(raw: bytes) -> str:
    return re.sub(rb"\\(.)", rb"\1", raw).decode("latin-1")


def _docx(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("word/document.xml"))
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{_WORD}t")) for p in root.iter(f"{_WORD}p")]
    return "\n\n".join(p for p in paragraphs if p.strip()) or "(DOCX without text.)"


def _image(media_type: str, data: bytes) -> str:
    size = f"{len(data):,} bytes"
    if media_type == "image/png" and len(data) >= 24:
        size = f"{int.from_bytes(data[16:20], 'big')}x{int.from_bytes(data[20:24], 'big')} pixels"
    return f"An image ({media_type}, {size}). Emulated description: no model looked at it."
