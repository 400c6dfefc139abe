"""Parsing an HTTP body stays within a small multiple of its size: a body of many tiny JSON objects or
items (`[{},{},...]`, under the byte cap) is refused with a 413 JSON-RPC error before it is parsed."""

from __future__ import annotations

import json

from support.http import AppFactory, asgi_client
from workers_ai_mcp.transports.http.gate import MAX_JSON_CONTAINERS, MAX_JSON_ITEMS

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _ping(filler: str) -> bytes:
    return ('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"x":' + filler + "}}}").encode()


async def test_a_body_of_many_tiny_objects_gets_a_413_json_rpc_error_and_small_ones_are_served(
    make_app: AppFactory,
) -> None:
    objects = _ping("[" + ",".join(["{}"] * (MAX_JSON_CONTAINERS + 1)) + "]")
    numbers = _ping("[" + ",".join(["0"] * (MAX_JSON_ITEMS + 1)) + "]")
    fine = _ping(json.dumps(["word"] * 10_000))
    app = make_app(stateless=True, json_response=True)
    async with app.router.lifespan_context(app), asgi_client(app) as http:
        refused = [await http.post("/mcp", content=body, headers=HEADERS) for body in (objects, numbers)]
        served = await http.post("/mcp", content=fine, headers=HEADERS)
    for response in refused:
        assert response.status_code == 413, response.text[:200]
        answer = response.json()
        assert answer["id"] is None and answer["error"]["code"] == -32600
        assert "file path or URL" in answer["error"]["message"]
    assert served.status_code == 200 and served.json()["id"] == 1
