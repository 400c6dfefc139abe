"""Routes, envelopes and error shapes of the emulator, in process."""

from __future__ import annotations

import base64
import json
import struct

import httpx2
import pytest
from starlette.applications import Starlette

from support.emulator import ACCOUNT, AI, LLAMA
from workers_ai_mcp.emulator import EmulatorState, create_emulator_app


async def test_token_verify_answers_active_on_user_and_account_paths(client: httpx2.AsyncClient) -> None:
    for path in ("/client/v4/user/tokens/verify", f"{ACCOUNT}/tokens/verify"):
        response = await client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["success"] is True
        assert body["result"]["status"] == "active"
        assert body["messages"] == [{"code": 10000, "message": "This API Token is valid and active", "type": None}]
        assert "emulator-token" not in response.text


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic emulator-token", "Bearer "])
async def test_missing_or_wrong_token_gets_401_with_code_10000(app: Starlette, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://e") as client:
        response = await client.post(f"{AI}/run/{LLAMA}", json={"prompt": "hi"}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "result": None,
        "success": False,
        "errors": [{"code": 10000, "message": "Authentication error"}],
        "messages": [],
    }


async def test_token_none_accepts_any_bearer_token() -> None:
    app = create_emulator_app(EmulatorState(), token=None)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://e") as client:
        ok = await client.get("/client/v4/user/tokens/verify", headers={"Authorization": "Bearer anything"})
        missing = await client.get("/client/v4/user/tokens/verify")
    assert ok.status_code == 200
    assert missing.status_code == 401


async def test_unknown_route_gets_404_with_code_7000(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{AI}/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "result": None,
        "success": False,
        "errors": [{"code": 7000, "message": "No route for that URI"}],
        "messages": [],
    }


async def test_wrong_method_gets_405_with_code_7001(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{AI}/run/{LLAMA}")
    assert response.status_code == 405
    assert response.json()["errors"] == [{"code": 7001, "message": "GET not supported for requested URI."}]
    put = await client.put(f"{AI}/v1/chat/completions", json={})
    assert put.json()["errors"][0]["message"] == "PUT not supported for requested URI."


async def test_every_answer_carries_a_request_id_header(client: httpx2.AsyncClient) -> None:
    answers = [
        await client.post(f"{AI}/run/{LLAMA}", json={"prompt": "hi"}),
        await client.post(f"{AI}/run/@cf/nope/none", json={"prompt": "hi"}),
        await client.get("/client/v4/nowhere"),
    ]
    ids = [a.headers["cf-ai-req-id"] for a in answers]
    assert len(set(ids)) == 3
    assert all(len(i) == 36 for i in ids)


async def test_unknown_model_gets_400_with_code_5007(client: httpx2.AsyncClient) -> None:
    for model in ("@cf/nobody/no-model", "@cf/meta/..%2F..%2Fetc", "not a model"):
        response = await client.post(f"{AI}/run/{model}", json={"prompt": "hi"})
        assert response.status_code == 400
        body = response.json()
        assert body["success"] is False
        assert body["errors"][0]["code"] == 5007
        assert body["errors"][0]["message"].startswith("No such model ")


async def test_invalid_input_gets_400_5006_naming_the_field(client: httpx2.AsyncClient) -> None:
    cases = {
        "/temperature": {"prompt": "hi", "temperature": "hot"},
        "/max_tokens": {"prompt": "hi", "max_tokens": 1.5},
        "/messages/0": {"messages": [{"role": "user"}]},
        "/top_k": {"prompt": "hi", "top_k": 99},
    }
    for pointer, body in cases.items():
        response = await client.post(f"{AI}/run/{LLAMA}", json=body)
        assert response.status_code == 400
        answer = response.json()
        assert answer["result"] == {}
        assert answer["errors"][0]["code"] == 5006
        message = answer["errors"][0]["message"]
        assert message.startswith("AiError: Bad input: Error: ")
        assert f"'{pointer}'" in message, message


async def test_empty_body_names_each_accepted_form(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{AI}/run/{LLAMA}", json={})
    message = response.json()["errors"][0]["message"]
    assert "Of at '/' not met, 0 matches" in message  # Cloudflare's oneOf, read as anyOf
    assert "'prompt'" in message and "'messages'" in message


async def test_body_that_is_not_a_json_object_is_bad_input(client: httpx2.AsyncClient) -> None:
    not_json = await client.post(f"{AI}/run/{LLAMA}", content=b"{oops", headers={"content-type": "application/json"})
    a_list = await client.post(f"{AI}/run/{LLAMA}", json=["prompt"])
    assert not_json.status_code == a_list.status_code == 400
    assert "not valid JSON" in not_json.json()["errors"][0]["message"]
    assert "'array' not in 'object'" in a_list.json()["errors"][0]["message"]


async def test_model_schema_route_returns_input_and_output(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"{AI}/models/schema", params={"model": LLAMA})
    assert response.status_code == 200
    result = response.json()["result"]
    assert set(result) == {"input", "output"}
    required = [b.get("required") for b in result["input"]["oneOf"]]
    assert ["prompt"] in required and ["messages"] in required
    assert "title" not in json.dumps(result) and "description" not in json.dumps(result["output"])  # no prose


async def test_model_schema_route_rejects_unknown_and_missing_model(client: httpx2.AsyncClient) -> None:
    unknown = await client.get(f"{AI}/models/schema", params={"model": "@cf/x/y"})
    missing = await client.get(f"{AI}/models/schema")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["code"] == 5007
    assert missing.status_code == 400
    assert missing.json()["success"] is False


async def test_openai_chat_completions_answers_a_bare_chat_completion(client: httpx2.AsyncClient) -> None:
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 5}
    response = await client.post(f"{AI}/v1/chat/completions", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["object"] == "chat.completion"
    assert answer["model"] == LLAMA
    choice = answer["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].startswith("[emulator]")
    assert len(choice["message"]["content"].split()) <= 5
    assert choice["finish_reason"] == "length"
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_openai_chat_json_schema_format_answers_json_content(client: httpx2.AsyncClient) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "integer"}}}
    body = {
        "model": LLAMA,
        "messages": [{"role": "user", "content": "Where?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "place", "schema": schema}},
    }
    answer = (await client.post(f"{AI}/v1/chat/completions", json=body)).json()
    content = json.loads(answer["choices"][0]["message"]["content"])
    assert set(content) == {"city", "n"}
    assert isinstance(content["n"], int)


async def test_openai_completions_answers_text_completion(client: httpx2.AsyncClient) -> None:
    body = {"model": "@cf/meta/llama-3.1-8b-instruct-fp8", "prompt": "Once upon", "max_tokens": 8}
    answer = (await client.post(f"{AI}/v1/completions", json=body)).json()
    assert answer["object"] == "text_completion"
    assert answer["choices"][0]["text"].startswith("[emulator]")


async def test_openai_embeddings_answers_list_in_float_and_base64(client: httpx2.AsyncClient) -> None:
    body = {"model": "@cf/baai/bge-small-en-v1.5", "input": ["red apple", "green pear"]}
    floats = (await client.post(f"{AI}/v1/embeddings", json=body)).json()
    assert floats["object"] == "list"
    assert [d["index"] for d in floats["data"]] == [0, 1]
    assert len(floats["data"][0]["embedding"]) == 384
    packed = (await client.post(f"{AI}/v1/embeddings", json={**body, "encoding_format": "base64"})).json()
    decoded = struct.unpack("<384f", base64.b64decode(packed["data"][0]["embedding"]))
    assert decoded == pytest.approx(floats["data"][0]["embedding"], abs=1e-6)
    assert floats["usage"]["prompt_tokens"] == 4


async def test_openai_routes_reject_unknown_model_with_5007(client: httpx2.AsyncClient) -> None:
    chat = {"model": "@cf/no/such", "messages": [{"role": "user", "content": "x"}]}
    embed = {"model": LLAMA, "input": "x"}  # a chat model is not an embedding model
    for path, body in (("chat/completions", chat), ("embeddings", embed)):
        response = await client.post(f"{AI}/v1/{path}", json=body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == 5007


async def test_openai_responses_works_for_gpt_oss_only(client: httpx2.AsyncClient) -> None:
    ok = await client.post(f"{AI}/v1/responses", json={"model": "@cf/openai/gpt-oss-120b", "input": "Hi there"})
    assert ok.status_code == 200
    answer = ok.json()
    assert answer["object"] == "response"
    assert answer["status"] == "completed"
    message = next(item for item in answer["output"] if item["type"] == "message")
    assert message["content"][0]["type"] == "output_text"
    assert message["content"][0]["text"].startswith("[emulator]")
    other = await client.post(f"{AI}/v1/responses", json={"model": LLAMA, "input": "Hi"})
    assert other.status_code == 400
    assert other.json()["errors"][0]["code"] == 5006


async def test_same_input_gives_the_same_answer(client: httpx2.AsyncClient) -> None:
    body = {"messages": [{"role": "user", "content": "Tell me about edges"}], "seed": 7}
    first = (await client.post(f"{AI}/run/{LLAMA}", json=body)).json()
    second = (await client.post(f"{AI}/run/{LLAMA}", json=body)).json()
    other_seed = (await client.post(f"{AI}/run/{LLAMA}", json={**body, "seed": 8})).json()
    assert first == second
    assert first["result"]["response"] != other_seed["result"]["response"]


IMAGE_PART = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


async def test_image_parts_only_for_models_that_take_images(client: httpx2.AsyncClient) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, IMAGE_PART]}]
    for model in ("@cf/moonshotai/kimi-k2.6", "@cf/meta/llama-4-scout-17b-16e-instruct"):
        accepted = await client.post(f"{AI}/run/{model}", json={"messages": messages})
        assert accepted.status_code == 200, accepted.text[:300]
    refused = await client.post(f"{AI}/run/@cf/zai-org/glm-5.2", json={"messages": messages})
    assert refused.status_code == 400 and "does not take images" in refused.json()["errors"][0]["message"]
    http_url = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]}]
    refused = await client.post(f"{AI}/run/@cf/moonshotai/kimi-k2.6", json={"messages": http_url})
    assert refused.status_code == 400 and "data: URIs" in refused.json()["errors"][0]["message"]


