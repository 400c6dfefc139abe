"""The emulator's Markdown conversion, AI Search and fine-tunes routes answer in the recorded shapes."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from recorded.corpus import load
from support.documents import CSV, DOCX_TEXT, HTML, PDF_TEXT, minimal_docx, minimal_pdf

ACCOUNT = "/client/v4/accounts/acct"


def recorded_body(name: str) -> Any:
    response = load(name).response
    assert response is not None
    return response.body


def same_keys(answer: dict[str, Any], recorded: dict[str, Any]) -> None:
    assert set(recorded) <= set(answer), sorted(set(recorded) - set(answer))


async def test_tomarkdown_answers_one_result_per_file_in_order(client: httpx2.AsyncClient) -> None:
    files = [
        ("files", ("a.pdf", minimal_pdf(), "application/pdf")),
        ("files", ("b.docx", minimal_docx(), "application/octet-stream")),
        ("files", ("c.html", HTML, "text/html")),
        ("files", ("d.csv", CSV, "text/csv")),
        ("files", ("e.bin", b"\x00\x01", "application/octet-stream")),
    ]
    answer = await client.post(f"{ACCOUNT}/ai/tomarkdown", files=files)

    assert answer.status_code == 200
    results = answer.json()["result"]
    recorded_ok, recorded_error = recorded_body("documents/tomarkdown_rest_multipart")["result"]
    for result in results[:4]:
        same_keys(result, recorded_ok)
        assert result["format"] == "markdown" and isinstance(result["tokens"], int)
    same_keys(results[4], recorded_error)
    assert [r["name"] for r in results] == ["a.pdf", "b.docx", "c.html", "d.csv", "e.bin"]
    assert PDF_TEXT in results[0]["data"] and DOCX_TEXT in results[1]["data"]
    assert "# Release notes" in results[2]["data"] and "| ada | 3 |" in results[3]["data"]
    assert results[4]["format"] == "error"


@pytest.mark.parametrize(
    "form",
    [{"data": {"file": "x"}}, {"files": {"document": ("a.csv", CSV, "text/csv")}}],
    ids=["no files", "another field name"],
)
async def test_tomarkdown_refuses_documents_outside_the_files_field(
    client: httpx2.AsyncClient, form: dict[str, Any]
) -> None:
    answer = await client.post(f"{ACCOUNT}/ai/tomarkdown", **form)

    assert answer.status_code == 400 and answer.json()["success"] is False


async def test_tomarkdown_supported_lists_extensions_and_mime_types(client: httpx2.AsyncClient) -> None:
    answer = (await client.get(f"{ACCOUNT}/ai/tomarkdown/supported")).json()

    for item in answer["result"]:
        same_keys(item, recorded_body("documents/tomarkdown_supported")["result"][0])
    assert {".pdf", ".docx", ".csv", ".html", ".png"} <= {i["extension"] for i in answer["result"]}


async def test_ai_search_routes_answer_in_the_recorded_shapes(client: httpx2.AsyncClient) -> None:
    listed = (await client.get(f"{ACCOUNT}/ai-search/instances")).json()
    same_keys(listed, recorded_body("search/instances_list"))
    same_keys(listed["result"][0], recorded_body("search/instances_list")["result"][0])
    body = load("search/instance_search").request
    found = (await client.post(f"{ACCOUNT}/ai-search/instances/emulator-docs/search", json=body)).json()
    same_keys(found["result"], recorded_body("search/instance_search")["result"])
    same_keys(found["result"]["chunks"][0], recorded_body("search/instance_search")["result"]["chunks"][0])
    asked_body = load("search/instance_chat_completions").request
    url = f"{ACCOUNT}/ai-search/instances/emulator-docs/chat/completions"
    asked = (await client.post(url, json=asked_body)).json()
    same_keys(asked, recorded_body("search/instance_chat_completions"))
    assert "success" not in asked  # a bare chat completion, as the SDK reads it


async def test_an_unknown_ai_search_instance_is_a_404(client: httpx2.AsyncClient) -> None:
    answer = await client.post(f"{ACCOUNT}/ai-search/instances/other/search", json={"query": "x"})

    assert answer.status_code == 404 and answer.json()["success"] is False


async def test_the_public_finetunes_list_one_adapter_and_the_account_none(client: httpx2.AsyncClient) -> None:
    public = (await client.get(f"{ACCOUNT}/ai/finetunes/public")).json()["result"]
    own = (await client.get(f"{ACCOUNT}/ai/finetunes")).json()["result"]

    assert own == []
    same_keys(public[0], recorded_body("finetunes/public_list")["result"][0])
