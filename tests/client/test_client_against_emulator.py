"""The client against the emulator: every call shape, retries, deadlines, refusals."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest
from PIL import Image
from pydantic import SecretStr
from starlette.applications import Starlette

from support.settings import make_settings
from workers_ai_mcp.client import (
    APITimeoutError,
    AuthenticationError,
    BinaryResult,
    DailyAllocationError,
    InvalidRequestError,
    JsonResult,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    StreamEvent,
    WorkersAIClient,
    create_http_client,
)
from workers_ai_mcp.client.request import Request
from workers_ai_mcp.emulator import EmulatorState, Fault
from workers_ai_mcp.settings import Settings

CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


@pytest.fixture
async def client(settings: Settings, emulator_app: Starlette) -> AsyncIterator[WorkersAIClient]:
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        yield WorkersAIClient(settings, http)


def run_requests(state: EmulatorState) -> list[str]:
    return [r.path for r in state.requests if "/ai/run/" in r.path]


async def test_a_json_run_returns_the_unwrapped_result_and_the_request_id(client: WorkersAIClient) -> None:
    result = await client.run("@cf/meta/m2m100-1.2b", {"text": "hello", "target_lang": "fr"})
    assert isinstance(result, JsonResult)
    assert isinstance(result.data["translated_text"], str)
    assert result.meta.request_id and result.meta.attempts == 1


async def test_a_raw_binary_body_is_sent_as_is(client: WorkersAIClient, emulator_state: EmulatorState) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    png = buffer.getvalue()
    result = await client.run("@cf/microsoft/resnet-50", Request(body=png, content_type="image/png"))
    assert isinstance(result, JsonResult) and result.data[0]["label"]
    assert emulator_state.requests[-1].body_size == len(png)


async def test_a_png_answer_comes_back_as_bytes_with_its_media_type(client: WorkersAIClient) -> None:
    result = await client.run(
        "@cf/stabilityai/stable-diffusion-xl-base-1.0", {"prompt": "a red fox", "width": 512, "height": 256}
    )
    assert isinstance(result, BinaryResult) and result.media_type == "image/png"
    assert Image.open(io.BytesIO(result.data)).size == (512, 256)


async def test_a_native_stream_delivers_events_in_order_and_gathers_usage(client: WorkersAIClient) -> None:
    seen: list[StreamEvent] = []

    async def on_event(event: StreamEvent) -> None:
        seen.append(event)

    result = await client.stream_run(CHAT_MODEL, {"prompt": "tell me about otters", "max_tokens": 12}, on_event)
    assert result.text == "".join(e.text for e in seen) and result.text
    assert result.usage and result.usage["completion_tokens"] <= 12


async def test_the_openai_compatible_endpoints_answer_bare_objects(client: WorkersAIClient) -> None:
    chat = await client.v1("chat/completions", {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert chat.data["object"] == "chat.completion"
    embeddings = await client.v1("embeddings", {"model": "@cf/baai/bge-small-en-v1.5", "input": ["a", "b"]})
    assert len(embeddings.data["data"]) == 2 and len(embeddings.data["data"][0]["embedding"]) == 384
    completion = await client.v1("completions", {"model": "@cf/meta/llama-3.1-8b-instruct-fp8", "prompt": "Once"})
    assert completion.data["choices"][0]["text"]
    response = await client.v1("responses", {"model": "@cf/openai/gpt-oss-120b", "input": "hi"})
    assert response.data["output"]


async def test_catalog_search_reads_one_page(client: WorkersAIClient) -> None:
    page = await client.search_models(task="Text Embeddings", per_page=2)
    assert page.per_page == 2 and len(page.models) <= 2 and (page.total_count or 0) >= 3


async def test_token_verification_reports_an_active_token(client: WorkersAIClient) -> None:
    assert (await client.verify_token())["status"] == "active"


async def test_an_async_batch_is_queued_then_polled_to_completion(
    client: WorkersAIClient, emulator_state: EmulatorState
) -> None:
    queued = await client.queue_batch("@cf/baai/bge-base-en-v1.5", [{"text": ["a"]}, {"text": ["b"]}])
    request_id = queued.data["request_id"]
    for _ in range(5):
        polled = await client.poll_batch("@cf/baai/bge-base-en-v1.5", request_id)
        if "responses" in polled.data:
            break
    assert [r["id"] for r in polled.data["responses"]] == [0, 1]
    # Polled as Cloudflare's REST docs do: the same run URL with ?queueRequest=true and {"request_id"}.
    runs = [r for r in emulator_state.requests if "/ai/run/" in r.path]
    assert runs and all("queueRequest=true" in r.query for r in runs)


async def test_a_gateway_routes_runs_through_the_gateway_url_with_its_headers(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(
        tmp_path, gateway_id="gw1", gateway_token=SecretStr("gateway-secret"), gateway_cache_ttl=60
    )
    emulator_state.gateway_token = "gateway-secret"
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        client = WorkersAIClient(settings, http)
        first = await client.run("@cf/meta/m2m100-1.2b", {"text": "hello", "target_lang": "de"})
        second = await client.run("@cf/meta/m2m100-1.2b", {"text": "hello", "target_lang": "de"})
    request = emulator_state.requests[-1]
    assert request.path.startswith("/v1/test-account/gw1/workers-ai/")
    assert request.headers["cf-aig-cache-ttl"] == "60"
    assert first.meta.gateway_cache_status == "MISS" and second.meta.gateway_cache_status == "HIT"
    assert second.meta.gateway_log_id


async def test_transient_failures_are_retried_and_counted(
    client: WorkersAIClient, emulator_state: EmulatorState
) -> None:
    emulator_state.inject(Fault.UNAVAILABLE_503, Fault.BAD_GATEWAY_HTML_502)
    result = await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})
    assert result.meta.attempts == 3
    assert len(run_requests(emulator_state)) == 3


async def test_rate_limits_end_in_a_clear_error_after_the_allowed_retries(
    client: WorkersAIClient, emulator_state: EmulatorState
) -> None:
    emulator_state.inject(Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040, Fault.RATE_LIMIT_3040)
    with pytest.raises(RateLimitError, match="capacity") as caught:
        await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})
    assert "after 3 attempts" in str(caught.value)
    assert len(run_requests(emulator_state)) == 3


async def test_the_daily_allocation_is_not_retried(client: WorkersAIClient, emulator_state: EmulatorState) -> None:
    emulator_state.inject(Fault.DAILY_LIMIT_4006)
    with pytest.raises(DailyAllocationError, match="daily free"):
        await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})
    assert len(run_requests(emulator_state)) == 1


async def test_a_server_error_that_persists_is_reported_as_such(
    client: WorkersAIClient, emulator_state: EmulatorState
) -> None:
    emulator_state.inject(Fault.SERVER_ERROR_500, Fault.SERVER_ERROR_500, Fault.SERVER_ERROR_500)
    with pytest.raises(ServerError):
        await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})


async def test_a_reset_connection_is_retried(client: WorkersAIClient, emulator_state: EmulatorState) -> None:
    emulator_state.inject(Fault.CONNECTION_RESET)
    result = await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})
    assert result.meta.attempts == 2


async def test_malformed_json_and_cut_streams_are_errors_not_answers(
    client: WorkersAIClient, emulator_state: EmulatorState
) -> None:
    emulator_state.inject(Fault.MALFORMED_JSON)
    with pytest.raises(ResponseDecodeError):
        await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})

    async def ignore(_: StreamEvent) -> None:
        return None

    emulator_state.inject(Fault.TRUNCATED_SSE)
    with pytest.raises(ResponseDecodeError, match="ended before"):
        await client.stream_run(CHAT_MODEL, {"prompt": "hi"}, ignore)


async def test_a_hung_call_ends_at_the_deadline(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState
) -> None:
    settings = make_settings(tmp_path, timeout=0.3)
    emulator_state.inject(Fault.HANG)
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        client = WorkersAIClient(settings, http)
        with anyio.fail_after(5), pytest.raises(APITimeoutError, match="0.3 s"):
            await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})


async def test_unknown_models_and_bad_tokens_get_actionable_errors(
    tmp_path: Path, client: WorkersAIClient, emulator_app: Starlette
) -> None:
    with pytest.raises(NotFoundError, match="no model named @cf/nobody/nothing"):
        await client.run("@cf/nobody/nothing", {"prompt": "x"})
    token = "cfut_wrongTOKENwrongTOKENwrongTOKEN12345"
    settings = make_settings(tmp_path, api_token=SecretStr(token))
    async with create_http_client(settings, httpx2.ASGITransport(app=emulator_app)) as http:
        with pytest.raises(AuthenticationError, match="CLOUDFLARE_API_TOKEN") as caught:
            await WorkersAIClient(settings, http).run("@cf/meta/m2m100-1.2b", {"text": "x", "target_lang": "fr"})
    assert token not in str(caught.value) and token not in repr(caught.value)


@pytest.mark.parametrize("model", ["@cf/../../user/tokens", "@cf/meta/x?y", "@cf/meta/x y", "@cf/a/b/c"])
async def test_crafted_model_ids_never_reach_the_api(
    client: WorkersAIClient, emulator_state: EmulatorState, model: str
) -> None:
    with pytest.raises(InvalidRequestError):
        await client.run(model, {"prompt": "x"})
    assert emulator_state.requests == []


async def test_sequential_calls_over_real_loopback_reuse_one_connection(tmp_path: Path) -> None:
    import socket

    import uvicorn

    from workers_ai_mcp.emulator import create_emulator_app

    state = EmulatorState()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_emulator_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    settings = make_settings(tmp_path, base_url=f"http://127.0.0.1:{port}/client/v4")
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.01)
            async with create_http_client(settings) as http:
                client = WorkersAIClient(settings, http)
                for _ in range(3):
                    result = await client.run("@cf/meta/m2m100-1.2b", {"text": "hi", "target_lang": "fr"})
                    assert isinstance(result, JsonResult)
        server.should_exit = True
    assert len(state.connections) == 1
    assert len(state.requests) == 3
