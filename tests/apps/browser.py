"""A test host for the MCP Apps viewer: headless Chromium, ext-apps' AppBridge, and a real MCP session.

`open_host(client)` starts Debian's Chromium through Playwright and loads `host.html` (served from
memory, as is ext-apps' host bridge bundled by esbuild from `tests/apps/node_modules`). `ViewerHost.show`
puts the viewer page (read from the server) in the host's sandboxed frame under the CSP its
`_meta.ui.csp` declares, hands it a tool's input and result, and relays what the page asks
(`resources/read`, `resources/list`, `tools/call`) to the session. Any request the page makes outside
the bridge is recorded in `strays` and refused (`refusing_proxy`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.types import CallToolResult, TextResourceContents
from playwright.async_api import FrameLocator, Page, Route, async_playwright

from workers_ai_mcp.tools.host.apps import VIEWER_URI

HERE = Path(__file__).parent
HOST_URL = "http://host.test/"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# What Chromium asks of Google's services by itself (component updates, sign-in), whatever page is open.
BROWSER_OWN_HOSTS = ("update.googleapis.com", "accounts.google.com", "clients2.google.com", "googleapis.com")
# The flags this machine's closed network needs (no background connections), as root (no sandbox).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def bridge_bundle() -> str:
    """ext-apps' host bridge as one browser script (global `Bridge`), bundled from the installed package."""
    esbuild = HERE / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise RuntimeError("The browser test needs its npm packages: run `npm ci --prefix tests/apps` (.ci/run does).")
    built = subprocess.run(
        [str(esbuild), "bridge.js", "--bundle", "--format=iife", "--global-name=Bridge", "--log-level=warning"],
        cwd=HERE, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return built.stdout


def host_csp(ui: dict[str, Any]) -> str:
    """The policy a host puts on an app page from its `_meta.ui.csp`: nothing beyond the declared origins."""
    csp = ui.get("csp") or {}
    connect = " ".join(csp.get("connectDomains") or []) or "'none'"
    resources = " ".join(csp.get("resourceDomains") or [])
    return (
        f"default-src 'none'; script-src 'unsafe-inline' {resources}; style-src 'unsafe-inline' {resources}; "
        f"img-src data: blob: {resources}; media-src data: blob: {resources}; connect-src {connect}"
    )


def as_json(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclass
class ViewerHost:
    page: Page
    client: Client
    strays: list[str] = field(default_factory=list)

    @property
    def app(self) -> FrameLocator:
        return self.page.frame_locator("#app")

    async def show(self, tool_input: dict[str, Any], result: CallToolResult) -> FrameLocator:
        (viewer,) = (await self.client.read_resource(VIEWER_URI)).contents
        assert isinstance(viewer, TextResourceContents)
        ui = (viewer.meta or {}).get("ui", {})
        await self.page.evaluate(
            "([html, csp, input, result]) => window.startApp(html, csp, input, result)",
            [viewer.text, host_csp(ui), tool_input, as_json(result)],
        )
        return self.app

    async def relay(self, method: str, params_json: str) -> str:
        params = json.loads(params_json)
        if method == "resources/read":
            return json.dumps(as_json(await self.client.read_resource(params["uri"])))
        if method == "resources/list":
            return json.dumps(as_json(await self.client.list_resources()))
        if method == "tools/call":
            return json.dumps(as_json(await self.client.call_tool(params["name"], params.get("arguments") or {})))
        raise ValueError(f"the test host relays no {method}")


@asynccontextmanager
async def refusing_proxy(strays: list[str]) -> AsyncIterator[str]:
    """A loopback HTTP proxy that refuses every request and records where it was going.

    Playwright's routes do not see requests from a sandboxed `srcdoc` frame (the viewer's frame), so the
    browser is sent through this proxy: whatever any frame asks of the network arrives here.
    """

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode("latin-1").split()
        if len(line) >= 2 and not any(own in line[1] for own in BROWSER_OWN_HOSTS):
            strays.append(line[1].removesuffix(":443"))
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


@asynccontextmanager
async def open_host(client: Client) -> AsyncIterator[ViewerHost]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError("The browser test needs Chromium: `apt-get install chromium` (.ci/run does).")
    bundle = bridge_bundle()
    host_page = (HERE / "host.html").read_text()
    strays: list[str] = []
    async with async_playwright() as playwright, refusing_proxy(strays) as proxy:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            proxy={"server": proxy, "bypass": "<-loopback>"},
        )
        try:
            page = await browser.new_page(viewport={"width": 840, "height": 920})
            host = ViewerHost(page, client, strays)

            async def serve(route: Route) -> None:
                url = route.request.url
                if url == HOST_URL:
                    await route.fulfill(body=host_page, content_type="text/html")
                elif url == HOST_URL + "bridge.js":
                    await route.fulfill(body=bundle, content_type="text/javascript")
                else:
                    host.strays.append(url)
                    await route.abort()

            await page.route("**/*", serve)
            await page.expose_function("mcp", host.relay)
            await page.goto(HOST_URL)
            yield host
        finally:
            await browser.close()
