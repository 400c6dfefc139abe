"""Download a media URL safely: http(s) only, no private addresses, capped while streaming.

The SSRF guard refuses a URL whose host is, or resolves to, any loopback, private, link-local
(cloud metadata at 169.254.169.254), CGNAT, multicast, reserved or unspecified address,
including IPv4 written as one number, in hex or octal, and IPv4 embedded in IPv6 (mapped,
NAT64, 6to4), unless `allow_private_urls` is set or the host is listed in `allowed_url_hosts`.
Every redirect hop is checked again before it is followed (at most `MAX_REDIRECTS`).

DNS rebinding: a name can resolve to a public address when checked and to a private one when
connected. To close that window the request goes to the checked address itself (the URL's
host is replaced by the IP, with the original `Host` header and TLS server name, so the
certificate is still verified for the name), and `Connection: close` keeps that connection
out of the shared pool. Hosts that skip the guard (allowed, or private URLs allowed) are
fetched by name. Behind an HTTP proxy taken from the environment the proxy resolves names
itself, so there the guard only judges what this machine's DNS says.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

import anyio
import httpx2

from ..settings import Settings

IPAddress = IPv4Address | IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_URL_CHARS = 8192
_MAX_ADDRESSES = 3
_MEBIBYTE = 1024 * 1024
_NAT64 = IPv6Network("64:ff9b::/96")
_NUMERIC_IPV4 = frozenset("0123456789abcdefxABCDEFX.")
# Never carried to a third-party host, whatever the shared client's defaults hold.
_PRIVATE_HEADERS = ("authorization", "cf-aig-authorization", "cookie", "proxy-authorization")
_ALLOW_HINT = (
    "set WORKERS_AI_MCP_ALLOW_PRIVATE_URLS=true or list the host in WORKERS_AI_MCP_ALLOWED_URL_HOSTS to allow it"
)


class UrlRefused(ValueError):
    """The URL may not be fetched, or fetching it failed; the message says why and what to do."""


@dataclass(frozen=True)
class FetchedUrl:
    """The body of a URL, downloaded whole."""

    data: bytes
    url: str
    content_type: str | None


def is_blocked_address(ip: IPAddress) -> bool:
    """True for any address that is not plainly public unicast, looking inside IPv6 wrappers."""
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_blocked_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_blocked_address(IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and is_blocked_address(ip.sixtofour):
            return True
        if ip.is_site_local:
            return True
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally, including `2130706433`, `0x7f.1` and `0177.0.0.1`."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    if host and set(host) <= _NUMERIC_IPV4 and host[0].isdigit():
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None  # a name such as 0xdead.cafe: resolved, then judged, like any other
    return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (IPv6 scope ids dropped)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UrlRefused(f"The host {host} could not be found ({reason}); check the URL.") from None
    return [ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def describe_url(url: str | httpx2.URL) -> str:
    """A short form of `url` for messages: no query or fragment (they may hold signatures)."""
    try:
        parsed = httpx2.URL(url) if isinstance(url, str) else url
        text = f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}{parsed.path}"
    except (httpx2.InvalidURL, ValueError, TypeError):
        text = str(url).split("?", 1)[0].split("#", 1)[0]
    return text if len(text) <= 100 else text[:99] + "…"


async def fetch_url(
    url: str,
    *,
    settings: Settings,
    http: httpx2.AsyncClient,
    is_blocked: Callable[[IPAddress], bool] = is_blocked_address,
    resolve: Resolver = resolve_host,
) -> FetchedUrl:
    """GET `url` within the guard, the size cap and `settings.timeout`; raise `UrlRefused`."""
    current = _parse(url)
    try:
        with anyio.fail_after(settings.timeout):
            for hop in range(MAX_REDIRECTS + 1):
                candidates = await _connect_urls(current, settings, is_blocked, resolve)
                response = await _send(http, current, candidates, settings)
                try:
                    if response.status_code not in _REDIRECTS:
                        return await _body(current, response, settings.max_input_bytes)
                    if hop == MAX_REDIRECTS:
                        raise UrlRefused(
                            f"{describe_url(url)} redirects more than {MAX_REDIRECTS} times; pass the final URL."
                        )
                    current = _next_hop(current, response)
                finally:
                    await response.aclose()
    except TimeoutError:
        raise UrlRefused(
            f"Downloading {describe_url(current)} took longer than {settings.timeout:g} s; "
            "pass a faster or smaller source."
        ) from None
    except httpx2.TimeoutException:
        raise UrlRefused(f"{describe_url(current)} stopped answering; try again or pass another source.") from None
    except httpx2.HTTPError as exc:
        raise UrlRefused(
            f"Downloading {describe_url(current)} failed ({type(exc).__name__}); check the URL or pass another source."
        ) from None
    raise AssertionError("unreachable: the loop returns or raises")


def _parse(text: str) -> httpx2.URL:
    if len(text) > _MAX_URL_CHARS:
        raise UrlRefused(f"The URL is longer than {_MAX_URL_CHARS} characters; pass a shorter one.")
    try:
        url = httpx2.URL(text)
    except (httpx2.InvalidURL, ValueError, TypeError) as exc:
        raise UrlRefused(f"{describe_url(text)} is not a valid URL ({exc}).") from None
    if url.scheme not in ("http", "https"):
        raise UrlRefused(f"{describe_url(text)} is not an http(s) URL; only http:// and https:// URLs are fetched.")
    if url.userinfo:
        raise UrlRefused(
            f"{describe_url(url)} carries a user name or password, which is never sent; pass a URL without them."
        )
    if not url.host:
        raise UrlRefused(f"{describe_url(text)} has no host; pass a full URL such as https://example.com/cat.png.")
    return url


def _next_hop(current: httpx2.URL, response: httpx2.Response) -> httpx2.URL:
    location = response.headers.get("location")
    if not location:
        raise UrlRefused(f"{describe_url(current)} answered a redirect without a Location; pass the final URL.")
    try:
        target = current.join(location)
    except (httpx2.InvalidURL, ValueError) as exc:
        raise UrlRefused(f"{describe_url(current)} redirects to an invalid URL ({exc}).") from None
    return _parse(str(target))


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


async def _connect_urls(
    url: httpx2.URL, settings: Settings, is_blocked: Callable[[IPAddress], bool], resolve: Resolver
) -> list[httpx2.URL]:
    """The URLs to try, in order: `url` itself when its host is trusted, else its checked addresses."""
    host = url.raw_host.decode("ascii")
    allowed = {_host_key(entry) for entry in settings.allowed_url_hosts}
    if settings.allow_private_urls or {_host_key(host), _host_key(url.host)} & allowed:  # punycode or Unicode
        return [url]
    literal = literal_ip(_host_key(host))
    addresses = [literal] if literal is not None else await resolve(host, url.port or _default_port(url))
    if not addresses:
        raise UrlRefused(f"The host {host} has no address; check the URL.")
    for address in addresses:
        if is_blocked(address):
            shown = describe_url(url)
            raise UrlRefused(
                f"{shown} leads to {address}, a private, loopback or link-local address, "
                f"which is not fetched; {_ALLOW_HINT}."
            )
    unique = list(dict.fromkeys(addresses))[:_MAX_ADDRESSES]
    return [url.copy_with(host=str(address)) for address in unique]


def _default_port(url: httpx2.URL) -> int:
    return 443 if url.scheme == "https" else 80


async def _send(
    http: httpx2.AsyncClient, url: httpx2.URL, candidates: list[httpx2.URL], settings: Settings
) -> httpx2.Response:
    headers = {"accept-encoding": "identity", "connection": "close"}
    extensions: dict[str, object] = {}
    if candidates[0] != url:  # pinned to an address: keep the name for Host and TLS
        headers["host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
    timeout = httpx2.Timeout(settings.timeout, connect=min(settings.connect_timeout, settings.timeout))
    for candidate in candidates:
        request = http.build_request("GET", candidate, headers=headers, timeout=timeout, extensions=extensions)
        for name in _PRIVATE_HEADERS:
            request.headers.pop(name, None)
        try:
            return await http.send(request, stream=True, follow_redirects=False, auth=None)
        except (httpx2.ConnectError, httpx2.ConnectTimeout):
            continue  # the next checked address, as a browser would
    raise UrlRefused(f"Could not connect to {describe_url(url)}; check that the URL is reachable from this machine.")


async def _body(url: httpx2.URL, response: httpx2.Response, limit: int) -> FetchedUrl:
    shown = describe_url(url)
    if not 200 <= response.status_code < 300:
        raise UrlRefused(f"{shown} answered HTTP {response.status_code}; check that the URL is right and public.")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(shown, limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > limit:
            raise _too_large(shown, limit)
        chunks.append(chunk)
    return FetchedUrl(data=b"".join(chunks), url=str(url), content_type=response.headers.get("content-type"))


def _too_large(shown: str, limit: int) -> UrlRefused:
    return UrlRefused(
        f"{shown} is larger than the {limit / _MEBIBYTE:.1f} MiB input limit (WORKERS_AI_MCP_MAX_INPUT_BYTES); "
        "pass a smaller file."
    )
