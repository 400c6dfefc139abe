"""OAuth 2.1 resource server for the HTTP transports (MCP authorization, 2025-06-18 and 2025-11-25).

The server validates access tokens issued for it by the team's authorization server: JWTs signed with a
key from the issuer's JWKS (RFC 7517), with issuer, audience (the resource URL, RFC 8707), expiry and
not-before checked, on an allow-list of asymmetric algorithms (never `none`, never HS* keyed with a
public key). PyJWT does the JOSE work; it is already the MCP SDK's own dependency. The verifier
implements the SDK's `TokenVerifier` and yields its `AccessToken`, so the SDK's session ownership
(`AuthenticatedUser`) binds a session to the token's principal. The JWKS is fetched over HTTPS only
(plain HTTP only for a loopback issuer, and only when a setting allows it), without redirects, with a
bounded read; kept for a TTL and refetched once when a token names an unknown `kid`. No token, nor any
part of one, is logged or echoed.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import jwt
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl

from ...settings import Settings, SettingsError

logger = logging.getLogger(__name__)

# Asymmetric algorithms only: a public key can never be used as an HMAC secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 30
JWKS_TTL_SECONDS = 300.0
# An unknown `kid` refetches the JWKS at most this often, so forged kids cannot hammer the issuer.
REFETCH_INTERVAL_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_KEYS = 32
FETCH_TIMEOUT_SECONDS = 10.0
WELL_KNOWN = "/.well-known/oauth-protected-resource"


class OAuthConfigError(SettingsError):
    """A setting that makes OAuth unusable; the message is one sentence naming it."""


@dataclass(frozen=True)
class OAuthConfig:
    """What the resource server checks, from the `WORKERS_AI_MCP_OAUTH_*` settings."""

    issuer: str
    resource: str
    jwks_url: str | None
    read_scope: str
    invoke_scope: str
    allow_http_loopback: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthConfig | None:
        if not settings.oauth_issuer:
            return None
        config = cls(
            issuer=settings.oauth_issuer,
            resource=settings.oauth_audience or "",
            jwks_url=settings.oauth_jwks_url,
            read_scope=settings.oauth_read_scope,
            invoke_scope=settings.oauth_invoke_scope,
            allow_http_loopback=settings.oauth_allow_http_loopback,
        )
        urls = {"WORKERS_AI_MCP_OAUTH_ISSUER": config.issuer, "WORKERS_AI_MCP_OAUTH_JWKS_URL": config.jwks_url}
        for name, url in urls.items():
            if url is not None:
                check_fetch_url(url, name, allow_http_loopback=config.allow_http_loopback)
        return config

    @property
    def scopes(self) -> list[str]:
        return [self.read_scope, self.invoke_scope]

    def metadata_paths(self) -> list[str]:
        """`/.well-known/oauth-protected-resource` and its form suffixed with the resource's path (RFC 9728 §3.1)."""
        suffixed = urlsplit(str(build_resource_metadata_url(AnyHttpUrl(self.resource)))).path
        return list(dict.fromkeys([WELL_KNOWN, suffixed]))

    def metadata_url(self) -> str:
        return str(build_resource_metadata_url(AnyHttpUrl(self.resource)))

    def metadata(self) -> dict[str, Any]:
        """The Protected Resource Metadata document (RFC 9728 §2)."""
        document = ProtectedResourceMetadata(
            resource=AnyHttpUrl(self.resource),
            authorization_servers=[AnyHttpUrl(self.issuer)],
            scopes_supported=self.scopes,
            resource_name="workers-ai-mcp",
        )
        body = document.model_dump(mode="json", exclude_none=True)
        # Pydantic adds a trailing slash to a bare origin; the document must name the issuer exactly.
        body["authorization_servers"] = [self.issuer]
        body["resource"] = self.resource
        return body


