"""Over HTTP, a request whose id JSON-RPC does not allow gets a JSON-RPC error with `id: null`, not a bare 202."""

from __future__ import annotations

import pytest

from support.http import AppFactory, asgi_client

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
BAD_IDS = {"a fraction": b"1.5", "a boolean": b"false", "an object": b'{"n":1}', "an array": b"[1]", "null": b"null"}


@pytest.mark.parametrize("request_id", list(BAD_IDS.values()), ids=list(BAD_IDS))
async def test_a_request_with_an_id_json_rpc_does_not_allow_gets_an_invalid_request_error(
    make_app: AppFactory, request_id: bytes
) -> None:
    body = b'{"jsonrpc":"2.0","id":' + request_id + b',"method":"ping"}'
    app = make_app(stateless=True, json_response=True)
    async with app.router.lifespan_context(app), asgi_client(app) as http:
        response = await http.post("/mcp", content=body, headers=HEADERS)
        valid = await http.post("/mcp", content=b'{"jsonrpc":"2.0","id":"a","method":"ping"}', headers=HEADERS)
        notification = b'{"jsonrpc":"2.0","method":"notifications/initialized","params":{"id":1.5}}'
        noted = await http.post("/mcp", content=notification, headers=HEADERS)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["id"] is None and answer["error"]["code"] == -32600
    assert "string or an integer" in answer["error"]["message"]
    assert valid.status_code == 200 and valid.json()["id"] == "a"
    assert noted.status_code == 202  # a notification (an "id" only inside its params) is still one
