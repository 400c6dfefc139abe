"""Helpers every route shares: the emulator state, per-request ids, the JSON body."""

from __future__ import annotations

import json
import time
from typing import cast

from starlette.requests import Request

from .envelope import JsonObj, as_obj, bad_input
from .results import Ids
from .state import EmulatorState
from .validation import json_type_name


def emulator_state(request: Request) -> EmulatorState:
    return cast(EmulatorState, request.app.state.emulator)


def new_ids(state: EmulatorState) -> Ids:
    return Ids(state.new_id().replace("-", ""), int(time.time()))


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
