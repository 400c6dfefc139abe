"""Argument errors in plain sentences: one per problem, naming the argument and what it expects.

pydantic's own text (`1 validation error for translateArguments … https://errors.pydantic.dev/…`) is
written for programmers and grows with the input; an assistant needs the argument's name and what to
send instead. Every message is bounded by `MAX_ERROR_CHARS`, whatever the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from pydantic import ValidationError
from pydantic_core import ErrorDetails

MAX_ERROR_CHARS = 1_000
MAX_PROBLEMS = 4
_DESCRIPTION_CHARS = 160
# Steps pydantic adds to an error's location for union members and validators, not argument names.
_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "tuple", "set", "bytes", "none", "null"})
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a JSON object",
    "null": "null",
}


def bounded(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """`text` cut to fit `limit` characters, marked where it was cut."""
    if len(text) <= limit:
        return text
    marker = " [...]"
    return text[: limit - len(marker)].rstrip() + marker


def unknown_arguments_error(tool: str, unknown: Iterable[str], schema: Mapping[str, Any]) -> str:
    """The sentence for arguments the tool does not have."""
    names = sorted(unknown)
    known = ", ".join(_properties(schema)) or "no arguments"
    shown = ", ".join(_quoted(name) for name in names[:MAX_PROBLEMS])
    more = f" (and {len(names) - MAX_PROBLEMS} more)" if len(names) > MAX_PROBLEMS else ""
    verb = "is not an argument" if len(names) == 1 else "are not arguments"
    return bounded(f"{tool}: {shown}{more} {verb} of {tool}; it takes {known}.")


def argument_error(tool: str, error: ValidationError, schema: Mapping[str, Any]) -> str:
    """One sentence per problem in `error`, the first few of them, prefixed with the tool's name."""
    sentences: list[str] = []
    for detail in error.errors(include_url=False, include_input=True):
        sentence = _sentence(detail, schema)
        if sentence not in sentences:
            sentences.append(sentence)
    shown = sentences[:MAX_PROBLEMS]
    if len(sentences) > len(shown):
        shown.append(f"({len(sentences) - len(shown)} more problems like these.)")
    return bounded(f"{tool}: {' '.join(shown)}")


def _sentence(detail: ErrorDetails, schema: Mapping[str, Any]) -> str:
    path = [part for part in detail["loc"] if isinstance(part, int) or _is_name(part)]
    name = _render(path)
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind == "missing":
        return f"{name} is required ({_expected(schema, path)})."
    if kind in ("too_short", "string_too_short"):
        unit = "characters" if kind.startswith("string") else "items"
        return f"{name} needs at least {context.get('min_length')} {unit} ({_expected(schema, path)})."
    if kind in ("too_long", "string_too_long"):
        unit = "characters" if kind.startswith("string") else "items"
        return f"{name} takes at most {context.get('max_length')} {unit}; {_got(detail.get('input'))}."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of"):
        return f"{name} must be {_bound(kind, context)} ({_got(detail.get('input'))})."
    if kind in ("literal_error", "enum"):
        return f"{name} must be {context.get('expected', 'one of the listed values')}."
    if kind == "string_pattern_mismatch":
        return f"{name} has the wrong form ({_expected(schema, path)})."
    if kind == "value_error":
        return f"{name}: {str(detail['msg']).removeprefix('Value error, ')[:_DESCRIPTION_CHARS]}."
    return f"{name} must be {_expected(schema, path)}; {_got(detail.get('input'))}."


def _is_name(part: str | int) -> bool:
    text = str(part)
    return text.lower() not in _TAGS and not any(char in text for char in "[]()-")


def _render(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the arguments"


def _expected(schema: Mapping[str, Any], path: list[str | int]) -> str:
    """What the schema asks for at `path`: its type, bounds and description, shortly."""
    node = _node(schema, path)
    if node is None:
        return "see the tool's input schema"
    words = [_type_phrase(node)]
    if isinstance(node.get("enum"), list):
        words = ["one of " + ", ".join(repr(v) for v in cast(list[Any], node["enum"]))]
    if "minLength" in node or "maxLength" in node:
        words.append(f"{node.get('minLength', 0)} to {node.get('maxLength', 'any number of')} characters")
    if "minItems" in node or "maxItems" in node:
        words.append(f"{node.get('minItems', 0)} to {node.get('maxItems', 'any number of')} items")
    description = str(node.get("description") or "").strip().rstrip(".")
    if description:
        words.append(description[:_DESCRIPTION_CHARS])
    return ", ".join(word for word in words if word)


def _node(schema: Mapping[str, Any], path: list[str | int]) -> dict[str, Any] | None:
    defs = _as_dict(schema.get("$defs"))
    node: dict[str, Any] | None = dict(schema)
    for part in path:
        current = _resolved(node or {}, defs)
        if isinstance(part, int):
            node = _as_dict(current.get("items")) or None
        else:
            node = _as_dict(_as_dict(current.get("properties")).get(part)) or None
        if node is None:
            return None
    return _resolved(node or {}, defs) or None


def _resolved(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _as_dict(defs.get(ref.removeprefix("#/$defs/")))
    return node


def _as_dict(value: Any) -> dict[str, Any]:
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _type_phrase(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in cast(list[Any], kind))
    if kind == "array" and isinstance(node.get("items"), dict):
        item = cast(dict[str, Any], node["items"]).get("type")
        if isinstance(item, str) and item in _TYPE_WORDS:
            return f"a list of {_TYPE_WORDS[item].removeprefix('a ').removeprefix('an ')}s"
    return _TYPE_WORDS.get(str(kind), "a value") if kind else ""


def _properties(schema: Mapping[str, Any]) -> list[str]:
    properties = schema.get("properties")
    return list(cast(dict[str, Any], properties)) if isinstance(properties, dict) else []


def _bound(kind: str, context: Mapping[str, Any]) -> str:
    words = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
        "multiple_of": ("a multiple of", "multiple_of"),
    }
    phrase, key = words[kind]
    return f"{phrase} {context.get(key)}"


def _got(value: Any) -> str:
    """What was sent, described by its kind and size, never echoed (it may be long or private)."""
    if value is None:
        return "got null"
    if isinstance(value, bool):
        return "got true or false"
    if isinstance(value, int | float):
        return f"got {value:g}" if abs(value) < 1e15 else "got a number"
    if isinstance(value, str):
        return f"got a string of {len(value):,} characters"
    if isinstance(value, list):
        return f"got a list of {len(cast(list[Any], value)):,} items"
    if isinstance(value, dict):
        return "got a JSON object"
    return f"got {type(value).__name__}"


def _quoted(name: str) -> str:
    return repr(name[:40] + ("..." if len(name) > 40 else ""))
