"""A fake Workers AI that answers model calls with recorded answers (tests/recorded/*.json).

`Replay(emulator_app)` is an httpx2 transport for `open_session(..., upstream=replay.transport())`.
Model calls (`/ai/run/...`, `/ai/v1/...`) are answered by the rules added with `answer(...)`: a rule
matches a model (a substring of the path or of the body's `model`), optionally only streamed or only
unstreamed requests, and answers with the recording's response, then its followups, in order. Everything
else (the catalog: models/search, models/schema) goes to the emulator, so the server sees the published
catalog. A model call that no rule can answer fails the test: it is recorded in `unexpected` and raised.
`Replay(emulator_app)` with no rules is the upstream that fails the test if a model is called at all.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.types import ASGIApp

from recorded.corpus import Exchange, Recording, Response, load

_MODEL_PATHS = ("/ai/run/", "/ai/v1/", "/workers-ai/")


def is_model_call(request: httpx2.Request) -> bool:
    """Whether the request runs a model (and costs), rather than reading the catalog."""
    path = request.url.path
    return any(part in path for part in _MODEL_PATHS) and "/ai/models/" not in path


def body_of(request: httpx2.Request) -> dict[str, Any]:
    """The request's JSON body, or {} when it is not JSON."""
    try:
        data = json.loads(request.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def http_answer(exchange: Exchange) -> httpx2.Response:
    """The recorded answer as an HTTP response: a stream as SSE, a body as JSON (enveloped where the
    recording went through the Workers binding, which drops the REST envelope)."""
    response = exchange.response
    assert response is not None, f"{exchange.endpoint}: a request recording has no answer to replay"
    status = response.status or 200
    if response.sse is not None:
        content = "".join(f"{line}\n\n" for line in response.sse).encode()
        return httpx2.Response(status, headers={"content-type": "text/event-stream"}, content=content)
    body = _enveloped(exchange, response)
    headers = {"content-type": "application/json", **response.headers}
    return httpx2.Response(status, headers=headers, content=json.dumps(body).encode())


def _enveloped(exchange: Exchange, response: Response) -> Any:
    body = response.body
    if exchange.endpoint.startswith("env.AI.run") and "/ai/v1/" not in exchange.endpoint:
        return {"result": body, "success": True, "errors": [], "messages": []}
    return body


@dataclass
class Rule:
    """Answers for the model calls that match: `model` in the path (or body), and `stream` if not None."""

    model: str
    answers: deque[httpx2.Response]
    stream: bool | None = None

    def matches(self, request: httpx2.Request) -> bool:
        body = body_of(request)
        named = self.model in request.url.path or body.get("model") == self.model
        return named and (self.stream is None or (body.get("stream") is True) == self.stream)


@dataclass
class Replay:
    """The fake upstream: recorded answers for model calls, the emulator for the catalog."""

    emulator_app: ASGIApp
    rules: list[Rule] = field(default_factory=lambda: list[Rule]())
    requests: list[httpx2.Request] = field(default_factory=lambda: list[httpx2.Request]())
    unexpected: list[str] = field(default_factory=lambda: list[str]())

    def answer(self, model: str, *recordings: Recording | str, stream: bool | None = None) -> Replay:
        """Answer calls to `model` with each recording's response and followups, in order."""
        answers: deque[httpx2.Response] = deque()
        for recording in recordings:
            found = load(recording) if isinstance(recording, str) else recording
            for exchange in (found.exchange, *found.followups):
                answers.append(http_answer(exchange))
        self.rules.append(Rule(model, answers, stream))
        return self

    def answer_with(self, model: str, *responses: httpx2.Response, stream: bool | None = None) -> Replay:
        """Answer calls to `model` with these responses (an answer built from a recording), in order."""
        self.rules.append(Rule(model, deque(responses), stream))
        return self

    def model_bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the model calls the server made, in order."""
        return [body_of(request) for request in self.requests]

    def transport(self) -> httpx2.MockTransport:
        forward = httpx2.ASGITransport(app=self.emulator_app)

        async def handler(request: httpx2.Request) -> httpx2.Response:
            if not is_model_call(request):
                response = await forward.handle_async_request(request)
                return httpx2.Response(response.status_code, headers=response.headers, content=await response.aread())
            self.requests.append(request)
            for rule in self.rules:
                if rule.matches(request) and rule.answers:
                    return rule.answers.popleft()
            what = f"{request.method} {request.url.path} stream={body_of(request).get('stream')}"
            self.unexpected.append(what)
            raise AssertionError(f"the replaying upstream has no recorded answer for {what}")

        return httpx2.MockTransport(handler)
