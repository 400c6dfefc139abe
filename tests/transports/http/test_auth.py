"""Inbound HTTP security: the bearer token, Host/Origin checks, the bind refusal, stateless replicas."""

from __future__ import annotations

import traceback
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from support.http import BASE, INBOUND_TOKEN, AppFactory, asgi_client, mcp_over
from support.transports import RoundRobin, model_runs
from workers_ai_mcp import cli
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings, SettingsError
from workers_ai_mcp.transports.serve import check_bind

JSON_RPC_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
CALL = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "translate", "arguments": {"text": "hello", "target_lang": "fr"}},
}


async def post(app: Starlette, body: dict[str, Any], *, token: str | None, **headers: str) -> httpx2.Response:
    async with app.router.lifespan_context(app), asgi_client(app, token=token) as http:
        return await http.post("/mcp", json=body, headers=JSON_RPC_HEADERS | headers)


@pytest.mark.parametrize(
    ("token", "challenge"),
    [(None, "Bearer"), ("not-the-token", 'Bearer error="invalid_token"'), (INBOUND_TOKEN[:-1], None)],
    ids=["missing", "wrong", "prefix"],
)
async def test_a_request_without_the_right_token_gets_401_and_reaches_nothing(
    make_app: AppFactory, emulator_state: EmulatorState, token: str | None, challenge: str | None
) -> None:
    app = make_app(stateless=True, json_response=True)
    response = await post(app, CALL, token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    if challenge:
        assert response.headers["www-authenticate"] == challenge
    assert INBOUND_TOKEN not in response.text
    assert emulator_state.requests == []


async def test_other_authorization_schemes_are_refused(make_app: AppFactory) -> None:
    app = make_app(stateless=True, json_response=True)
    response = await post(app, INITIALIZE, token=None, Authorization=f"Basic {INBOUND_TOKEN}")
    assert response.status_code == 401


async def test_the_right_token_gets_the_tool_answer(make_app: AppFactory, emulator_state: EmulatorState) -> None:
    app = make_app(stateless=True, json_response=True)
    # Without the header a stateless request is read as protocol 2025-03-26, which has no structured content.
    response = await post(app, CALL, token=INBOUND_TOKEN, **{"MCP-Protocol-Version": "2025-06-18"})
    assert response.status_code == 200
    assert response.json()["result"]["structuredContent"]["target_lang"] == "fr"
    assert model_runs(emulator_state) == 1


async def test_without_a_configured_token_loopback_requests_are_served(
    make_app: AppFactory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(settings=settings, stateless=True, json_response=True)
    response = await post(app, INITIALIZE, token=None)
    assert response.status_code == 200
    assert "No WORKERS_AI_MCP_AUTH_TOKEN is set" in caplog.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example"}, 421),
        ({"Host": "evil.example:8000"}, 421),
        ({"Host": "localhost:8000"}, 200),
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "http://127.0.0.1:6274"}, 200),
        ({"Host": "mcp.example.com"}, 200),
        ({"Host": "mcp.example.com:8443"}, 200),
        ({"Host": "other.example.com"}, 421),
        ({"Origin": "https://app.example.com"}, 200),
        ({"Origin": "https://app.example.com.evil"}, 403),
    ],
)
async def test_host_and_origin_checks_stay_on_and_take_the_configured_allow_lists(
    make_app: AppFactory, http_settings: Settings, headers: dict[str, str], status: int
) -> None:
    extra = {"allowed_hosts": ["mcp.example.com"], "allowed_origins": ["https://app.example.com"]}
    app = make_app(settings=http_settings.model_copy(update=extra), stateless=True, json_response=True)
    response = await post(app, INITIALIZE, token=INBOUND_TOKEN, **headers)
    assert response.status_code == status


@pytest.mark.parametrize(("host", "status"), [("10.1.2.3:8000", 200), ("10.1.2.3", 200), ("evil.example", 421)])
async def test_a_non_loopback_bind_address_is_itself_an_allowed_host(
    make_app: AppFactory, host: str, status: int
) -> None:
    app = make_app(host="10.1.2.3", stateless=True, json_response=True)
    response = await post(app, INITIALIZE, token=INBOUND_TOKEN, Host=host)
    assert response.status_code == status


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
def test_binding_a_public_address_without_a_token_is_refused_at_start(
    capsys: pytest.CaptureFixture[str], transport: str
) -> None:
    code = cli.main(["--transport", transport, "--host", "0.0.0.0", "--port", "8765"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("workers-ai-mcp: Refusing to listen on 0.0.0.0 without an auth token")
    assert err.count("\n") == 1
    assert "WORKERS_AI_MCP_AUTH_TOKEN" in err


def test_loopback_binds_need_no_token_and_public_binds_need_a_long_enough_one(
    settings: Settings, http_settings: Settings
) -> None:
    blank = settings.model_copy(update={"http_auth_token": SecretStr("  ")})
    short = settings.model_copy(update={"http_auth_token": SecretStr("0123456789")})
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(settings, host, 8000)
    for host in ("0.0.0.0", "::", "", "192.168.1.10", "mcp.example.com"):
        for refused in (settings, blank):
            with pytest.raises(SettingsError, match="without an auth token"):
                check_bind(refused, host, 8000)
        with pytest.raises(SettingsError, match="at least 16"):
            check_bind(short, host, 8000)
        check_bind(http_settings, host, 8000)


def test_command_line_options_reach_the_settings() -> None:
    args = cli.build_parser().parse_args(
        [
            "--transport",
            "streamable-http",
            "--stateless",
            "--json-response",
            "--auth-token",
            INBOUND_TOKEN,
            "--allowed-hosts",
            "a.example, b.example",
            "--allowed-origins",
            "https://a.example",
        ]
    )
    settings = cli.serve_settings(args)
    assert (args.stateless, args.json_response, args.host, args.port) == (True, True, "127.0.0.1", 8000)
    assert settings.http_auth_token is not None
    assert settings.http_auth_token.get_secret_value() == INBOUND_TOKEN
    assert settings.allowed_hosts == ["a.example", "b.example"]
    assert settings.allowed_origins == ["https://a.example"]


@pytest.mark.parametrize("stateless", [True, False], ids=["stateless", "stateful"])
async def test_stateless_mode_lets_two_replicas_answer_one_client_alternately(
    make_app: AppFactory, emulator_state: EmulatorState, stateless: bool
) -> None:
    first = make_app(stateless=stateless, json_response=True)
    second = make_app(stateless=stateless, json_response=True)
    balancer = RoundRobin(httpx2.ASGITransport(app=first), httpx2.ASGITransport(app=second))
    answered: list[bool] = []
    failure = ""
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        http = asgi_client(balancer)
        try:
            async with mcp_over(http, f"{BASE}/mcp", mode="legacy") as client:
                for _ in range(3):
                    result = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
                    answered.append(not result.is_error)
        except Exception as exc:
            failure = "".join(traceback.format_exception(exc))
    if stateless:
        assert (answered, failure) == ([True, True, True], "")
        assert min(balancer.sent) >= 2
        assert model_runs(emulator_state) == 3
    else:  # the control: a session opened on one replica is unknown to the other
        assert "Session not found" in failure


async def test_host_checks_also_guard_requests_of_the_2026_protocol(make_app: AppFactory) -> None:
    app = make_app(stateless=True, json_response=True)
    modern = {"MCP-Protocol-Version": "2026-07-28"}
    refused = await post(
        app, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, token=INBOUND_TOKEN, **modern, Host="evil.example"
    )
    assert refused.status_code == 421
