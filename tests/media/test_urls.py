"""URL fetching against a real loopback server: the SSRF guard, redirects, size caps, deadlines.

Every refusal also asserts that no request left the client (the recording transport saw
nothing) and that the loopback server saw no hit.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, ip_address

import httpx2
import pytest

from support.media_inputs import HUGE_CHUNK, HUGE_TOTAL, Loopback, RecordingTransport
from workers_ai_mcp.client.client import create_http_client
from workers_ai_mcp.media.urls import IPAddress, UrlRefused, fetch_url, is_blocked_address
from workers_ai_mcp.settings import Settings

SettingsFactory = Callable[..., Settings]


async def test_a_loopback_url_is_fetched_when_private_urls_are_allowed(
    server: Loopback, http: httpx2.AsyncClient, media_settings: SettingsFactory, png: bytes
) -> None:
    fetched = await fetch_url(f"{server.base}/cat.png", settings=media_settings(allow_private_urls=True), http=http)
    assert fetched.data == png
    assert fetched.content_type == "image/png"
    assert [hit.path for hit in server.hits] == ["/cat.png"]


async def test_a_loopback_url_is_fetched_when_its_host_is_listed_as_allowed(
    server: Loopback, http: httpx2.AsyncClient, media_settings: SettingsFactory, png: bytes
) -> None:
    settings = media_settings(allowed_url_hosts=["127.0.0.1"])
    fetched = await fetch_url(f"{server.base}/cat.png", settings=settings, http=http)
    assert fetched.data == png


async def test_allowed_hosts_match_the_exact_name_case_insensitively_and_are_fetched_by_name(
    server: Loopback, http: httpx2.AsyncClient, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    settings = media_settings(allowed_url_hosts=["LocalHost"])
    await fetch_url(f"http://localhost:{server.port}/cat.png", settings=settings, http=http)
    assert recorder.requests[0].url.host == "localhost"
    with pytest.raises(UrlRefused, match="leads to 127.0.0.1"):  # same address, another name
        await fetch_url(f"http://127.0.0.1:{server.port}/cat.png", settings=settings, http=http)
    assert len(server.hits) == 1


REFUSED = [
    "http://127.0.0.1:{port}/cat.png",
    "http://10.0.0.1/x",
    "http://172.16.5.4/x",
    "http://192.168.1.1/router.png",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/cgnat.png",
    "http://0.0.0.0:{port}/cat.png",
    "http://224.0.0.1/multicast.png",
    "http://[::1]:{port}/cat.png",
    "http://[::]:{port}/cat.png",
    "http://[::ffff:127.0.0.1]:{port}/cat.png",
    "http://[::ffff:169.254.169.254]/latest/meta-data",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of 169.254.169.254
    "http://[2002:7f00:1::]/cat.png",  # 6to4 of 127.0.0.1
    "http://[fe80::1]/cat.png",
    "http://[fd00::1]/cat.png",
    "http://2130706433:{port}/cat.png",
    "http://0x7f000001:{port}/cat.png",
    "http://0x7f.1:{port}/cat.png",
    "http://127.1:{port}/cat.png",
    "http://localhost:{port}/cat.png",
    "http://LocalHost:{port}/cat.png",
]


@pytest.mark.parametrize("template", REFUSED)
async def test_private_loopback_and_link_local_urls_are_refused_before_any_connection(
    template: str,
    server: Loopback,
    http: httpx2.AsyncClient,
    recorder: RecordingTransport,
    media_settings: SettingsFactory,
) -> None:
    url = template.format(port=server.port)
    with pytest.raises(UrlRefused, match="private, loopback or link-local address") as refused:
        await fetch_url(url, settings=media_settings(), http=http)
    assert "WORKERS_AI_MCP_ALLOW_PRIVATE_URLS" in str(refused.value)
    assert recorder.requests == []
    assert server.hits == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/cat.png", "not an http"),
        ("file:///etc/passwd", "not an http"),
        ("http://user:secret@127.0.0.1:{port}/cat.png", "user name or password"),
        ("http://0177.0.0.1/cat.png", "not a valid URL"),
        ("http:///cat.png", "has no host"),
        ("http://example.com/" + "a" * 9000, "longer than"),
    ],
)
async def test_malformed_or_unsupported_urls_are_refused_even_with_private_urls_allowed(
    url: str,
    reason: str,
    server: Loopback,
    http: httpx2.AsyncClient,
    recorder: RecordingTransport,
    media_settings: SettingsFactory,
) -> None:
    with pytest.raises(UrlRefused, match=reason) as refused:
        await fetch_url(url.format(port=server.port), settings=media_settings(allow_private_urls=True), http=http)
    assert "secret" not in str(refused.value)
    assert recorder.requests == []


async def test_a_redirect_to_a_private_address_is_refused_at_the_hop(
    server: Loopback, http: httpx2.AsyncClient, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    settings = media_settings(allowed_url_hosts=["127.0.0.1"])
    for path, target in (("/to-private", "10.0.0.1"), ("/to-metadata", "169.254.169.254")):
        recorder.requests.clear()
        with pytest.raises(UrlRefused, match=f"leads to {target}, a private"):
            await fetch_url(f"{server.base}{path}", settings=settings, http=http)
        assert [request.url.path for request in recorder.requests] == [path]


async def test_a_redirect_to_another_scheme_is_refused_at_the_hop(
    server: Loopback, http: httpx2.AsyncClient, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    with pytest.raises(UrlRefused, match="not an http"):
        await fetch_url(f"{server.base}/to-ftp", settings=media_settings(allow_private_urls=True), http=http)
    assert len(recorder.requests) == 1


async def test_a_redirect_within_the_allowed_host_is_followed(
    server: Loopback, http: httpx2.AsyncClient, media_settings: SettingsFactory, png: bytes
) -> None:
    settings = media_settings(allowed_url_hosts=["127.0.0.1"])
    fetched = await fetch_url(f"{server.base}/to-cat", settings=settings, http=http)
    assert fetched.data == png
    assert fetched.url == f"{server.base}/cat.png"
    assert [hit.path for hit in server.hits] == ["/to-cat", "/cat.png"]


async def test_a_redirect_loop_stops_after_three_hops(
    server: Loopback, http: httpx2.AsyncClient, media_settings: SettingsFactory
) -> None:
    with pytest.raises(UrlRefused, match="redirects more than 3 times"):
        await fetch_url(f"{server.base}/loop", settings=media_settings(allow_private_urls=True), http=http)
    assert [hit.path for hit in server.hits] == ["/loop"] * 4


async def test_an_error_status_is_named_in_the_refusal(
    server: Loopback, http: httpx2.AsyncClient, media_settings: SettingsFactory
) -> None:
    with pytest.raises(UrlRefused, match="answered HTTP 404"):
        await fetch_url(f"{server.base}/missing.png", settings=media_settings(allow_private_urls=True), http=http)


async def test_a_streamed_body_without_length_is_cut_off_as_soon_as_it_passes_the_cap(
    server: Loopback, http: httpx2.AsyncClient, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    settings = media_settings(allow_private_urls=True, max_input_bytes=64 * 1024)
    with pytest.raises(UrlRefused, match=r"larger than the 0\.1 MiB input limit"):
        await fetch_url(f"{server.base}/huge.png", settings=settings, http=http)
    # The client read at most one network chunk past the cap, of a body that would go on for 8 MiB.
    assert settings.max_input_bytes < recorder.body_bytes <= settings.max_input_bytes + 2 * HUGE_CHUNK
    assert recorder.body_bytes < HUGE_TOTAL // 16


async def test_a_declared_length_over_the_cap_is_refused_before_reading_the_body(
    server: Loopback, http: httpx2.AsyncClient, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    settings = media_settings(allow_private_urls=True, max_input_bytes=64 * 1024)
    with pytest.raises(UrlRefused, match="larger than"):
        await fetch_url(f"{server.base}/declared-big.png", settings=settings, http=http)
    assert recorder.body_bytes == 0


async def test_a_stalled_download_ends_at_the_deadline(
    server: Loopback, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    settings = media_settings(allow_private_urls=True, timeout=0.5)
    async with create_http_client(settings, transport=recorder) as http:
        with pytest.raises(UrlRefused, match=r"took longer than 0\.5 s|stopped answering"):
            await fetch_url(f"{server.base}/stalled.png", settings=settings, http=http)


def _treat_loopback_as_public(ip: IPAddress) -> bool:
    return not ip.is_loopback and is_blocked_address(ip)


async def _local_names(host: str, port: int) -> list[IPAddress]:
    return [IPv4Address("127.0.0.2"), IPv4Address("127.0.0.1")]


async def test_a_checked_name_is_fetched_from_the_checked_address_with_its_own_host_header(
    server: Loopback,
    http: httpx2.AsyncClient,
    recorder: RecordingTransport,
    media_settings: SettingsFactory,
    png: bytes,
) -> None:
    fetched = await fetch_url(
        f"http://localhost:{server.port}/cat.png",
        settings=media_settings(),
        http=http,
        is_blocked=_treat_loopback_as_public,
    )
    assert fetched.data == png
    assert fetched.url == f"http://localhost:{server.port}/cat.png"
    assert ip_address(recorder.requests[-1].url.host).is_loopback  # connected to the address, not the name
    assert server.hits[-1].headers["host"] == f"localhost:{server.port}"


async def test_the_next_checked_address_is_tried_when_the_first_refuses_connections(
    server: Loopback,
    http: httpx2.AsyncClient,
    recorder: RecordingTransport,
    media_settings: SettingsFactory,
    png: bytes,
) -> None:
    fetched = await fetch_url(
        f"http://images.example:{server.port}/cat.png",
        settings=media_settings(),
        http=http,
        is_blocked=_treat_loopback_as_public,
        resolve=_local_names,
    )
    assert fetched.data == png
    assert [request.url.host for request in recorder.requests] == ["127.0.0.2", "127.0.0.1"]
    assert [hit.headers["host"] for hit in server.hits] == [f"images.example:{server.port}"]


async def test_an_https_fetch_pinned_to_an_address_keeps_the_name_for_tls_verification(
    server: Loopback, http: httpx2.AsyncClient, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    with pytest.raises(UrlRefused):  # the loopback server speaks plain HTTP, so the handshake fails
        await fetch_url(
            f"https://images.example:{server.port}/cat.png",
            settings=media_settings(),
            http=http,
            is_blocked=_treat_loopback_as_public,
            resolve=_local_names,
        )
    request = recorder.requests[-1]
    assert request.url.host == "127.0.0.1"
    assert request.extensions["sni_hostname"] == "images.example"
    assert request.headers["host"] == f"images.example:{server.port}"
    assert server.hits == []


async def test_credentials_and_cookies_of_the_shared_client_never_reach_the_fetched_host(
    server: Loopback, recorder: RecordingTransport, media_settings: SettingsFactory
) -> None:
    settings = media_settings(allow_private_urls=True)
    async with httpx2.AsyncClient(
        transport=recorder,
        headers={"authorization": "Bearer cf-secret-token", "cookie": "session=abc"},
        cookies={"jar": "crumbs"},
    ) as http:
        await fetch_url(f"{server.base}/cat.png", settings=settings, http=http)
    headers = server.hits[0].headers
    assert "authorization" not in headers
    assert "cookie" not in headers
    assert headers["accept-encoding"] == "identity"
    assert headers["connection"] == "close"


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("8.8.8.8", False),
        ("1.1.1.1", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
        ("64:ff9b::808:808", False),  # NAT64 of a public address, as DNS64 networks hand out
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.31.255.255", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("100.127.255.254", True),
        ("0.0.0.0", True),
        ("255.255.255.255", True),
        ("240.0.0.1", True),
        ("239.255.255.250", True),
        ("::1", True),
        ("::", True),
        ("fc00::1", True),
        ("fe80::1", True),
        ("fec0::1", True),
        ("ff02::1", True),
        ("::ffff:10.0.0.1", True),
        ("::127.0.0.1", True),
        ("64:ff9b::7f00:1", True),
        ("2002:a9fe:a9fe::1", True),
    ],
)
def test_the_address_policy_refuses_every_non_public_address(address: str, blocked: bool) -> None:
    assert is_blocked_address(ip_address(address)) is blocked
