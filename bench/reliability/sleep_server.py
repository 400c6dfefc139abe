"""The baseline of the concurrency run: a bare `MCPServer` whose one tool sleeps like a 200 ms model call.

`python bench/reliability/sleep_server.py` serves it over stdio; `build()` gives it in process.
"""

from __future__ import annotations

import anyio
from mcp.server import MCPServer


def build() -> MCPServer:
    server = MCPServer("bare-sleep")

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Wait `seconds`, then answer."""
        await anyio.sleep(seconds)
        return "slept"

    return server


if __name__ == "__main__":
    build().run()
