"""Two replicas of the container recipe, started by scripts/check_container.sh against one PostgreSQL
store, share one budget and one usage history: a call on either counts for both, and once the budget
is spent each replica refuses, with nothing sent. Run with the container's Python (it has the SDK):

    python scripts/replicas_check.py TOKEN BUDGET_USD URL_1 URL_2

Each replica answers from its own emulator and keeps its state in the same schema; every unpriced
call counts as WORKERS_AI_MCP_UNPRICED_CALL_USD, so BUDGET_USD allows a known number of calls.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


TEXT = {"text": "Otters are playful animals that live in rivers and along coasts. " * 8}


async def call(url: str, token: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any], str]:
    """One call in a session of its own: (is_error, structured content, text)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(block, "text", "") for block in result.content)
    return bool(result.is_error), dict(result.structured_content or {}), text


async def main(token: str, budget: float, first: str, second: str) -> None:
    answered: list[str] = []
    for url in (first, second, first, second, first):
        failed, _, text = await call(url, token, "summarize", TEXT)
        if failed:
            assert "budget" in text and "nothing was sent" in text, text
            say(f"   {url}: refused ({text[:110]}...)")
            break
        answered.append(url)
        say(f"   {url}: summarize answered")
    else:
        raise SystemExit("the replicas spent past the budget they share")
    assert first in answered and second in answered, answered

    for url in (first, second):
        failed, usage, text = await call(url, token, "usage", {})
        assert not failed, text
        today = usage["today"]
        assert "postgresql" in usage["store"].lower(), usage["store"]  # not each replica's own SQLite file
        assert today["total"]["calls"] == len(answered), (url, today)
        assert today["budget_usd"] == budget and today["budget_left_usd"] < budget / len(answered), today
        say(
            f"   {url}: usage shows {today['total']['calls']} calls, ${today['budget_left_usd']} left of ${budget} "
            f"(store: {usage['store']})"
        )
    say(f"replicas: ok ({len(answered)} calls answered across both, then refused; one usage history)")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit("usage: replicas_check.py TOKEN BUDGET_USD URL_1 URL_2")
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]))
