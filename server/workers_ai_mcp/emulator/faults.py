"""What each injected Fault does to the one request that consumes it.

Observable effects (see also the package docstring):
- status faults answer at once: 429 (3040, optionally `Retry-After: 1`; 4006 as the live API sends a spent
  daily allocation, 3036 as the docs list it), 500 JSON, 502 HTML,
  503 JSON (7009), 504 HTML.
- CONNECTION_RESET starts a 200 answer, then raises EmulatedConnectionReset. Over
  httpx2.ASGITransport the client call raises that exception (an httpx2.ReadError); under uvicorn
  the server logs it and closes the socket after the headers, so the client sees the connection
  drop mid-response (httpx2.RemoteProtocolError: incomplete body).
- HANG answers nothing until the client disconnects (or an hour passes). httpx2.ASGITransport does
  not enforce client timeouts, so in-process callers must bound the call (anyio.fail_after);
  under uvicorn the client's read timeout fires and the disconnect ends the hang.
- MALFORMED_JSON: 200, `application/json`, a body cut off mid-object.
- TRUNCATED_SSE: for `stream: true`, a 200 event stream that stops after two events without
  `data: [DONE]`; otherwise the same as MALFORMED_JSON.
"""

from __future__ import annotations

import anyio
import httpx2
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from .envelope import error_body
from .state import Fault
from .streaming import sse_response

HANG_SECONDS = 3600.0
_HTML = (
    "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1></center>"
    "<hr><center>cloudflare</center><!-- workers-ai-mcp emulator: injected fault --></body></html>"
)
_DAILY = (
    "You have used up your daily free allocation of 10,000 neurons. "
    "Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage."
)
# The live API's words for a spent allocation (tests/recorded/errors/4006_daily_free_allocation.json).
DAILY_4006 = (
    "you have used up your daily free allocation of 10,000 neurons, please upgrade to Cloudflare's "
    "Workers Paid plan if you would like to continue usage."
)
_TRUNCATED_JSON = b'{"result":{"response":"[emulator] this answer was cut off by an injected fau'


class EmulatedConnectionReset(httpx2.ReadError):
    """Raised inside the app to drop the connection mid-answer (what a real reset looks like to httpx2)."""


def _status_answer(fault: Fault) -> Response | None:
    match fault:
        case Fault.RATE_LIMIT_3040:
            return JSONResponse(error_body(3040, "Capacity temporarily exceeded, please try again."), 429)
        case Fault.RATE_LIMIT_3040_RETRY_AFTER:
            body = error_body(3040, "Capacity temporarily exceeded, please try again.")
            return JSONResponse(body, 429, {"retry-after": "1"})
        case Fault.DAILY_LIMIT_3036:
            return JSONResponse(error_body(3036, _DAILY), 429)
        case Fault.DAILY_LIMIT_4006:
            return daily_allocation_answer()
        case Fault.SERVER_ERROR_500:
            return JSONResponse(error_body(3043, "Internal server error"), 500)
        case Fault.BAD_GATEWAY_HTML_502:
            return HTMLResponse(_HTML.format(status=502, reason="Bad Gateway"), 502)
        case Fault.UNAVAILABLE_503:
            return JSONResponse(error_body(7009, "Upstream service unavailable"), 503)
        case Fault.GATEWAY_TIMEOUT_504:
            return HTMLResponse(_HTML.format(status=504, reason="Gateway Time-out"), 504)
        case _:
            return None


def daily_allocation_answer() -> Response:
    """429 / 4006: the free daily allocation is used up."""
    return JSONResponse(error_body(4006, DAILY_4006), 429)


def _truncated_stream(openai_style: bool) -> StreamingResponse:
    if openai_style:
        delta = '{"id":"chatcmpl-0","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"%s"}}]}'
        events = [delta % "[emulator]", delta % " cut"]
    else:
        events = ['{"response":"[emulator]","p":"ab"}', '{"response":" cut","p":"abc"}']
    return sse_response(events, 0.0, done=False)


async def _hang(receive: Receive) -> None:
    """Sleep until the client goes away (or HANG_SECONDS pass); cancelling the caller ends it too."""
    async with anyio.create_task_group() as group:

        async def watch_disconnect() -> None:
            message: Message = {"type": ""}
            while message["type"] != "http.disconnect":
                message = await receive()
            group.cancel_scope.cancel()

        group.start_soon(watch_disconnect)
        await anyio.sleep(HANG_SECONDS)
        group.cancel_scope.cancel()


async def play(fault: Fault, scope: Scope, receive: Receive, send: Send, *, stream: bool, openai_style: bool) -> None:
    response = _status_answer(fault)
    if response is None:
        match fault:
            case Fault.CONNECTION_RESET:
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                raise EmulatedConnectionReset("[emulator] injected fault: connection reset by peer")
            case Fault.HANG:
                await _hang(receive)
                return
            case Fault.TRUNCATED_SSE if stream:
                response = _truncated_stream(openai_style)
            case _:  # MALFORMED_JSON, and TRUNCATED_SSE on a request that did not ask to stream
                response = Response(_TRUNCATED_JSON, 200, media_type="application/json")
    await response(scope, receive, send)
