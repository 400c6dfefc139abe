"""A local OAuth authorization server on loopback, shared by the OAuth tests and scripts/inspector_check.sh.

It publishes RFC 8414 metadata and a JWKS, signs access tokens with real RSA/EC keys through PyJWT (no
hand-rolled crypto), and answers the client_credentials grant (RFC 6749 §4.4) for one client, for the
resource asked (RFC 8707). The tests use it in process; the Inspector check runs it as a process of its
own (scripts/oauth_issuer.py), so both prove the server against the same issuer.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.loopback import serving_in_thread

READ, INVOKE = "workers-ai:read", "workers-ai:invoke"
CLIENT_ID, CLIENT_SECRET = "ci-agent", "client-secret-for-tests"
# The MCP endpoint the in-process tests' settings name as the audience (nothing listens there: they call the
# ASGI app directly).
RESOURCE = "http://127.0.0.1:8000/mcp"


@dataclass
class Issuer:
    """An authorization server on loopback: RFC 8414 metadata, a JWKS, and tokens signed with its keys.

    `audience` is the resource its tokens are for by default (the MCP endpoint's URL)."""

    audience: str
    url: str = ""
    keys: dict[str, Any] = field(default_factory=dict[str, Any])  # kid -> private key
    jwks_fetches: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    secrets: list[dict[str, str]] = field(default_factory=list[dict[str, str]])  # symmetric keys it wrongly publishes

    def add_key(self, kid: str, kind: str = "RSA") -> None:
        rsa_key = kind == "RSA"
        self.keys[kid] = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        entries: list[dict[str, Any]] = [dict(secret) for secret in self.secrets]
        for kid, key in self.keys.items():
            if isinstance(key, rsa.RSAPrivateKey):
                entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            else:
                entry = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
            entries.append({**entry, "kid": kid, "use": "sig"})
        return {"keys": entries}

    def token(self, kid: str = "k1", *, key: Any = None, **overrides: Any) -> str:
        """A signed access token for `audience` with both scopes; `overrides` replace claims (None drops one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": self.audience,
            "sub": "person-1",
            "client_id": "host-app",
            "iat": now,
            "exp": now + 300,
            "scope": f"{READ} {INVOKE}",
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        signing = key or self.keys[kid]
        algorithm = "RS256" if isinstance(signing, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(claims, signing, algorithm=algorithm, headers={"kid": kid})

    def app(self) -> Starlette:
        async def metadata(_: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.url,
                    "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token",
                    "jwks_uri": f"{self.url}/jwks",
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["client_credentials"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                }
            )

        async def token(request: Request) -> Response:
            """client_credentials (RFC 6749 §4.4) for the one client, for the resource asked (RFC 8707)."""
            form = await request.form()
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected or form.get("grant_type") != "client_credentials":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            self.token_requests.append({name: str(value) for name, value in form.items()})
            scope = str(form.get("scope") or f"{READ} {INVOKE}")
            access = self.token(aud=str(form.get("resource") or ""), scope=scope, sub=CLIENT_ID)
            return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 300, "scope": scope})

        async def jwks(_: Request) -> Response:
            self.jwks_fetches += 1
            return JSONResponse(self.jwks())

        return Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", metadata),
                Route("/jwks", jwks),
                Route("/token", token, methods=["POST"]),
            ]
        )


@contextmanager
def running_issuer(audience: str) -> Iterator[Issuer]:
    """An `Issuer` with one RSA key ("k1"), served on an ephemeral 127.0.0.1 port until the block ends."""
    local = Issuer(audience)
    local.add_key("k1")
    with serving_in_thread(local.app()) as base:
        local.url = base
        yield local
