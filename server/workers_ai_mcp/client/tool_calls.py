"""Streamed tool calls, put back together.

OpenAI-format streams send a tool call in fragments: the first names it (`id`, `function.name`) and
later ones with the same `index` carry more of `function.arguments`, a string to be joined. Some models
follow each call with a finalisation fragment whose fields are all null or empty (Cloudflare's
workers-ai-provider CHANGELOG 3.0.5, 3.1.11; tests/recorded/streams/tool_calls_*). Native calls
(`{"name", "arguments": {...}}`) come whole and are kept as they are.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from ..jsonvalues import as_dict


def merge_tool_calls(calls: list[Any], fragments: list[Any]) -> None:
    """Add a chunk's tool-call fragments to `calls`: joined by `index`, null finalisations dropped."""
    for fragment in fragments:
        if not isinstance(fragment, dict):
            continue
        piece = cast(dict[str, Any], fragment)
        index = piece.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            same = next((call for call in calls if as_dict(call).get("index") == index), None)
            if same is not None:
                _extend(cast(dict[str, Any], same), piece)
                continue
        elif _empty(piece):
            continue  # a finalisation fragment: nothing to add
        calls.append(copy.deepcopy(piece))


def _extend(call: dict[str, Any], piece: dict[str, Any]) -> None:
    for key in ("id", "type"):
        if call.get(key) is None and piece.get(key) is not None:
            call[key] = piece[key]
    more = as_dict(piece.get("function"))
    if not more:
        return
    function = call.setdefault("function", {})
    if not isinstance(function, dict):
        return
    known = cast(dict[str, Any], function)
    if known.get("name") is None and more.get("name") is not None:
        known["name"] = more["name"]
    extra = more.get("arguments")
    if isinstance(extra, str):
        before = known.get("arguments")
        known["arguments"] = (before if isinstance(before, str) else "") + extra


def _empty(piece: dict[str, Any]) -> bool:
    """Every field null or empty (a function's too)."""
    for key, value in piece.items():
        if key == "function":
            if any(v not in (None, "") for v in as_dict(value).values()):
                return False
        elif value not in (None, ""):
            return False
    return True
