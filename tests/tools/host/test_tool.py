"""Argument errors, error lengths and the SDK seam `HostTool` relies on, through real MCP sessions."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from support.session import open_session
from support.settings import make_settings
from workers_ai_mcp.app import tool_modules
from workers_ai_mcp.client import InvalidRequestError
from workers_ai_mcp.settings import Settings
from workers_ai_mcp.tools.host.arguments import MAX_ERROR_CHARS, bounded
from workers_ai_mcp.tools.host.registry import Registry
from workers_ai_mcp.tools.host.tool import HostTool

PYDANTIC_WORDING = ("validation error for", "errors.pydantic.dev", "input_value=", "[type=", "pydantic")


async def error_of(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    (block,) = result.content
    assert isinstance(block, TextContent)
    assert len(block.text) < 1_000
    assert not any(word in block.text.lower() for word in PYDANTIC_WORDING), block.text
    return block.text


async def test_a_missing_argument_is_one_sentence_naming_it_and_what_it_expects(mcp_client: Client) -> None:
    text = await error_of(mcp_client, "translate", {"text": "hi"})
    assert text == (
        "translate: target_lang is required (a string, 2 to 40 characters, ISO 639-1 code, English name or the "
        "model's own code: 'hi', 'Hindi', 'hin_Deva')."
    )


async def test_a_wrongly_typed_argument_names_the_expected_type_without_echoing_the_value(
    mcp_client: Client,
) -> None:
    text = await error_of(mcp_client, "list_models", {"per_page": "many-many-secret-words"})
    assert text.startswith("list_models: per_page must be an integer")
    assert "secret" not in text and "got a string of 22 characters" in text


async def test_an_unknown_argument_is_refused_with_the_arguments_the_tool_takes(mcp_client: Client) -> None:
    text = await error_of(mcp_client, "translate", {"text": "hi", "target_lang": "fr", "tone": "formal"})
    assert text == "translate: 'tone' is not an argument of translate; it takes text, target_lang, source_lang, model."


async def test_a_hundred_over_long_texts_to_embed_give_a_short_error(mcp_client: Client) -> None:
    text = await error_of(mcp_client, "embed", {"texts": ["x" * 9_000] * 100})
    assert text.startswith("embed: texts[0] takes at most 8192 characters; got a string of 9,000 characters.")
    assert "(96 more problems like these.)" in text


async def test_chat_with_neither_prompt_nor_messages_says_neither_was_given(mcp_client: Client) -> None:
    text = await error_of(mcp_client, "chat", {})
    assert "neither was given" in text.lower() and "not both" not in text


async def test_a_voice_for_melotts_names_a_model_that_takes_a_voice(mcp_client: Client) -> None:
    text = await error_of(mcp_client, "text_to_speech", {"text": "hi", "voice": "luna"})
    assert "@cf/myshell-ai/melotts does not take `voice`" in text and "@cf/deepgram/aura-1" in text


def test_a_long_error_is_cut_under_a_thousand_characters_and_marked() -> None:
    cut = bounded("Error executing tool run_model: " + "the model said no. " * 200)
    assert len(cut) == MAX_ERROR_CHARS and cut.endswith(" [...]")
    assert bounded("short") == "short"


# The SDK seam: these fail loudly when an SDK release changes what HostTool relies on.


def test_every_registered_tool_is_a_host_tool(settings: Settings) -> None:
    registry = Registry()
    for module in tool_modules():
        module.register(registry)
    assert registry.tools and all(isinstance(tool, HostTool) for tool in registry.tools)
    assert len(registry.tools) == len(registry.names)


def test_the_sdk_tool_run_takes_arguments_context_and_convert_result() -> None:
    assert list(inspect.signature(Tool.run).parameters) == ["self", "arguments", "context", "convert_result"]


async def test_the_sdk_reports_bad_arguments_as_a_tool_error_caused_by_the_validation_error() -> None:
    def echo(word: str) -> str:
        return word

    with pytest.raises(ToolError) as caught:
        await Tool.from_function(echo).run({}, Context())
    assert isinstance(caught.value.__cause__, ValidationError)


async def test_a_server_given_host_tools_answers_bad_arguments_in_a_sentence() -> None:
    def echo(word: str) -> str:
        """Say it back."""
        return word

    server = MCPServer[Any]("seam", tools=[HostTool.from_function(echo)])
    async with open_session(server, raise_exceptions=False) as client:
        result = await client.call_tool("echo", {})
    assert result.is_error
    assert result.content == [TextContent(type="text", text="echo: word is required (a string).")]


async def test_a_tool_raising_a_workers_ai_error_answers_its_sentence_without_any_decorator() -> None:
    async def refuse(word: str) -> str:
        """Always refuses."""
        raise InvalidRequestError(f"{word} is not a model this account can run; list_models shows those it can.")

    server = MCPServer[Any]("seam", tools=[HostTool.from_function(refuse)])
    async with Client(server) as client:
        result = await client.call_tool("refuse", {"word": "@cf/none"})
    assert result.is_error
    assert result.content == [
        TextContent(
            type="text",
            text="Error executing tool refuse: @cf/none is not a model this account can run; "
            "list_models shows those it can.",
        )
    ]


async def test_a_crash_that_is_not_anticipated_keeps_its_text_on_the_server() -> None:
    async def crash() -> str:
        """Always crashes."""
        raise RuntimeError("internal detail")

    server = MCPServer[Any]("seam", tools=[HostTool.from_function(crash)])
    async with Client(server) as client:
        result = await client.call_tool("crash", {})
    assert result.is_error
    assert result.content == [TextContent(type="text", text="Error executing tool crash")]


async def test_the_sdk_reports_a_tool_failure_as_an_unexpected_tool_error_caused_by_it() -> None:
    def fail() -> str:
        raise InvalidRequestError("no")

    with pytest.raises(UnexpectedToolError) as caught:
        await Tool.from_function(fail).run({}, Context())
    assert isinstance(caught.value.__cause__, InvalidRequestError)


async def test_every_result_is_capped_by_the_host_whatever_tool_made_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_result_bytes=64_000)

    async def sprawl() -> CallToolResult:
        """Answers far more than the cap, and caps nothing itself."""
        return CallToolResult(content=[TextContent(type="text", text="many words " * 20_000)])

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[Any]:
        yield SimpleNamespace(settings=settings)

    server = MCPServer[Any]("seam", tools=[HostTool.from_function(sprawl)], lifespan=lifespan)
    async with Client(server) as client:
        result = await client.call_tool("sprawl", {})
    assert not result.is_error
    assert len(result.model_dump_json(by_alias=True, exclude_none=True).encode()) <= 64_000
    text = " ".join(block.text for block in result.content if isinstance(block, TextContent))
    assert text.startswith("many words") and "cut to keep the result under the size cap" in text
