"""Helpers every route shares: the emulator state, per-request ids, the JSON body."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import cast

import anyio
from starlette.requests import Request

from .envelope import CloudflareError, JsonObj, as_obj, bad_input
from .generate_text import conversation
from .results import Ids
from .state import EmulatorState
from .tool_use import affinity_key, cached_tokens
from .validation import json_type_name

PREFIXES = 256  # sessions whose last prompt is kept for prefix caching


def emulator_state(request: Request) -> EmulatorState:
    return cast(EmulatorState, request.app.state.emulator)


def new_ids(
    state: EmulatorState, request: Request | None = None, model: str = "", payload: JsonObj | None = None
) -> Ids:
    """Ids for one answer; with the request, its prompt tokens cached under its `x-session-affinity`."""
    ids = Ids(state.new_id().replace("-", ""), int(time.time()))
    affinity = request.headers.get("x-session-affinity") if request is not None else None
    if not affinity or payload is None:
        return ids
    whole, _ = conversation(payload)
    key = affinity_key(affinity, model)
    cached = cached_tokens(state.prefixes.get(key), whole)
    state.prefixes[key] = whole
    while len(state.prefixes) > PREFIXES:
        state.prefixes.pop(next(iter(state.prefixes)))
    return replace(ids, cached_tokens=cached)


def parse_json_object(body: bytes) -> JsonObj:
    """The body as a JSON object (empty body: `{}`), or 400/5006."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_input("the request body is not valid JSON at '/'") from None
    obj = as_obj(value)
    if obj is None:
        raise bad_input(f"Type mismatch of '/', '{json_type_name(value)}' not in 'object'")
    return obj


async def busy(request: Request, model: str, payload: JsonObj) -> None:
    """A model at capacity: 429/3040 at once for `options.rejectIfBusy`, else the wait in its queue."""
    state = emulator_state(request)
    if model not in state.busy:
        return
    if (as_obj(payload.get("options")) or {}).get("rejectIfBusy") is True:
        raise CloudflareError(429, 3040, "Capacity temporarily exceeded, please try again.")
    await anyio.sleep(state.busy_wait)
