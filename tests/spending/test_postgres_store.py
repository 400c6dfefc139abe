"""The PostgreSQL store when its database does not answer or is not this server's, through a real MCP session.

A budgeted call is refused in one sentence that names the database (never its password) and is not
sent; tools that need no spending still answer; a record of a call answered while the database was
down is written once it answers again. The database goes down and comes back through a TCP proxy
on loopback in front of the test server (`Outage`), as a restarting server or a dropped network
would look to the replicas.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import anyio
import pytest
from mcp.types import CallToolResult
from starlette.applications import Starlette

from support.emulated import model_calls
from support.forbidden import Forbidden
from support.postgres import require_postgres, state_home
from support.results import data_of, text_of
from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.redact import shifted_base64
from workers_ai_mcp.spending import postgres_store
from workers_ai_mcp.spending.ledger import Budgets, Ledger

TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}  # bart-large-cnn: no catalog price
PASSWORD = "wrong/p@ss word+of-24-chars"  # characters a URL must encode: each form is looked for


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_netloc(url: str, *, password: str | None = None, port: int | None = None) -> str:
    """`url` with another password (URL-encoded) or another port on 127.0.0.1."""
    parts = urlsplit(url)
    user = parts.username or "workers_ai_mcp"
    secret = quote(password, safe="") if password is not None else (parts.password or "")
    netloc = f"{user}:{secret}@127.0.0.1:{port if port is not None else parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def secret_forms(secret: str) -> set[str]:
    """`secret` as it may leak: itself, URL-encoded, and its base64 (standard and URL-safe, at any alignment)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode()}
    return forms | shifted_base64(secret.encode())


def shown(result: CallToolResult) -> str:
    return text_of(result) + json.dumps(result.structured_content or {})


class Outage:
    """A TCP proxy on loopback to `target`: `down()` drops its connections and stops listening (a client
    is refused, as by a stopped server), `up()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            listener.close()
        with self._lock:
            opened, self._sockets = self._sockets, []
        for sock in opened:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextmanager
def outage_proxy(url: str) -> Iterator[Outage]:
    parts = urlsplit(url)
    proxy = Outage((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.up()
    try:
        yield proxy
    finally:
        proxy.down()


@pytest.fixture
def quick_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A use gives up on an unreachable database after 1 s instead of 5 (the sentence is the same)."""
    monkeypatch.setattr(postgres_store, "POOL_TIMEOUT_SECONDS", 1.0)


@pytest.mark.parametrize("fault", ["nothing listens on its port", "its password is wrong"])
async def test_an_unreachable_database_refuses_a_budgeted_call_in_one_sentence_naming_it_and_nothing_is_sent(
    tmp_path: Path,
    emulator_app: Starlette,
    caplog: pytest.LogCaptureFixture,
    quick_pool: None,
    fault: str,
) -> None:
    real = require_postgres()
    port = free_port() if fault == "nothing listens on its port" else int(urlsplit(real).port or 5432)
    url = with_netloc(real, password=PASSWORD, port=port)
    settings = make_settings(tmp_path, state_url=url, max_cost_usd=1.0, unpriced_call_usd=0.01)
    upstream = Forbidden(emulator_app)
    with caplog.at_level(logging.DEBUG):
        async with open_session(settings, upstream=upstream.transport()) as client:
            with anyio.fail_after(60):
                refused = await client.call_tool("summarize", TEXT)
                models = await client.call_tool("list_models", {"search": "bart"})
                schema = await client.call_tool("get_model_schema", {"model": "@cf/facebook/bart-large-cnn"})
                usage = await client.call_tool("usage", {})
    assert upstream.sent == []
    sentence = text_of(refused).removeprefix("Error executing tool summarize: ")
    assert refused.is_error and sentence.startswith("The spending store, the PostgreSQL database workers_ai_mcp ")
    assert f"on 127.0.0.1:{port}" in sentence and "was not sent" in sentence
    assert sentence.endswith(".") and ". " not in sentence.replace("127.0.0.1", "")  # one sentence
    expected = "Connection refused" if fault == "nothing listens on its port" else "password authentication failed"
    assert expected in sentence
    assert not models.is_error and "@cf/facebook/bart-large-cnn" in text_of(models)
    assert not schema.is_error
    assert usage.is_error and f"on 127.0.0.1:{port}" in text_of(usage)
    everything = "\n".join([shown(refused), shown(models), shown(usage), caplog.text])
    everything += "\n".join(str(record.args) for record in caplog.records)
    leaked = {form for form in secret_forms(PASSWORD) | {url} if form in everything}
    assert leaked == set()


