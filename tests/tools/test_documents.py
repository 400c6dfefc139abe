"""to_markdown through a real MCP client session, against the emulator, each request checked against
the shape Cloudflare publishes for `POST ai/tomarkdown` (tests/recorded/documents/)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx2
import pytest
from mcp.types import ResourceLink

from recorded.corpus import load
from support.documents import CSV, DOCX_TEXT, HTML, PDF_TEXT, minimal_docx, minimal_pdf, multipart_parts
from support.media import small_png
from support.results import text_of
from support.text_tools import Call, Wire

ACCOUNT_PATH = "/client/v4/accounts/test-account/ai/tomarkdown"


def conversions(wire: Wire) -> list[httpx2.Request]:
    return [r for r in wire.requests if r.url.path == ACCOUNT_PATH]


def check_cloudflare_shape(request: httpx2.Request) -> list[str]:
    """What a request to ai/tomarkdown carries, checked against the recorded request shape; the filenames."""
    recorded = load("documents/tomarkdown_rest_multipart").request
    assert request.method == "POST"
    assert request.url.path == ACCOUNT_PATH
    assert request.headers["authorization"].startswith("Bearer ")
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    parts = multipart_parts(content_type, request.content)
    assert {p.name for p in parts} == {recorded["field"]}, "every document goes in the repeated `files` field"
    assert all(p.filename and p.content_type for p in parts)
    return [p.filename or "" for p in parts]


def write_samples(folder: Path) -> list[str]:
    files = {
        "report.pdf": minimal_pdf(),
        "minutes.docx": minimal_docx(),
        "notes.html": HTML,
        "scores.csv": CSV,
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [str(folder / name) for name in files]


async def test_converts_a_pdf_a_docx_an_html_file_and_a_csv_in_one_free_request(
    call: Call, wire: Wire, tmp_path: Path
) -> None:
    result = await call("to_markdown", {"documents": write_samples(tmp_path)})

    text = text_of(result)
    assert not result.is_error, text
    assert PDF_TEXT in text and DOCX_TEXT in text
    assert "# Release notes" in text and "| name | score |" in text and "| grace | 5 |" in text
    assert "application/pdf" in text and "text/csv" in text
    assert "nothing was billed" in text
    sent = conversions(wire)
    assert len(sent) == 1
    assert check_cloudflare_shape(sent[0]) == ["report.pdf", "minutes.docx", "notes.html", "scores.csv"]


async def test_an_image_is_converted_in_the_same_request_and_metered(call: Call, wire: Wire, tmp_path: Path) -> None:
    (tmp_path / "chart.png").write_bytes(small_png())
    documents = [*write_samples(tmp_path)[:1], str(tmp_path / "chart.png")]

    result = await call("to_markdown", {"documents": documents})

    text = text_of(result)
    assert not result.is_error, text
    assert "image/png" in text and "64x48 pixels" in text
    assert "nothing was billed" not in text
    assert "Estimated cost" in text or "No price" in text
    assert check_cloudflare_shape(conversions(wire)[0]) == ["report.pdf", "chart.png"]
    recorded = text_of(await call("usage", {}))
    assert "@cf/llava-hf/llava-1.5-7b-hf" in recorded  # counted as a call of the image-description model


async def test_a_conversion_without_images_records_no_spending(call: Call, tmp_path: Path) -> None:
    await call("to_markdown", {"documents": write_samples(tmp_path)})

    assert "llava" not in text_of(await call("usage", {}))


async def test_a_data_uri_document_is_named_with_an_extension_of_its_type(call: Call, wire: Wire) -> None:
    uri = "data:text/csv;base64," + base64.b64encode(CSV).decode()

    result = await call("to_markdown", {"documents": [uri]})

    assert not result.is_error, text_of(result)
    assert check_cloudflare_shape(conversions(wire)[0]) == ["document.csv"]


async def test_a_20_mb_document_is_refused_with_a_sentence_before_anything_is_sent(
    call: Call, wire: Wire, tmp_path: Path
) -> None:
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024))

    result = await call("to_markdown", {"documents": [str(big)]})

    assert result.is_error
    assert "WORKERS_AI_MCP_MAX_DOCUMENT_BYTES" in text_of(result) and "20.0 MiB" in text_of(result)
    assert conversions(wire) == []


async def test_a_document_outside_the_input_roots_is_refused_like_any_other_path(
    call: Call, wire: Wire, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secret.pdf"
    elsewhere.write_bytes(minimal_pdf())

    result = await call("to_markdown", {"documents": [str(elsewhere)]})

    assert result.is_error
    assert "outside the allowed folders" in text_of(result)
    assert conversions(wire) == []


async def test_an_unsupported_type_is_refused_with_the_types_cloudflare_lists(
    call: Call, wire: Wire, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("plain words\n")

    result = await call("to_markdown", {"documents": [str(tmp_path / "notes.txt")]})

    text = text_of(result)
    assert result.is_error
    assert "text/plain" in text and ".pdf" in text and ".docx" in text and "nothing was sent" in text
    assert conversions(wire) == []
    assert any(r.url.path.endswith("/ai/tomarkdown/supported") for r in wire.requests)


async def test_long_markdown_is_saved_with_a_preview_and_a_link(call: Call, tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>Paragraph {n} says something long enough to fill the page.</p>" for n in range(800))
    (tmp_path / "long.html").write_text(f"<html><body><h1>Long</h1>{paragraphs}</body></html>")

    result = await call("to_markdown", {"documents": [str(tmp_path / "long.html")]})

    text = text_of(result)
    assert not result.is_error, text
    links = [b for b in result.content if isinstance(b, ResourceLink)]
    assert len(links) == 1 and links[0].name.endswith(".md")
    saved = next((tmp_path / "outputs").glob("*.md"))
    assert "Paragraph 799" in saved.read_text()
    assert "# Long" in text and "Paragraph 799" not in text


async def test_a_document_cloudflare_cannot_convert_gets_its_own_error(call: Call, wire: Wire, tmp_path: Path) -> None:
    (tmp_path / "broken.xml").write_text("<?xml version='1.0'?><root><unclosed></root>")
    (tmp_path / "scores.csv").write_bytes(CSV)

    result = await call("to_markdown", {"documents": [str(tmp_path / "broken.xml"), str(tmp_path / "scores.csv")]})

    text = text_of(result)
    assert not result.is_error, text
    assert "broken.xml (application/xml): not converted" in text
    assert "| ada | 3 |" in text
