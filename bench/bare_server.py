"""The baselines: a bare `MCPServer` with one tool, served over stdio by the SDK.

- `python bench/bare_server.py`: `echo(text)`, the cold-start, memory and per-call baseline;
- `--sleep`: `sleep(seconds)` instead, the concurrency baseline (waits like a 200 ms model call);
- `--http BASE_URL`: `translate(text, target_lang)` instead, which posts the same request our
  `translate` sends to the emulator at BASE_URL through one pooled `httpx2.AsyncClient` with our
  client's pool limits, and returns the JSON. Not a budget baseline: it separates what the HTTP
  stack costs from what our own code costs.
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
from mcp.server import MCPServer

server = MCPServer("bare")
args = sys.argv[1:]

if "--sleep" in args:

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Wait `seconds`, then answer."""
        await anyio.sleep(seconds)
        return "slept"

elif "--http" in args:
    import httpx2

    base_url = args[args.index("--http") + 1]
    clients: list[httpx2.AsyncClient] = []

    @server.tool()
    async def translate(text: str, target_lang: str) -> dict[str, Any]:
        """Translate through the emulator with one plain httpx2 request."""
        if not clients:
            limits = httpx2.Limits(max_connections=100, max_keepalive_connections=32, keepalive_expiry=30)
            clients.append(
                httpx2.AsyncClient(
                    base_url=base_url, headers={"authorization": "Bearer emulator-token"}, limits=limits, timeout=50
                )
            )
        body = {"text": text, "source_lang": "en", "target_lang": target_lang}
        answer = await clients[0].post("/client/v4/accounts/bench/ai/run/@cf/meta/m2m100-1.2b", json=body)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()["result"]
        return result

else:

    @server.tool()
    async def echo(text: str) -> str:
        """Answer with `text`."""
        return text


if __name__ == "__main__":
    server.run()
