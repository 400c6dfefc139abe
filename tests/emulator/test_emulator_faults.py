"""Injected faults, latency settings and request counters, in process (httpx2.ASGITransport)."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from support.emulator import AI, LLAMA
from workers_ai_mcp.emulator import EmulatedConnectionReset, EmulatorState, Fault

URL = f"{AI}/run/{LLAMA}"
BODY = {"prompt": "hello"}


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault.RATE_LIMIT_3040, 429, 3040),
        (Fault.RATE_LIMIT_3040_RETRY_AFTER, 429, 3040),
        (Fault.DAILY_LIMIT_3036, 429, 3036),
        (Fault.DAILY_LIMIT_4006, 429, 4006),
        (Fault.SERVER_ERROR_500, 500, 3043),
        (Fault.UNAVAILABLE_503, 503, 7009),
    ],
)
async def test_json_status_faults_answer_in_the_error_envelope(
    client: httpx2.AsyncClient, state: EmulatorState, fault: Fault, status: int, code: int
) -> None:
    state.inject(fault)
    response = await client.post(URL, json=BODY)
    assert response.status_code == status
    assert response.json()["success"] is False
    assert response.json()["errors"][0]["code"] == code
    assert ("retry-after" in response.headers) == (fault is Fault.RATE_LIMIT_3040_RETRY_AFTER)
    if fault is Fault.RATE_LIMIT_3040_RETRY_AFTER:
        assert response.headers["retry-after"] == "1"
    assert (await client.post(URL, json=BODY)).status_code == 200  # consumed by the first request


@pytest.mark.parametrize(("fault", "status"), [(Fault.BAD_GATEWAY_HTML_502, 502), (Fault.GATEWAY_TIMEOUT_504, 504)])
async def test_html_faults_answer_an_html_page(
    client: httpx2.AsyncClient, state: EmulatorState, fault: Fault, status: int
) -> None:
    state.inject(fault)
    response = await client.post(URL, json=BODY)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{status} " in response.text


async def test_faults_are_consumed_in_order_one_per_ai_request(
    client: httpx2.AsyncClient, state: EmulatorState
) -> None:
    state.inject(Fault.RATE_LIMIT_3040, Fault.SERVER_ERROR_500)
    verify = await client.get("/client/v4/user/tokens/verify")  # not an /ai route: no fault
    statuses = [(await client.post(URL, json=BODY)).status_code for _ in range(3)]
    assert verify.status_code == 200
    assert statuses == [429, 500, 200]
    assert not state.faults


async def test_faults_apply_to_catalog_openai_and_gateway_routes(
    client: httpx2.AsyncClient, state: EmulatorState
) -> None:
    state.inject(Fault.UNAVAILABLE_503, Fault.UNAVAILABLE_503, Fault.UNAVAILABLE_503)
    search = await client.get(f"{AI}/models/search")
    chat = await client.post(f"{AI}/v1/chat/completions", json={"model": LLAMA, "messages": []})
    gateway = await client.post(f"/v1/a/g/workers-ai/{LLAMA}", json=BODY)
    assert [search.status_code, chat.status_code, gateway.status_code] == [503, 503, 503]


async def test_connection_reset_raises_in_the_client(client: httpx2.AsyncClient, state: EmulatorState) -> None:
    state.inject(Fault.CONNECTION_RESET)
    with pytest.raises(EmulatedConnectionReset) as caught:
        await client.post(URL, json=BODY)
    assert isinstance(caught.value, httpx2.ReadError)
    assert caught.value.request.url.path == URL
    assert (await client.post(URL, json=BODY)).status_code == 200


async def test_hang_never_answers_until_the_caller_gives_up(client: httpx2.AsyncClient, state: EmulatorState) -> None:
    state.inject(Fault.HANG)
    with anyio.move_on_after(0.2) as scope:
        await client.post(URL, json=BODY)
    assert scope.cancelled_caught
    assert state.requests[-1].status is None
    assert (await client.post(URL, json=BODY)).status_code == 200


async def test_malformed_json_is_a_200_with_a_cut_body(client: httpx2.AsyncClient, state: EmulatorState) -> None:
    state.inject(Fault.MALFORMED_JSON)
    response = await client.post(URL, json=BODY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


async def test_truncated_sse_stops_without_done(client: httpx2.AsyncClient, state: EmulatorState) -> None:
    state.inject(Fault.TRUNCATED_SSE, Fault.TRUNCATED_SSE, Fault.TRUNCATED_SSE)
    stream = await client.post(URL, json={**BODY, "stream": True})
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.text.startswith('data: {"response":"[emulator]"')
    assert "[DONE]" not in stream.text
    chat = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}], "stream": True}
    openai = await client.post(f"{AI}/v1/chat/completions", json=chat)
    assert "chat.completion.chunk" in openai.text and "[DONE]" not in openai.text
    not_streaming = await client.post(URL, json=BODY)
    with pytest.raises(ValueError):
        not_streaming.json()


def test_fault_names_parse_case_insensitively() -> None:
    assert Fault.parse(" hang ") is Fault.HANG
    with pytest.raises(ValueError, match="RATE_LIMIT_3040"):
        Fault.parse("nonsense")


async def test_requests_are_recorded_with_headers_size_model_and_status(
    client: httpx2.AsyncClient, state: EmulatorState
) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB of raw bytes
    await client.post(f"{AI}/run/@cf/microsoft/resnet-50", content=payload, headers={"content-type": "image/png"})
    await client.post(f"{AI}/v1/embeddings", json={"model": "@cf/baai/bge-small-en-v1.5", "input": "x"})
    upload, embed = state.requests
    assert upload.body_size == len(payload) == 1024 * 1024
    assert upload.content_type == "image/png"
    assert upload.model == "@cf/microsoft/resnet-50"
    assert upload.status == 400  # those bytes are not an image
    assert upload.headers["authorization"] == "Bearer emulator-token"
    assert upload.method == "POST" and upload.path == f"{AI}/run/@cf/microsoft/resnet-50"
    assert embed.model == "@cf/baai/bge-small-en-v1.5"
    assert embed.status == 200
    assert state.request_count == 2
    assert state.connections == {("127.0.0.1", 123)}  # httpx2.ASGITransport's fixed client address


async def test_reset_counters_clears_requests_and_connections(client: httpx2.AsyncClient, state: EmulatorState) -> None:
    await client.get(f"{AI}/models/search", params={"task": "Translation"})
    assert state.requests[0].query == "task=Translation"
    state.reset_counters()
    assert (state.requests, state.connections, state.request_count) == ([], set(), 0)


async def test_recorded_requests_are_capped_but_counted(client: httpx2.AsyncClient, state: EmulatorState) -> None:
    state.record_limit = 3
    for _ in range(5):
        await client.get("/client/v4/user/tokens/verify")
    assert len(state.requests) == 3
    assert state.request_count == 5


async def test_token_delay_paces_streams_without_changing_them(
    client: httpx2.AsyncClient, state: EmulatorState
) -> None:
    body = {**BODY, "stream": True, "max_tokens": 3}
    plain = await client.post(URL, json=body)
    state.token_delay = 0.001
    paced = await client.post(URL, json=body)
    assert paced.text == plain.text