def check_fetch_url(url: str, name: str, *, allow_http_loopback: bool) -> None:
    """Raise `OAuthConfigError` unless `url` is https, or http on a loopback host with the setting on."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise OAuthConfigError(f"{name} must be an https:// URL, not {url!r}.")
    if parts.scheme == "https":
        return
    if allow_http_loopback and _loopback(parts.hostname):
        return
    raise OAuthConfigError(
        f"{name} must be an https:// URL (plain http is allowed only for a loopback issuer with "
        "WORKERS_AI_MCP_OAUTH_ALLOW_HTTP_LOOPBACK=true)."
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class JwksCache:
    """The issuer's signing keys by `kid`, kept for a TTL, bounded in count, refetched on an unknown kid."""

    def __init__(
        self,
        config: OAuthConfig,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        refetch_interval: float = REFETCH_INTERVAL_SECONDS,
    ) -> None:
        self._config = config
        self._transport = transport
        self._refetch_interval = refetch_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = anyio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The key named `kid`, fetching the JWKS when stale or when `kid` is unknown (at most once a while)."""
        now = time.monotonic()
        age = now - self._fetched_at
        if age > JWKS_TTL_SECONDS or (kid not in self._keys and age >= self._refetch_interval):
            await self._refresh(now)
        return self._keys.get(kid)

    async def _refresh(self, now: float) -> None:
        async with self._lock:
            if self._fetched_at >= now:  # another request refreshed while this one waited
                return
            try:
                keys = await self._fetch()
            except (httpx2.HTTPError, ValueError, jwt.PyJWTError) as exc:
                logger.warning("Could not fetch the OAuth issuer's signing keys: %s", type(exc).__name__)
                self._fetched_at = time.monotonic() - JWKS_TTL_SECONDS + self._refetch_interval
                return
            self._keys = keys
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        async with httpx2.AsyncClient(
            transport=self._transport, follow_redirects=False, timeout=FETCH_TIMEOUT_SECONDS
        ) as http:
            jwks_url = self._config.jwks_url or await self._discover(http)
            self.fetches += 1
            document = await _get_json(http, jwks_url, self._config)
        keys: dict[str, jwt.PyJWK] = {}
        for entry in _key_entries(document)[:MAX_KEYS]:
            kid = entry.get("kid")
            if not isinstance(kid, str) or entry.get("use", "sig") != "sig" or entry.get("kty") == "oct":
                continue  # a shared secret has no place in a public key set
            try:
                keys[kid] = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type or curve we do not take; the others still count
        return keys

    async def _discover(self, http: httpx2.AsyncClient) -> str:
        """`jwks_uri` from the issuer's RFC 8414 metadata, else its OpenID Connect discovery document."""
        issuer = self._config.issuer.rstrip("/")
        for suffix in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
            try:
                metadata = await _get_json(http, issuer + suffix, self._config)
            except (httpx2.HTTPError, ValueError):
                continue
            uri = metadata.get("jwks_uri")
            if isinstance(uri, str):
                check_fetch_url(uri, "the issuer's jwks_uri", allow_http_loopback=self._config.allow_http_loopback)
                return uri
        raise ValueError("the issuer publishes no jwks_uri")


def _key_entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    keys: object = document.get("keys")
    if not isinstance(keys, list):
        raise ValueError("a JWKS without keys")
    return [entry for entry in keys if isinstance(entry, dict)]  # pyright: ignore[reportUnknownVariableType]


async def _get_json(http: httpx2.AsyncClient, url: str, config: OAuthConfig) -> dict[str, Any]:
    """A JSON object from `url`, read to at most `MAX_DOCUMENT_BYTES`."""
    check_fetch_url(url, "an OAuth metadata URL", allow_http_loopback=config.allow_http_loopback)
    async with http.stream("GET", url, headers={"Accept": "application/json"}) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError("document over the size limit")
    parsed: object = json.loads(bytes(body))
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    return parsed  # pyright: ignore[reportUnknownVariableType]


class JwtVerifier:
    """The SDK's `TokenVerifier` for JWT access tokens; `None` for any token it does not accept."""

    def __init__(self, config: OAuthConfig, keys: JwksCache) -> None:
        self._config = config
        self._keys = keys

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return _refused("not a JWT")
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            return _refused("an algorithm not on the allow-list")
        key = await self._keys.key(kid) if isinstance(kid, str) else None
        if key is None:
            return _refused("a key id the issuer does not publish")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._config.resource,
                issuer=self._config.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            return _refused(type(exc).__name__)
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or claims.get("sub") or ""),
            scopes=_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=self._config.resource,
            subject=str(claims["sub"]) if "sub" in claims else None,
            claims={"iss": claims["iss"]},
        )


def _refused(reason: str) -> None:
    logger.info("Refused an OAuth access token: %s", reason)


def _scopes(claims: dict[str, Any]) -> list[str]:
    """`scope` (RFC 9068, space-separated) or `scp` (a list, as Entra ID and Okta send it)."""
    scope: object = claims.get("scope")
    if isinstance(scope, str):
        return scope.split()
    scp: object = claims.get("scp")
    if isinstance(scp, list):
        return [str(item) for item in scp]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(scp, str):
        return scp.split()
    return []
