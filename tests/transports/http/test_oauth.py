"""OAuth over streamable HTTP: a local issuer on loopback (support.oauth_issuer) signs real RS256/ES256 tokens
with PyJWT; the server publishes its protected resource metadata, serves a token issued for it, and refuses
every other with the MCP authorization spec's 401/403 and `WWW-Authenticate`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp.types import TextContent
from starlette.applications import Starlette

from support.http import AppFactory, asgi_client, mcp_over
from support.oauth_issuer import CLIENT_ID, CLIENT_SECRET, INVOKE, READ, RESOURCE, Issuer
from support.transports import model_runs
from workers_ai_mcp import cli
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.settings import Settings, SettingsError, load_settings
from workers_ai_mcp.transports.http.oauth import JwksCache, JwtVerifier, OAuthConfig, OAuthConfigError
from workers_ai_mcp.transports.serve import check_bind

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
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


def config_for(issuer: Issuer) -> OAuthConfig:
    return OAuthConfig(issuer.url, RESOURCE, None, READ, INVOKE, allow_http_loopback=True)


async def post(app: Starlette, body: dict[str, Any], token: str | None) -> httpx2.Response:
    async with app.router.lifespan_context(app), asgi_client(app, token=token) as http:
        return await http.post("/mcp", json=body, headers=HEADERS | {"MCP-Protocol-Version": "2025-06-18"})


def segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned(issuer: Issuer) -> str:
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": RESOURCE, "exp": now + 300, "scope": f"{READ} {INVOKE}"}
    return f"{segment({'alg': 'none', 'kid': 'k1'})}.{segment(claims)}."


async def test_the_protected_resource_metadata_names_the_issuer_resource_and_scopes(
    make_app: AppFactory, oauth_settings: Settings, issuer: Issuer
) -> None:
    app = make_app(settings=oauth_settings, stateless=True, json_response=True)
    async with app.router.lifespan_context(app), asgi_client(app, token=None) as http:
        for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
            response = await http.get(path)
            assert response.status_code == 200
            document = response.json()
            assert document["resource"] == RESOURCE
            assert document["authorization_servers"] == [issuer.url]
            assert document["scopes_supported"] == [READ, INVOKE]
            assert document["bearer_methods_supported"] == ["header"]


async def test_a_token_issued_for_this_server_opens_an_mcp_session_that_calls_a_billed_tool(
    make_app: AppFactory, oauth_settings: Settings, issuer: Issuer, emulator_state: EmulatorState
) -> None:
    app = make_app(settings=oauth_settings)
    async with app.router.lifespan_context(app), mcp_over(asgi_client(app, token=issuer.token())) as client:
        result = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
        assert not result.is_error
        assert isinstance(result.content[0], TextContent)
        listed = await client.list_tools()
        assert any(tool.name == "translate" for tool in listed.tools)
    assert model_runs(emulator_state) == 1
    assert issuer.jwks_fetches == 1  # the keys are fetched once and kept for every later request


class ToIssuerOrApp(httpx2.AsyncBaseTransport):
    """Requests for the MCP server's origin go to the app in process; the rest (the issuer) over loopback."""

    def __init__(self, app: Starlette) -> None:
        self._app = httpx2.ASGITransport(app=app)
        self._network = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        inner = self._app if request.url.port == 8000 else self._network
        return await inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


