"""The document kind: types read from content (and, for text formats, the extension), names, the cap."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx2
import pytest

from support.documents import CSV, HTML, minimal_docx, minimal_pdf
from support.media import small_png
from support.settings import make_settings
from workers_ai_mcp.media.documents import DOCX, ODT, OLE2, XLS, XLSX, document_type, resolve_document
from workers_ai_mcp.media.inputs import MediaInputError


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (minimal_pdf(), "report.bin", "application/pdf"),
        (minimal_docx(), "minutes", DOCX),
        (zipped({"xl/workbook.xml": b"<workbook/>"}), "book.zip", XLSX),
        (zipped({"mimetype": ODT.encode(), "content.xml": b"<x/>"}), "letter", ODT),
        (OLE2 + b"\x00" * 64, "old.xls", XLS),
        (CSV, "scores.csv", "text/csv"),
        (b"<?xml version='1.0'?><feed/>", "feed", "application/xml"),
        (HTML, "page", "text/html"),
        (small_png(), "chart", "image/png"),
    ],
    ids=["pdf by content", "docx", "xlsx", "odt", "xls by extension", "csv by extension", "xml", "html", "png"],
)
def test_a_document_s_type_comes_from_its_content_then_its_extension(data: bytes, name: str, expected: str) -> None:
    assert document_type(data, name) == expected


def test_an_ole2_file_that_is_not_a_spreadsheet_and_a_plain_zip_are_not_documents() -> None:
    assert document_type(OLE2 + b"\x00" * 64, "letter.doc") is None
    assert document_type(zipped({"readme.txt": b"hi"}), "bundle.zip") is None


async def test_a_local_document_keeps_its_name_and_a_data_uri_gets_one_of_its_type(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    (tmp_path / "minutes.docx").write_bytes(minimal_docx())
    async with httpx2.AsyncClient() as http:
        local = await resolve_document(str(tmp_path / "minutes.docx"), settings=settings, http=http)
        inline = await resolve_document("data:text/html,<h1>Hi</h1>", settings=settings, http=http)

    assert (local.name, local.media_type) == ("minutes.docx", DOCX)
    assert (inline.name, inline.media_type) == ("document.html", "text/html")


async def test_the_document_cap_is_its_own_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_document_bytes=1024)
    (tmp_path / "big.csv").write_bytes(CSV * 200)
    async with httpx2.AsyncClient() as http:
        with pytest.raises(MediaInputError, match="WORKERS_AI_MCP_MAX_DOCUMENT_BYTES"):
            await resolve_document(str(tmp_path / "big.csv"), settings=settings, http=http)
        with pytest.raises(MediaInputError, match="document limit"):
            await resolve_document("data:text/csv," + "a," * 1000, settings=settings, http=http)
