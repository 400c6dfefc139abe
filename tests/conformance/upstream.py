"""A recording fake of Workers AI for one published model: it serves the model's catalog row and schema,
checks every request against the model's published input schema, and answers in a chosen form."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from workers_ai_mcp.catalog.model_input import branches
from workers_ai_mcp.catalog.schema_check import input_problem

TEXT = "Otters hold hands while they sleep."
REASONING = "They drift apart otherwise."
USAGE = {"prompt_tokens": 7, "completion_tokens": 8, "total_tokens": 15}

Answer = Callable[[str, dict[str, Any]], httpx2.Response]


def envelope(result: object) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": []}


def native(usage: bool = True) -> dict[str, Any]:
    return {"response": TEXT} | ({"usage": USAGE} if usage else {})


def completion(model: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": TEXT, "refusal": None, "reasoning_content": REASONING}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": USAGE | {"completion_tokens_details": {"reasoning_tokens": 5}},
    }


def responses(model: str) -> dict[str, Any]:
    reasoning = {"type": "reasoning", "id": "rs_1", "content": [{"type": "reasoning_text", "text": REASONING}]}
    message = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": TEXT, "annotations": []}],
    }
    return {"id": "resp_1", "object": "response", "created_at": 1, "model": model, "output": [reasoning, message]}


def json_forms(model: str, output: dict[str, Any]) -> list[dict[str, Any]]:
    """Each JSON answer the output schema allows, among the three shapes Workers AI uses."""
    arms = [
        arm for arm in branches(output) if arm.get("contentType") != "text/event-stream" and arm.get("type") != "string"
    ]
    forms: list[dict[str, Any]] = []
    for candidate in (native(), native(usage=False), completion(model), responses(model)):
        if any(input_problem(arm, candidate) is None for arm in arms) and candidate not in forms:
            forms.append(candidate)
    return forms


def streams(output: dict[str, Any]) -> bool:
    return any(arm.get("contentType") == "text/event-stream" for arm in branches(output))


def reply(path: str, data: dict[str, Any]) -> httpx2.Response:
    """A JSON answer: bare on the OpenAI-compatible routes, in Cloudflare's envelope on /ai/run."""
    return httpx2.Response(200, json=data if "/ai/v1/" in path else envelope(data))


def sse(chunks: list[dict[str, Any]]) -> httpx2.Response:
    text = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


def native_chunks(usage: bool) -> list[dict[str, Any]]:
    words = TEXT.split(" ")
    chunks: list[dict[str, Any]] = [
        {"response": word + (" " if i < len(words) - 1 else "")} for i, word in enumerate(words)
    ]
    return chunks + ([{"response": "", "usage": USAGE}] if usage else [])


def openai_chunks(model: str, usage: bool) -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    words = TEXT.split(" ")
    chunks = [{**base, "choices": [{"index": 0, "delta": {"reasoning_content": REASONING}}]}]
    chunks += [
        {**base, "choices": [{"index": 0, "delta": {"content": word + (" " if i < len(words) - 1 else "")}}]}
        for i, word in enumerate(words)
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return chunks + ([{**base, "choices": [], "usage": USAGE}] if usage else [])


@dataclass
class Upstream:
    """The fake. `answer` decides the reply to each model request (given its JSON body)."""

    row: dict[str, Any]
    answer: Answer
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list[tuple[str, dict[str, Any]]])
    problems: list[str] = field(default_factory=list[str])
    catalog: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    @property
    def schema(self) -> dict[str, Any]:
        return self.row.get("schema") or {}

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.endswith("/ai/models/schema"):
            asked = request.url.params.get("model")
            found = next((r for r in self.catalog if r["name"] == asked and r is not self.row), self.row)
            return httpx2.Response(200, json=envelope(found.get("schema") or {}))
        if path.endswith("/ai/models/search"):
            rows = [{k: v for k, v in row.items() if k != "schema"} for row in [self.row, *self.catalog]]
            info = {"page": 1, "per_page": len(rows), "count": len(rows), "total_count": len(rows)}
            return httpx2.Response(200, json=envelope(rows) | {"result_info": info})
        body = json.loads(request.content)
        self.bodies.append((path, body))
        problem = input_problem(self.schema.get("input") or {}, body)
        if problem is not None:
            self.problems.append(f"{path}: {problem}")
            return httpx2.Response(400, json={"success": False, "errors": [{"code": 5006, "message": problem}]})
        return self.answer(path, body)
