"""MCP over stdin and stdout: lines read one bounded line at a time and parsed once, an answer for every
line that is not a message, and answers written without a worker thread.

The SDK's stdio transport drops a line it cannot read as a JSON-RPC message without a word, so a
client that sent it waits forever. `CheckedMessages` answers such a line itself, as the HTTP transport
does: -32700 for a line that is not JSON (bad UTF-8, a lone surrogate, nesting deeper than the parser
allows), -32600 for JSON that is not one JSON-RPC message (a batch array, a missing `method`) or a
line over the size limit, or a request whose id is not a string or an integer (`message_ids`).
Blank lines are skipped. The SDK's transport would also parse each line a second time and hand every
write and flush of stdout to a worker thread (two thread hops per answer); here the event loop polls
both pipes, and fd 1 points at stderr while serving (`claimed_stdout`), as the SDK does, so stray output
never reaches the protocol stream.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import sys
from collections.abc import Generator
from typing import Any, cast

import anyio
import mcp.types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from .message_ids import invalid_id_error, invalid_id_in

_CHUNK = 65536
# The limit when none is given: 25 MiB of media as base64, plus room for the rest of the message.
DEFAULT_MAX_LINE = 36 * 1024 * 1024


class StdinLines(anyio.AsyncFile[str]):
    """Lines of a file descriptor, read so that cancellation interrupts a wait for input.

    The SDK reads stdin in a worker thread that cannot be cancelled, so a signal could not end
    the server while the client keeps stdin open; pipes and terminals are polled instead.
    A line longer than `max_line` bytes is skipped as it arrives (never held whole).
    """

    def __init__(self, fd: int, *, max_line: int = DEFAULT_MAX_LINE) -> None:
        super().__init__(io.StringIO())
        self._fd = fd
        self._max_line = max_line
        self._buffer = bytearray()
        self._eof = False
        self._poll = not _is_regular_file(fd)

    @property
    def max_line(self) -> int:
        return self._max_line

    async def readline(self) -> str:
        while (line := await self.read_line()) is None:
            pass
        return line.decode("utf-8", "replace")

    async def read_line(self) -> bytes | None:
        """The next line with its newline, b"" at the end of input, or None for a line over the limit."""
        searched = 0  # a long line (a base64 image) arrives in many chunks; scan each byte once
        oversized = False
        while (newline := self._buffer.find(b"\n", searched)) < 0 and not self._eof:
            if len(self._buffer) > self._max_line:
                oversized = True
                self._buffer.clear()
            searched = len(self._buffer)
            chunk = await self._read_chunk()
            self._buffer += chunk
            self._eof = not chunk
        end = newline + 1 if newline >= 0 else len(self._buffer)
        if end > self._max_line + 1:
            oversized = True
        line = bytes(self._buffer[:end])
        del self._buffer[:end]
        return None if oversized else line

    async def _read_chunk(self) -> bytes:
        while True:
            if self._poll:
                try:
                    await anyio.wait_readable(self._fd)
                except OSError:  # e.g. /dev/null, which cannot be polled but never blocks
                    self._poll = False
                    continue
            try:
                if self._poll:
                    return os.read(self._fd, _CHUNK)
                return await anyio.to_thread.run_sync(os.read, self._fd, _CHUNK)
            except BlockingIOError:
                continue
            except OSError:
                return b""


class CheckedMessages:
    """The JSON-RPC messages of `source`, each line parsed once; every other line is answered with an error.

    The SDK's stdio transport would parse each line again: `pump` hands the server the parsed
    message itself, on the stream the server reads, and answers a bad line on the one it writes.
    """

    def __init__(self, source: StdinLines) -> None:
        self._source = source

    async def pump(self, messages: MemoryObjectSendStream[SessionMessage | Exception], answers: Any) -> None:
        """Send every message of the input to `messages` until the input ends, then close it."""
        async with messages:
            while (raw := await self._source.read_line()) != b"":
                if raw is None:
                    refusal = _error(
                        None,
                        types.INVALID_REQUEST,
                        f"Invalid Request: the message is over {self._source.max_line} bytes "
                        "(WORKERS_AI_MCP_HTTP_MAX_BODY_BYTES); pass large media as a file path or URL instead.",
                    )
                elif not raw.strip():
                    continue
                else:
                    parsed = parse_line(raw)
                    if parsed[1] is None:
                        await messages.send(SessionMessage(parsed[0]))
                        continue
                    refusal = parsed[1]
                with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                    await answers.send(SessionMessage(refusal))


@contextlib.contextmanager
def claimed_stdout() -> Generator[int]:
    """The protocol's own descriptor for stdout; meanwhile fd 1 points at stderr, so a stray `print`
    (ours, a library's, a child's) cannot break the stream. fd 1 is restored on exit."""
    sys.stdout.flush()
    wire = os.dup(1)
    os.dup2(2, 1)
    try:
        yield wire
    finally:
        os.dup2(wire, 1)
        os.close(wire)


async def write_messages(messages: MemoryObjectReceiveStream[SessionMessage], fd: int) -> None:
    """Write each message as one line to `fd`, waiting for the pipe to drain, never blocking the loop
    (the SDK's writer hands every write and flush to a worker thread)."""
    poll = not _is_regular_file(fd)
    if poll:
        os.set_blocking(fd, False)
    async with messages:
        async for message in messages:
            data = memoryview((message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n").encode())
            while data:
                try:
                    data = data[os.write(fd, data) :]
                except BlockingIOError:
                    await anyio.wait_writable(fd)
                except OSError:  # the client is gone: nothing more can be written
                    return


def parse_line(raw: bytes) -> tuple[types.JSONRPCMessage, None] | tuple[None, types.JSONRPCError]:
    """The line's JSON-RPC message, or the error to answer when it is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, _error(None, types.PARSE_ERROR, f"Parse error: the line is not UTF-8 (byte {exc.start}).")
    try:
        # Strict: an id of `true` or `1.0` is not taken for 1 (it then reads as a notification, checked next).
        message = types.jsonrpc_message_adapter.validate_json(text, by_name=False, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        invalid_json = next((error for error in errors if error["type"] == "json_invalid"), None)
        if invalid_json is not None:
            return None, _error(None, types.PARSE_ERROR, f"Parse error: {invalid_json['msg']}.")
        return None, _invalid_request(text)
    if isinstance(message, types.JSONRPCNotification) and invalid_id_in(text):
        return None, invalid_id_error()
    return message, None


def _invalid_request(text: str) -> types.JSONRPCError:
    value: object = json.loads(text)  # the SDK's parser read it, so it is JSON of bounded depth
    if isinstance(value, list):
        return _error(
            None,
            types.INVALID_REQUEST,
            "Invalid Request: JSON-RPC batches (arrays) are not supported; send one message per line.",
        )
    request_id: object = cast(dict[str, object], value).get("id") if isinstance(value, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        request_id = None
    return _error(
        request_id,
        types.INVALID_REQUEST,
        "Invalid Request: not a JSON-RPC 2.0 request, notification or response "
        '(one object with "jsonrpc": "2.0" and a "method", "result" or "error").',
    )


def _error(request_id: int | str | None, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


def _is_regular_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False
