"""Function calling in a conversation: the caller's tools in each model's own form, and its calls read back.

Callers give JSON Schema functions in OpenAI's form (`{"type": "function", "function": {name,
description, parameters}}`) or flat (`{name, description, parameters}`). Models on `/ai/v1` take
OpenAI's form and `tool_choice`; models on `/ai/run` take the flat form of Cloudflare's traditional
function calling (cloudflare-docs workers-ai/features/function-calling/traditional; the `tools` items of
llama-3.3's input schema, whose parameters need a `description` each) and no `tool_choice`. Tool
results and assistant turns with `tool_calls` travel in OpenAI's form to both, as Cloudflare's own
client sends them (tests/recorded/tools/round_trip_messages.json). Native answers carry calls as
`{name, arguments: {...}}`; they come back in OpenAI's form so that they can be sent back as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from ..client.errors import InvalidRequestError
from ..jsonvalues import as_dict, dicts

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CHOICES = ("auto", "none", "required")


class NoFunctionCalling(InvalidRequestError):
    """The model takes no tools; the tool adds a model that does."""


@dataclass(frozen=True)
class Function:
    name: str
    description: str
    parameters: dict[str, Any]


def functions(tools: Sequence[dict[str, Any]]) -> list[Function]:
    """The caller's tools, read from either form; a malformed one is refused with a sentence."""
    found: list[Function] = []
    for index, tool in enumerate(tools):
        spec = as_dict(tool.get("function")) if tool.get("type") == "function" or "function" in tool else tool
        name, parameters = spec.get("name"), spec.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidRequestError(
                f"tools[{index}] needs a name of 1-64 letters, digits, '_', '.' or '-' "
                '(give {"name", "description", "parameters"} or OpenAI\'s {"type": "function", "function": {...}}).'
            )
        parameters = as_dict(cast(object, parameters)) if isinstance(parameters, dict) else None
        if parameters is None or parameters.get("type", "object") != "object":
            raise InvalidRequestError(f"tools[{index}] ({name}): parameters must be a JSON Schema of type object.")
        description = spec.get("description", "")
        found.append(Function(name, description if isinstance(description, str) else "", parameters))
    if len({f.name for f in found}) != len(found):
        raise InvalidRequestError("Two tools have the same name; give each tool its own name.")
    return found


def tool_fields(
    model: str, route: str, choice_taken: bool, tools: Sequence[Function], tool_choice: str | None
) -> dict[str, Any]:
    """`tools` (and `tool_choice`) in the form of a model on `route` ("v1" or "run")."""
    names = {f.name for f in tools}
    if tool_choice is not None and tool_choice not in CHOICES and tool_choice not in names:
        raise InvalidRequestError(
            f"tool_choice must be auto, none, required or one of the tools' names, not {tool_choice}."
        )
    if route == "v1":
        fields: dict[str, Any] = {"tools": [_openai(f) for f in tools]}
    else:
        fields = {"tools": [_native(f) for f in tools]}
    if tool_choice is None or tool_choice == "auto" and not choice_taken:
        return fields
    if not choice_taken:
        raise InvalidRequestError(f"{model} takes no tool_choice (it decides itself); leave tool_choice out.")
    if tool_choice in CHOICES:
        return fields | {"tool_choice": tool_choice}
    return fields | {"tool_choice": {"type": "function", "function": {"name": tool_choice}}}


def _openai(function: Function) -> dict[str, Any]:
    spec = {"name": function.name, "description": function.description, "parameters": function.parameters}
    return {"type": "function", "function": spec}


def _native(function: Function) -> dict[str, Any]:
    """The flat form; each parameter gets the `description` the native schema requires (empty if none)."""
    parameters = dict(function.parameters)
    parameters.setdefault("type", "object")
    props = {name: {"description": "", **as_dict(prop)} for name, prop in as_dict(parameters.get("properties")).items()}
    parameters["properties"] = props
    return {"name": function.name, "description": function.description, "parameters": parameters}


def openai_calls(calls: Sequence[Any]) -> list[dict[str, Any]]:
    """Tool calls in OpenAI's form (`id`, `type`, `function.name`, `function.arguments` as JSON text);
    native `{name, arguments}` calls get the id `call_<n>` (native answers carry none)."""
    found: list[dict[str, Any]] = []
    for index, call in enumerate(dicts(list(calls))):
        if "function" in call or "name" not in call:
            found.append(call)
            continue
        arguments = call.get("arguments", {})
        text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        found.append({"id": f"call_{index}", "type": "function", "function": {"name": call["name"], "arguments": text}})
    return found


__all__ = ["CHOICES", "Function", "NoFunctionCalling", "functions", "openai_calls", "tool_fields"]
