"""Support for the secret-hygiene tests: distinctive secrets, every form they could leak in, a collector
of everything that leaves the server, an upstream that echoes the request back, and a tool driver."""

from __future__ import annotations

import base64
import json
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from mcp import Client
from mcp.types import CallToolResult, ResourceLink, TextContent, Tool
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from workers_ai_mcp.selftest.samples import sample_arguments

# '+' and '/' make the URL-encoded forms differ from the raw ones.
API_TOKEN = "cfut_SECRETzq9X7+Lw2mN8pQ4rS6tV1/xY3zA5bC7dE9fG"
GATEWAY_TOKEN = "cfgw_SECRETgw4Kp+Q7rT2vX9yZ1/aB3cD5eF7gH9jK2mN"
INBOUND_TOKEN = "mcpin_SECRETin8Hq+R2sU5wX7zA/1bC3dE5fG7hJ9kL4p"
SECRETS = {"API token": API_TOKEN, "gateway token": GATEWAY_TOKEN, "inbound token": INBOUND_TOKEN}
FRAGMENT = 16  # any 16 characters of a secret count as a leak (a truncated echo is still a leak)


def url_safe(encoded: str) -> str:
    return encoded.replace("+", "-").replace("/", "_")


def leak_forms(secret: str) -> dict[str, str]:
    """Every shape a secret could leave in: raw, header value, URL/form-encoded, base64, fragments."""
    encoded = base64.b64encode(secret.encode()).decode()
    forms = {
        "raw": secret,
        "Authorization header value": f"Bearer {secret}",
        "URL-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret),
        "base64": encoded.rstrip("="),
        "URL-safe base64": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }
    for shift in range(3):  # the token inside longer encoded text: the middle is the same at any offset
        shifted = base64.b64encode(b"\0" * shift + secret.encode()).decode()[4:-4]
        forms |= {f"base64 at offset {shift}": shifted, f"URL-safe base64 at offset {shift}": url_safe(shifted)}
    forms |= {f"characters {i}-{i + FRAGMENT}": secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}
    return forms


def as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, BaseException):
        return "".join(traceback.format_exception(value))
    return json.dumps(value, default=repr)


class Outbound:
    """Everything that left the server in one test, by where it was seen, plus the test's log records."""

    def __init__(self, caplog: pytest.LogCaptureFixture | None = None) -> None:
        self.items: list[tuple[str, str]] = []
        self._caplog = caplog

    def add(self, where: str, value: object) -> None:
        self.items.append((where, as_text(value)))

    async def on_message(self, message: object) -> None:
        self.add("notification or transport message", repr(message))

    async def on_log(self, params: object) -> None:
        self.add("log notification", params)

    def leaks(self) -> list[str]:
        found: list[str] = []
        for where, text in self.items:
            for name, secret in SECRETS.items():
                shapes = [shape for shape, form in leak_forms(secret).items() if form in text]
                if shapes:
                    found.append(f"{where}: the {name} ({', '.join(shapes[:3])})")
        return found

    def assert_no_leaks(self, minimum_items: int = 1) -> None:
        assert len(self.items) >= minimum_items, "nothing was captured: the test would prove nothing"
        if self._caplog is not None:
            records = self._caplog.records
            assert records, "no log records were captured: the log check would prove nothing"
            self.add("logs as formatted", self._caplog.text)
            for record in records:
                self.add(f"log record of {record.name}", record.getMessage())
        leaks = self.leaks()
        assert not leaks, "secrets left the process:\n" + "\n".join(leaks)


class EchoingUpstream:
    """Wraps the emulator: while `echo` is set, each Workers AI request gets a 400 whose
    `errors[0].message` repeats the request's credentials, as an upstream error text might.
    `offset` puts the echoed token that many characters into the message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.echo = False
        self.offset = 0
        self.echoed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.echo or scope["type"] != "http" or not ("/ai/" in scope["path"] or "/workers-ai/" in scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        authorization = headers.get("authorization", "")
        gateway = headers.get("cf-aig-authorization", "")
        if self.offset:
            message = "x" * self.offset + authorization.removeprefix("Bearer ")
        else:
            message = (
                f"Invalid input; request had Authorization: {authorization}, cf-aig-authorization: {gateway}, "
                f"token {authorization.removeprefix('Bearer ')} ({quote(authorization, safe='')})"
            )
        body = json.dumps({"success": False, "errors": [{"code": 5006, "message": message}], "result": None})
        self.echoed += 1
        await send({"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})


def call_order(tools: list[Tool]) -> list[Tool]:
    """Tools that follow up on another's answer (get_batch after submit_batch) go last."""
    return sorted(tools, key=lambda tool: tool.name.startswith("get_batch"))


async def call_quietly(
    client: Client, out: Outbound, name: str, arguments: dict[str, Any], *, label: str = ""
) -> CallToolResult | None:
    """Call a tool, capturing its result, its progress and any exception text under `label`."""
    label = label or name

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        out.add(f"{label} progress", [progress, total, message])

    try:
        result = await client.call_tool(name, arguments, progress_callback=on_progress)
    except Exception as exc:
        out.add(f"{label} exception", exc)
        return None
    out.add(f"{label} result", result)
    return result


async def drive_every_tool(client: Client, out: Outbound, workdir: Path, *, must_succeed: bool = True) -> list[str]:
    """Call every listed tool with minimal valid arguments; read every resource a result links to.

    Returns the names called. With `must_succeed`, a tool that cannot be called at all fails
    the test, naming what is needed (the tool's `SAMPLES` entry in its module).
    """
    tools = (await client.list_tools()).tools
    out.add("tools/list", [tool.model_dump(mode="json") for tool in tools])
    earlier: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for tool in call_order(tools):
        arguments = sample_arguments(tool.name, tool.input_schema, workdir, earlier)
        result = await call_quietly(client, out, tool.name, arguments)
        if result is None or result.is_error:
            text = " ".join(block.text for block in result.content if isinstance(block, TextContent)) if result else ""
            failures.append(f"{tool.name}({json.dumps(arguments)}): {text or 'raised'}")
            continue
        if result.structured_content:
            earlier[tool.name] = result.structured_content
        for block in result.content:
            if isinstance(block, ResourceLink):
                out.add(f"{tool.name} linked resource", await client.read_resource(block.uri))
    if must_succeed:
        assert not failures, (
            "these tools fail with their minimal sample arguments "
            "(fix the SAMPLES entry beside each in its tool module):\n" + "\n".join(failures)
        )
    return [tool.name for tool in tools]