async def test_reasoning_effort_only_where_the_model_takes_it(client: httpx2.AsyncClient) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "low"}
    accepted = await client.post(f"{AI}/run/@cf/zai-org/glm-4.7-flash", json=body)
    assert accepted.status_code == 200, accepted.text[:300]
    assert accepted.json()["result"]["choices"][0]["message"]["reasoning_content"]
    refused = await client.post(f"{AI}/run/@cf/meta/llama-3.1-8b-instruct-fp8", json=body)
    assert refused.status_code == 400 and "'reasoning_effort'" in refused.json()["errors"][0]["message"]
    chat = {"model": "@cf/zai-org/glm-4.7-flash", **body, "reasoning_effort": "extreme"}
    wrong = await client.post(f"{AI}/v1/chat/completions", json=chat)
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["code"] == 5006


async def test_flux_2_takes_multipart_only(client: httpx2.AsyncClient) -> None:
    url = f"{AI}/run/@cf/black-forest-labs/flux-2-klein-4b"
    answer = await client.post(url, files={"prompt": (None, "a lighthouse"), "width": (None, "128")})
    assert answer.status_code == 200 and answer.json()["result"]["image"]
    no_prompt = await client.post(url, files={"width": (None, "128")})
    assert no_prompt.status_code == 400 and "'prompt'" in no_prompt.json()["errors"][0]["message"]