async def test_a_call_answered_while_the_database_is_down_is_recorded_once_it_answers_again(
    tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState, quick_pool: None
) -> None:
    with state_home("postgresql", tmp_path) as home, outage_proxy(home.url or "") as proxy:
        settings = home.settings(state_url=with_netloc(home.url or "", port=proxy.port))
        async with open_session(settings, upstream=emulator_app) as client:
            with anyio.fail_after(90):
                before = data_of(await client.call_tool("summarize", TEXT))  # no budget: nothing to check first
                await wait_for(lambda: home.query("SELECT COUNT(*) FROM calls") == [(1,)])
                proxy.down()
                during = data_of(await client.call_tool("summarize", TEXT))  # answered; its record waits
                refused = await client.call_tool("usage", {})
                assert home.query("SELECT COUNT(*) FROM calls") == [(1,)]
                proxy.up()
                await wait_for(lambda: home.query("SELECT COUNT(*) FROM calls") == [(2,)])
                report = data_of(await client.call_tool("usage", {}))
        rows = home.query("SELECT model, counted_usd FROM calls ORDER BY id")
    assert "in memory" not in (during["call"].get("spending_note") or "")  # the database stays the store
    assert len(model_calls(emulator_state)) == 2
    assert refused.is_error and f"on 127.0.0.1:{proxy.port}" in text_of(refused)
    assert report["today"]["total"]["calls"] == 2
    assert [model for model, _ in rows] == ["@cf/facebook/bart-large-cnn"] * 2  # written once, not twice
    assert [counted for _, counted in rows] == pytest.approx(
        [before["call"]["counted_usd"], during["call"]["counted_usd"]]
    )


async def wait_for(condition: Callable[[], bool], *, step: float = 0.2) -> None:
    """Poll `condition` until it holds; the caller's `fail_after` bounds the wait."""
    while not condition():
        await anyio.sleep(step)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("ALTER TABLE calls DROP COLUMN cached", "its table calls lacks the column(s) cached"),
        ("UPDATE store_version SET version = version + 1", "was written by a newer release"),
    ],
)
async def test_a_damaged_or_newer_schema_is_refused_in_one_sentence_nothing_is_sent_and_it_is_left_untouched(
    tmp_path: Path, emulator_app: Starlette, damage: str, problem: str
) -> None:
    with state_home("postgresql", tmp_path) as home:
        store = home.store()
        await Ledger(store, Budgets()).record("@cf/x/y", None, 0.01)
        await store.aclose()
        home.execute(damage)
        before = home.query("SELECT (SELECT COUNT(*) FROM calls), (SELECT version FROM store_version)")
        upstream = Forbidden(emulator_app)
        settings = home.settings(max_cost_usd=1.0, unpriced_call_usd=0.01)
        async with open_session(settings, upstream=upstream.transport()) as client:
            refused = await client.call_tool("summarize", TEXT)
            models = await client.call_tool("list_models", {"search": "bart"})
        after = home.query("SELECT (SELECT COUNT(*) FROM calls), (SELECT version FROM store_version)")
    assert refused.is_error and problem in text_of(refused) and "was not sent" in text_of(refused)
    assert f"its schema {home.schema}" in text_of(refused)
    assert upstream.sent == [] and not models.is_error
    assert after == before
