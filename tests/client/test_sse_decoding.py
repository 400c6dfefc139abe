"""Event streams in both chunk formats; a stream without [DONE] is an error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workers_ai_mcp.client.errors import ResponseDecodeError
from workers_ai_mcp.client.streaming import StreamEvent, decode_events


async def lines(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


async def collect(text: str) -> list[StreamEvent]:
    return [event async for event in decode_events(lines(text))]


async def test_native_chunks_give_text_ignore_padding_and_carry_late_usage() -> None:
    stream = (
        'data: {"response":"New","p":"abdfe"}\n\n'
        ": a comment line\n"
        'data: {"response":" York","p":"x"}\n\n'
        'data: {"response":"","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n'
        "data: [DONE]\n\n"
    )
    events = await collect(stream)
    assert "".join(e.text for e in events) == "New York"
    assert events[-1].usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


async def test_openai_chunks_give_text_reasoning_and_finish_reason() -> None:
    stream = (
        'data: {"id":"c","object":"chat.completion.chunk",'
        '"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
        'data: {"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}\n\n'
        'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
        'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n'
        "data: [DONE]\n\n"
    )
    events = await collect(stream)
    assert "".join(e.text for e in events) == "Hi"
    assert "".join(e.reasoning for e in events) == "hmm"
    assert [e.finish_reason for e in events if e.finish_reason] == ["stop"]
    assert events[-1].usage == {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}


async def test_native_tool_call_chunks_are_kept() -> None:
    stream = (
        'data: {"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}],"p":"ab"}\n\n'
        'data: {"finish_reason":"tool_calls"}\n\n'
        "data: [DONE]\n\n"
    )
    events = await collect(stream)
    assert events[0].tool_calls[0]["function"]["name"] == "f"
    assert events[1].finish_reason == "tool_calls"


async def test_carriage_returns_and_multi_line_data_are_handled() -> None:
    stream = 'data: {"response":\r\ndata: "a"}\r\n\r\ndata: [DONE]\r\n\r\n'
    events = await collect(stream)
    assert [e.text for e in events] == ["a"]


async def test_a_stream_cut_before_done_is_an_error_not_a_short_answer() -> None:
    with pytest.raises(ResponseDecodeError, match="ended before"):
        await collect('data: {"response":"Hel"}\n\n')


async def test_a_chunk_that_is_not_json_is_an_error() -> None:
    with pytest.raises(ResponseDecodeError, match="not JSON"):
        await collect('data: {"response": "He\n\n')