class MemoryTokens:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def test_the_sdks_oauth_client_discovers_the_issuer_from_the_401_gets_a_token_and_calls_a_tool(
    make_app: AppFactory, oauth_settings: Settings, issuer: Issuer, emulator_state: EmulatorState
) -> None:
    app = make_app(settings=oauth_settings)
    provider = ClientCredentialsOAuthProvider(
        server_url=RESOURCE,
        storage=MemoryTokens(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scope=f"{READ} {INVOKE}",
        issuer=issuer.url,
    )
    http = httpx2.AsyncClient(transport=ToIssuerOrApp(app), auth=provider)
    async with app.router.lifespan_context(app), mcp_over(http, RESOURCE) as client:
        result = await client.call_tool("translate", {"text": "hello", "target_lang": "fr"})
        assert not result.is_error
    assert [request["resource"] for request in issuer.token_requests] == [RESOURCE]
    assert model_runs(emulator_state) == 1


async def test_a_request_without_a_token_gets_401_pointing_at_the_metadata(
    make_app: AppFactory, oauth_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(settings=oauth_settings, stateless=True, json_response=True)
    response = await post(app, INITIALIZE, token=None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(
        'Bearer resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"'
    )
    assert "invalid_token" not in challenge
    assert "Refused POST /mcp from 127.0.0.1: no OAuth access token" in caplog.text


@pytest.mark.parametrize(
    "case", ["wrong audience", "expired", "not yet valid", "unsigned", "another key", "wrong issuer", "no expiry"]
)
async def test_a_token_not_issued_for_this_server_gets_401_invalid_token(
    make_app: AppFactory,
    oauth_settings: Settings,
    issuer: Issuer,
    emulator_state: EmulatorState,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    now = int(time.time())
    tokens = {
        "wrong audience": lambda: issuer.token(aud="https://other.example/mcp"),
        "expired": lambda: issuer.token(iat=now - 900, exp=now - 120),
        "not yet valid": lambda: issuer.token(nbf=now + 600),
        "unsigned": lambda: unsigned(issuer),
        "another key": lambda: issuer.token(key=rsa.generate_private_key(65537, 2048)),
        "wrong issuer": lambda: issuer.token(iss="https://impostor.example"),
        "no expiry": lambda: issuer.token(exp=None),
    }
    token = tokens[case]()
    caplog.set_level(logging.DEBUG)
    app = make_app(settings=oauth_settings, stateless=True, json_response=True)
    response = await post(app, CALL, token=token)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer resource_metadata=")
    assert 'error="invalid_token"' in challenge
    assert response.json()["error"] == "invalid_token"
    assert model_runs(emulator_state) == 0
    for text in (response.text, challenge, caplog.text):
        assert token not in text
        assert token.split(".")[1] not in text


async def test_a_token_without_the_invoke_scope_reads_but_gets_403_for_a_billed_tool(
    make_app: AppFactory, oauth_settings: Settings, issuer: Issuer, emulator_state: EmulatorState
) -> None:
    app = make_app(settings=oauth_settings, stateless=True, json_response=True)
    token = issuer.token(scope=READ)
    free = {**CALL, "params": {"name": "list_models", "arguments": {}}}
    async with app.router.lifespan_context(app), asgi_client(app, token=token) as http:
        answers = [
            await http.post("/mcp", json=body, headers=HEADERS | {"MCP-Protocol-Version": "2025-06-18"})
            for body in (INITIALIZE, free, CALL)
        ]
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    response = answers[2]
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="{INVOKE}"' in challenge
    assert "resource_metadata=" in challenge
    assert INVOKE in response.json()["error_description"]
    assert model_runs(emulator_state) == 0


async def test_a_token_without_the_read_scope_gets_403_naming_it(
    make_app: AppFactory, oauth_settings: Settings, issuer: Issuer
) -> None:
    app = make_app(settings=oauth_settings, stateless=True, json_response=True)
    response = await post(app, INITIALIZE, token=issuer.token(scope="openid profile"))
    assert response.status_code == 403
    assert f'scope="{READ}"' in response.headers["www-authenticate"]


async def test_an_ec_key_and_a_scp_list_are_accepted(issuer: Issuer) -> None:
    issuer.add_key("ec1", "EC")
    verifier = JwtVerifier(config_for(issuer), JwksCache(config_for(issuer)))
    access = await verifier.verify_token(issuer.token("ec1", scope=None, scp=[READ]))
    assert access is not None
    assert access.scopes == [READ]
    assert access.subject == "person-1"
    assert access.resource == RESOURCE


async def test_an_hmac_token_keyed_with_the_public_key_is_refused(issuer: Issuer) -> None:
    # The attack: sign HS256 with the issuer's public key as the secret, hoping the verifier takes it as one.
    public_jwk = RSAAlgorithm.to_jwk(issuer.keys["k1"].public_key()).encode()
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": RESOURCE, "exp": now + 300, "scope": READ}
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': 'k1'})}.{segment(claims)}"
    mac = hmac.new(public_jwk, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    verifier = JwtVerifier(config_for(issuer), JwksCache(config_for(issuer)))
    assert await verifier.verify_token(forged) is None


async def test_a_symmetric_key_in_the_key_set_is_never_used(issuer: Issuer) -> None:
    secret = b"a-shared-secret-that-is-long-enough-for-hs256"
    encoded = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    issuer.secrets.append({"kty": "oct", "k": encoded, "kid": "hs", "alg": "HS256"})
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": RESOURCE, "exp": now + 300, "scope": READ}
    signing_input = f"{segment({'alg': 'HS256', 'kid': 'hs'})}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    keys = JwksCache(config_for(issuer))
    assert await JwtVerifier(config_for(issuer), keys).verify_token(token) is None
    assert await keys.key("hs") is None
    assert await keys.key("k1") is not None


async def test_an_unknown_key_id_refetches_the_keys_once_so_a_rotated_key_is_accepted(issuer: Issuer) -> None:
    keys = JwksCache(config_for(issuer), refetch_interval=0)
    verifier = JwtVerifier(config_for(issuer), keys)
    assert await verifier.verify_token(issuer.token()) is not None
    assert await verifier.verify_token(issuer.token()) is not None
    assert issuer.jwks_fetches == 1
    issuer.add_key("k2")
    assert await verifier.verify_token(issuer.token("k2")) is not None
    assert issuer.jwks_fetches == 2
    assert await verifier.verify_token(issuer.token("k2")) is not None
    assert issuer.jwks_fetches == 2


async def test_forged_key_ids_do_not_refetch_the_keys_on_every_request(issuer: Issuer) -> None:
    verifier = JwtVerifier(config_for(issuer), JwksCache(config_for(issuer)))
    assert await verifier.verify_token(issuer.token()) is not None
    stranger = rsa.generate_private_key(65537, 2048)
    for n in range(5):
        assert await verifier.verify_token(issuer.token(f"forged-{n}", key=stranger)) is None
    assert issuer.jwks_fetches == 1


def test_oauth_and_the_static_token_cannot_both_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS_AI_MCP_OAUTH_ISSUER", "https://id.example.com/realms/team")
    monkeypatch.setenv("WORKERS_AI_MCP_OAUTH_AUDIENCE", "https://mcp.example.com/mcp")
    monkeypatch.setenv("WORKERS_AI_MCP_AUTH_TOKEN", "a-static-token-of-some-length")
    with pytest.raises(SettingsError, match="either WORKERS_AI_MCP_AUTH_TOKEN .* or WORKERS_AI_MCP_OAUTH_ISSUER"):
        load_settings()
    monkeypatch.delenv("WORKERS_AI_MCP_AUTH_TOKEN")
    monkeypatch.delenv("WORKERS_AI_MCP_OAUTH_AUDIENCE")
    with pytest.raises(SettingsError, match="needs both WORKERS_AI_MCP_OAUTH_ISSUER .* WORKERS_AI_MCP_OAUTH_AUDIENCE"):
        load_settings()


def test_an_issuer_over_plain_http_is_refused_unless_loopback_is_allowed(settings: Settings) -> None:
    remote = settings.model_copy(update={"oauth_issuer": "http://id.example.com", "oauth_audience": RESOURCE})
    with pytest.raises(OAuthConfigError, match="must be an https:// URL"):
        OAuthConfig.from_settings(remote)
    loopback = remote.model_copy(update={"oauth_issuer": "http://127.0.0.1:9000"})
    with pytest.raises(OAuthConfigError, match="WORKERS_AI_MCP_OAUTH_ALLOW_HTTP_LOOPBACK"):
        OAuthConfig.from_settings(loopback)
    allowed = loopback.model_copy(update={"oauth_allow_http_loopback": True})
    assert OAuthConfig.from_settings(allowed) is not None


def test_a_public_bind_is_allowed_with_oauth_instead_of_a_token(oauth_settings: Settings) -> None:
    check_bind(oauth_settings, "0.0.0.0", 8000)


async def test_a_session_opened_with_one_persons_token_is_not_found_with_anothers(
    make_app: AppFactory, oauth_settings: Settings, issuer: Issuer
) -> None:
    app = make_app(settings=oauth_settings, json_response=True)
    listing = {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}
    owner, other = issuer.token(sub="person-1"), issuer.token(sub="person-2")
    async with app.router.lifespan_context(app), asgi_client(app, token=None) as http:
        opened = await http.post("/mcp", json=INITIALIZE, headers=HEADERS | {"Authorization": f"Bearer {owner}"})
        assert opened.status_code == 200
        session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"}
        answers = {
            name: await http.post(
                "/mcp", json=listing, headers=HEADERS | session | {"Authorization": f"Bearer {token}"}
            )
            for name, token in (("other", other), ("owner", owner))
        }
    assert answers["other"].status_code == 404
    assert answers["owner"].status_code == 200


@pytest.mark.usefixtures("restore_logging")
def test_an_issuer_over_plain_http_is_refused_at_start_with_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKERS_AI_MCP_OAUTH_ISSUER", "http://id.example.com/realms/team")
    monkeypatch.setenv("WORKERS_AI_MCP_OAUTH_AUDIENCE", "https://mcp.example.com/mcp")
    code = cli.main(["--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8765"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "workers-ai-mcp: WORKERS_AI_MCP_OAUTH_ISSUER must be an https:// URL (plain http is allowed only "
        "for a loopback issuer with WORKERS_AI_MCP_OAUTH_ALLOW_HTTP_LOOPBACK=true).\n"
    )


async def test_the_sse_transport_asks_for_the_same_token(make_app: AppFactory, oauth_settings: Settings) -> None:
    app = make_app("sse", settings=oauth_settings)
    async with app.router.lifespan_context(app), asgi_client(app, token=None) as http:
        response = await http.get("/sse")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer resource_metadata=")
