"""One client cannot hold every connection: a cap per source address, and a reserve kept for `/health` and
authenticated requests. Through a real socket, with clients bound to other loopback addresses (127.0.0.x)."""

from __future__ import annotations

import anyio
import anyio.abc
import httpx2
import pytest

from support.http import INBOUND_TOKEN, AppFactory, mcp_over
from support.loopback import serving
from workers_ai_mcp.transports.http.gate import RESERVED_MESSAGE
from workers_ai_mcp.transports.http.server import ConnectionLimits

WITHIN = 10.0
AUTH = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def _first_answer(stream: anyio.abc.SocketStream) -> bytes:
    """What the server sends until its first answer's headers are complete (or it closes the connection)."""
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            received += await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
        pass
    return received


async def _rest(stream: anyio.abc.SocketStream) -> bytes:
    received = b""
    try:
        while True:
            received += await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
        return received


async def _connect(url: str, address: str) -> anyio.abc.SocketStream:
    return await anyio.connect_tcp("127.0.0.1", _port(url), local_host=address)


def _http_from(address: str, **options: object) -> httpx2.AsyncClient:
    transport = httpx2.AsyncHTTPTransport(local_address=address)
    return httpx2.AsyncClient(transport=transport, timeout=WITHIN, **options)  # pyright: ignore[reportArgumentType]


async def test_a_client_flooding_idle_connections_gets_its_share_while_another_address_is_served(
    make_app: AppFactory,
) -> None:
    limits = ConnectionLimits(max_connections=12, max_connections_per_client=4, header_timeout=WITHIN * 3)
    async with serving(make_app(), limits=limits) as url:
        flood = [await _connect(url, "127.0.0.1") for _ in range(limits.max_connections)]
        try:
            with anyio.fail_after(WITHIN):
                async with mcp_over(_http_from("127.0.0.2", headers=AUTH), f"{url}/mcp") as client:
                    models = await client.call_tool("list_models", {"task": "Text Embeddings"})
                async with _http_from("127.0.0.3") as http:
                    health = await http.get(f"{url}/health")
                for stream in flood:  # finish the idle connections' requests: who was let in?
                    await stream.send(HEALTH)
                answers = [await _first_answer(stream) for stream in flood]
        finally:
            for stream in flood:
                await stream.aclose()
    assert not models.is_error
    assert health.status_code == 200
    assert sum(answer.startswith(b"HTTP/1.1 200") for answer in answers) == limits.max_connections_per_client
    refused = [answer for answer in answers if answer.startswith(b"HTTP/1.1 503")]
    assert len(refused) == limits.max_connections - limits.max_connections_per_client
    assert all(b"Too many connections from your address" in answer for answer in refused)


async def test_idle_sse_streams_of_one_client_leave_room_for_another_address_and_health(make_app: AppFactory) -> None:
    limits = ConnectionLimits(max_connections=12, max_connections_per_client=4)
    opened: list[anyio.abc.SocketStream] = []
    request = b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer %s\r\n\r\n"
    async with serving(make_app("sse"), limits=limits) as url:
        try:
            with anyio.fail_after(WITHIN):
                streams: list[bytes] = []
                for _ in range(limits.max_connections):  # each an open stream that never sends a message
                    opened.append(await _connect(url, "127.0.0.1"))
                    await opened[-1].send(request % INBOUND_TOKEN.encode())
                    streams.append(await _first_answer(opened[-1]))
                other = await _connect(url, "127.0.0.2")
                opened.append(other)
                await other.send(request % INBOUND_TOKEN.encode())
                other_answer = await _first_answer(other)
                async with _http_from("127.0.0.3") as http:
                    health = await http.get(f"{url}/health")
        finally:
            for stream in opened:
                await stream.aclose()
    assert sum(answer.startswith(b"HTTP/1.1 200") for answer in streams) == limits.max_connections_per_client
    assert sum(answer.startswith(b"HTTP/1.1 503") for answer in streams) == 8
    assert other_answer.startswith(b"HTTP/1.1 200") and b"text/event-stream" in other_answer
    assert health.status_code == 200


async def test_past_the_general_share_only_health_and_authenticated_requests_are_served(
    make_app: AppFactory,
) -> None:
    limits = ConnectionLimits(
        max_connections=8, max_connections_per_client=3, reserved_connections=4, header_timeout=WITHIN * 3
    )
    assert limits.general_share == 4
    async with serving(make_app(), limits=limits) as url:
        held = [await _connect(url, address) for address in ("127.0.0.3", "127.0.0.3", "127.0.0.3", "127.0.0.4")]
        try:
            with anyio.fail_after(WITHIN):
                for stream in held:  # make sure each has been accepted and counted
                    await stream.send(b"GET /health HTTP/1.1\r\n")
                    await anyio.wait_all_tasks_blocked()
                anonymous = await _connect(url, "127.0.0.5")
                async with anonymous:
                    await anonymous.send(b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                    refused = await _rest(anonymous)  # answered, then closed: the slot is free again
                health_stream = await _connect(url, "127.0.0.5")
                async with health_stream:
                    await health_stream.send(HEALTH)
                    health = await _first_answer(health_stream)
                async with mcp_over(_http_from("127.0.0.6", headers=AUTH), f"{url}/mcp") as client:
                    models = await client.call_tool("list_models", {"task": "Text Embeddings"})
        finally:
            for stream in held:
                await stream.aclose()
    assert refused.startswith(b"HTTP/1.1 503"), refused
    assert RESERVED_MESSAGE.encode() in refused
    assert health.startswith(b"HTTP/1.1 200"), health
    assert not models.is_error


@pytest.mark.parametrize(("cap", "reserved", "share"), [(200, 20, 180), (3, 20, 2), (10, 0, 10)])
def test_the_reserve_is_at_most_half_the_connection_cap(cap: int, reserved: int, share: int) -> None:
    assert ConnectionLimits(max_connections=cap, reserved_connections=reserved).general_share == share
