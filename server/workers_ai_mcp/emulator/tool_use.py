"""What a conversation asks of a thinking or tool-using model: whether it thinks, which tool it calls.

- Thinking: a model whose catalog entry says `reasoning` thinks unless the request turns it off
  (`chat_template_kwargs.enable_thinking: false` or `reasoning_effort: "none"`), and then gives the
  same reasoning text every time.
- Tool calls: with `tools` given and the last turn a user's, the model calls the tool `tool_choice`
  names (or the first, for `required`), else the first tool whose name the user's text mentions; its
  arguments are sampled from the tool's parameters. After a `tool` turn it answers in text.
- Prompt caching: prompt tokens shared with the previous request of the same `x-session-affinity`
  value (and model) count as cached, as `usage.prompt_tokens_details.cached_tokens`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .envelope import JsonObj, as_list, as_obj
from .generate_text import conversation, dumps_compact, sample_from_schema, stable_hash


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: JsonObj

    def openai(self, index: int, ident: str) -> JsonObj:
        function = {"name": self.name, "arguments": dumps_compact(self.arguments)}
        return {"id": f"call_{ident[:12]}_{index}", "type": "function", "function": function}

    def native(self) -> JsonObj:
        return {"name": self.name, "arguments": self.arguments}


def thinks(reasoning: bool, payload: JsonObj) -> bool:
    """Whether a model that can reason does so for this request."""
    kwargs = as_obj(payload.get("chat_template_kwargs")) or {}
    return reasoning and kwargs.get("enable_thinking") is not False and payload.get("reasoning_effort") != "none"


def _functions(payload: JsonObj) -> list[JsonObj]:
    found: list[JsonObj] = []
    for tool in as_list(payload.get("tools")) or []:
        item = as_obj(tool) or {}
        spec = as_obj(item.get("function")) if "function" in item else item
        if spec is not None and isinstance(spec.get("name"), str):
            found.append(spec)
    return found


def _chosen(payload: JsonObj, functions: list[JsonObj], asked: str) -> JsonObj | None:
    choice: Any = payload.get("tool_choice", "auto")
    if choice == "none":
        return None
    named = (as_obj((as_obj(choice) or {}).get("function")) or {}).get("name")
    if isinstance(named, str):
        return next((f for f in functions if f["name"] == named), None)
    if choice == "required":
        return functions[0]
    text = asked.lower()
    return next((f for f in functions if str(f["name"]).lower() in text), None)


def tool_call(payload: JsonObj) -> ToolCall | None:
    """The call the model makes for this request, if any."""
    functions = _functions(payload)
    messages = [as_obj(m) or {} for m in as_list(payload.get("messages")) or []]
    if not functions or not messages or messages[-1].get("role") != "user":
        return None
    _, asked = conversation(payload)
    function = _chosen(payload, functions, asked)
    if function is None:
        return None
    schema = as_obj(function.get("parameters")) or {"type": "object", "properties": {}}
    arguments = sample_from_schema(schema, " ".join(asked.split()[:4]), depth=0)
    return ToolCall(str(function["name"]), as_obj(arguments) or {})


def cached_tokens(previous: str | None, prompt: str) -> int:
    """Prompt words shared, from the start, with the previous prompt of the same affinity."""
    if previous is None:
        return 0
    shared = 0
    for before, now in zip(previous.split(), prompt.split(), strict=False):
        if before != now:
            break
        shared += 1
    return shared


def affinity_key(affinity: str, model: str) -> int:
    return stable_hash(affinity, model)
