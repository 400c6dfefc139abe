"""An MCP session on the server whose only upstream is the published catalog (`published.Upstream`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.types import CallToolResult

from conformance.published import NO_SCHEMA_ANSWER, Answer, Upstream, answers_for, schema_of
from support.results import text_of as text_of
from support.session import open_session
from support.settings import make_settings


@asynccontextmanager
async def session(tmp_path: Path, upstream: Upstream) -> AsyncIterator[Client]:
    async with open_session(make_settings(tmp_path), upstream=upstream.transport()) as client:
        yield client


async def call_with_every_answer(
    client: Client,
    upstream: Upstream,
    model: str,
    tool: str,
    arguments: dict[str, Any],
    request_fields: set[str],
    check: Callable[[CallToolResult, Answer], None],
) -> int:
    """Call `tool` once per answer the model's output schema allows; each request must fit its input
    schema and each answer must give a correct result (`check`). Returns how many answers were tried."""
    schema = schema_of(model)
    # No published schema: a JSON answer must still come back.
    choices = answers_for(schema["output"], request_fields) if schema else [NO_SCHEMA_ANSWER]
    assert choices, f"{model}: the published output schema allows no answer to this request"
    for answer in choices:
        upstream.answer = answer
        before = len(upstream.runs)
        result = await client.call_tool(tool, arguments)
        assert upstream.problems == [], upstream.problems
        assert len(upstream.runs) > before, f"{tool} sent nothing to {model}: {text_of(result)}"
        assert not result.is_error, (
            f"{tool} on {model} answered {answer.content_type} {answer.title!r}: {text_of(result)}"
        )
        check(result, answer)
    return len(choices)
