"""Check a model input against the model's own JSON Schema before anything is sent.

`input_problem(schema, value)` answers None when `value` fits, otherwise one sentence naming
the failing field and the rule, e.g. `input.messages[0].content: 5 is not of type 'string'`.
Cloudflare publishes no `$schema`, so Draft 2020-12 is assumed, with Draft 7 as the fallback
for schemas only valid there; a schema neither accepts is not checked locally (Cloudflare
still validates it). Unknown keywords such as `contentType` are ignored by the validator.
The check may let through what Cloudflare refuses, never the reverse (see `_relaxed`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..jsonvalues import as_dict

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

logger = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRANCHING = ("oneOf", "anyOf")
_CACHE_SIZE = 64
_SYNTHETIC = "x-workers-ai-mcp-local"
# Validators by schema identity: the client caches each model's schema dict, so identity is stable.
_validators: dict[int, tuple[dict[str, Any], Validator | None]] = {}


def input_problem(schema: dict[str, Any], value: Any) -> str | None:
    """None if `value` satisfies `schema`; otherwise one readable sentence about the best-matching failure."""
    from jsonschema import exceptions

    validator = _validator_for(schema)
    if validator is None:
        return None
    relevance = cast(Callable[["ValidationError"], tuple[Any, ...]], exceptions.relevance)
    best_match = cast(Callable[..., "ValidationError | None"], exceptions.best_match)  # pyright: ignore[reportUnknownMemberType]

    def key(error: ValidationError) -> tuple[Any, ...]:
        # Our own "needs one of its properties" clause explains least; best_match descends by smallest key.
        return (_SYNTHETIC in as_dict(error.schema), *relevance(error))

    errors = cast(Iterable["ValidationError"], validator.iter_errors(value))
    error = best_match(errors, key=key)
    return None if error is None else describe(error)


def describe(error: ValidationError) -> str:
    """`<field path>: <rule>` for one validation error."""
    if error.validator in _BRANCHING:
        return _describe_branches(error)
    return f"{field_path(cast(Sequence[Any], error.absolute_path))}: {_rule(error)}"


def field_path(path: Sequence[Any]) -> str:
    """`input.messages[0].content` from a JSON path."""
    text = "input"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(str(part)):
            text += f".{part}"
        else:
            text += f"[{json.dumps(str(part))}]"
    return text


def _describe_branches(error: ValidationError) -> str:
    where = field_path(cast(Sequence[Any], error.absolute_path))
    branches = error.context or []
    if not branches:
        return f"{where}: {_clip(error.message, 200)}"
    depth = len(error.absolute_path)
    if all(e.validator == "type" and len(e.absolute_path) == depth for e in branches):
        wanted = " or ".join(dict.fromkeys(_quoted_types(e.validator_value) for e in branches))
        return f"{where}: {_show(error.instance)} is not of type {wanted}"
    # The branch the input got furthest into is the one it was meant for.
    deepest = max(len(e.absolute_path) for e in branches)
    if deepest > depth:
        furthest = list(dict.fromkeys(describe(e) for e in branches if len(e.absolute_path) == deepest))
        if len(furthest) == 1:
            return furthest[0]
    # A branch refused for its type says little when another branch fits the type and fails later.
    telling = [e for e in branches if not (e.validator == "type" and len(e.absolute_path) == depth)] or branches
    prefix = f"{where}: "
    reasons = [describe(e).removeprefix(prefix) if len(e.absolute_path) == depth else describe(e) for e in telling]
    return f"{where}: matches none of the allowed forms ({'; or '.join(list(dict.fromkeys(reasons))[:4])})"


_RELATIONS = {
    "minimum": "less than the minimum of",
    "exclusiveMinimum": "not greater than",
    "maximum": "greater than the maximum of",
    "exclusiveMaximum": "not less than",
}


def _required(instance: Any, expected: Any) -> str:
    present = cast(dict[str, Any], instance) if isinstance(instance, dict) else {}
    missing = [name for name in cast(list[str], expected) if name not in present]
    return f"'{missing[0] if missing else expected}' is a required property"


def _length(keyword: str, instance: Any, expected: Any) -> str:
    if keyword == "minLength" and expected == 1:
        return "must not be empty"
    bound = "at least" if keyword.startswith("min") else "at most"
    unit = "characters" if keyword.endswith("Length") else "items"
    return f"has {len(cast(str | list[Any], instance))} {unit}; it must have {bound} {expected}"


def _rule(error: ValidationError) -> str:
    keyword = cast(str, error.validator)
    expected: Any = error.validator_value
    instance: Any = error.instance
    if keyword in _RELATIONS:
        return f"{_show(instance)} is {_RELATIONS[keyword]} {expected}"
    if keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        return _length(keyword, instance, expected)
    rules: dict[str, Callable[[], str]] = {
        "type": lambda: f"{_show(instance)} is not of type {_quoted_types(expected)}",
        "required": lambda: _required(instance, expected),
        "enum": lambda: f"{_show(instance)} is not one of {', '.join(_show(v) for v in cast(list[Any], expected))}",
        "const": lambda: f"{_show(instance)} must be {_show(expected)}",
        "additionalProperties": lambda: error.message,
        "pattern": lambda: f"{_show(instance)} does not match the pattern {expected!r}",
    }
    rule = rules.get(keyword)
    return rule() if rule is not None else _clip(error.message, 200)


def _quoted_types(expected: Any) -> str:
    names = cast(list[Any], expected) if isinstance(expected, list) else [expected]
    return " or ".join(f"'{name}'" for name in names)


def _show(value: Any) -> str:
    """A short rendering of a JSON value for a message (long strings and containers abbreviated)."""
    if isinstance(value, str):
        return repr(_clip(value, 40))
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"an array of {len(cast(list[Any], value))} items"
    return json.dumps(value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validator_for(schema: dict[str, Any]) -> Validator | None:
    cached = _validators.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    validator = _build_validator(cast(dict[str, Any], _relaxed(schema, top=True)))
    if len(_validators) >= _CACHE_SIZE:
        _validators.clear()
    _validators[id(schema)] = (schema, validator)
    return validator


def _build_validator(schema: dict[str, Any]) -> Validator | None:
    from jsonschema import Draft7Validator, Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    declared = validator_for(schema, default=Draft202012Validator)
    candidates = [declared] if "$schema" in schema else [Draft202012Validator, Draft7Validator]
    for cls in candidates:
        try:
            cls.check_schema(schema)
        except SchemaError:
            continue
        return cls(schema)
    logger.warning("A model input schema is not a valid JSON Schema; it is not checked locally")
    return None


_SCHEMA_VALUED = frozenset(
    {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"}
    | {"unevaluatedItems", "unevaluatedProperties", "additionalItems"}
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


def _relaxed(node: Any, *, top: bool = False) -> Any:
    """A copy of `node` that refuses nothing Cloudflare would accept, only what it would refuse.

    - `oneOf` becomes `anyOf`: published schemas have overlapping branches (a batch branch with no
      `required` matches every object), so "more than one match" must not count as a failure.
    - Top-level `{type: string, format: binary}` branches go: a JSON input is an object, never raw
      bytes (nested ones stay, where a base64 string may match them).
    - A top-level branch with properties but no `required` needs one of its own properties, so that
      it does not vacuously swallow inputs meant for (and failing) another branch.
    """
    if not isinstance(node, dict):
        return node
    schema = cast(dict[str, Any], node)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _relaxed(sub) for name, sub in cast(dict[str, Any], value).items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            branches = [_relaxed(sub) for sub in cast(list[Any], value)]
            if top and key in _BRANCHING:
                branches = [_needs_own_property(b) for b in branches if not _binary_only(b)] or branches
            out["anyOf" if key == "oneOf" and "anyOf" not in schema else key] = branches
        elif key in _SCHEMA_VALUED:
            out[key] = _relaxed(value)
        else:
            out[key] = value
    return out


def _needs_own_property(branch: Any) -> Any:
    schema = as_dict(branch)
    names = list(as_dict(schema.get("properties")))
    if "required" in schema or not names:
        return branch
    if len(names) == 1:
        clause: dict[str, Any] = {"required": names, _SYNTHETIC: True}
    else:
        clause = {"anyOf": [{"required": [name]} for name in names], _SYNTHETIC: True}
    return {"allOf": [schema, clause]}


def _binary_only(branch: Any) -> bool:
    schema = as_dict(branch)
    return schema.get("type") == "string" and schema.get("format") == "binary"
