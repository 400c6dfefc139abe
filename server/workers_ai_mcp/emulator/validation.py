"""Input validation against a model's schema, worded like Cloudflare's validator."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .envelope import JsonObj, bad_input


def _pointer(path: Iterable[Any]) -> str:
    return "/" + "/".join(str(p) for p in path)


def json_type_name(value: object) -> str:
    """The JSON Schema type name of a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def describe(error: ValidationError) -> str:
    """One error as a sentence that names the failing field, e.g. `Type mismatch of '/temperature', ...`."""
    where = _pointer(cast(Sequence[Any], error.absolute_path))
    keyword = cast(str, error.validator)
    expected = cast(Any, error.validator_value)
    if keyword == "type":
        wanted = "', '".join(map(str, cast(list[Any], expected))) if isinstance(expected, list) else str(expected)
        return f"Type mismatch of '{where}', '{json_type_name(error.instance)}' not in '{wanted}'"
    if keyword == "required":
        missing = [name for name in cast(list[str], expected) if name not in cast(dict[str, Any], error.instance)]
        return f"required properties at '{where}' are '{', '.join(missing)}'"
    if keyword in ("oneOf", "anyOf"):
        context = error.context or []
        if not context:
            return f"{keyword} at '{where}' not met, more than one match"
        reasons = ", ".join(dict.fromkeys(describe(e) for e in context))
        return f"{keyword} at '{where}' not met, 0 matches: {reasons}"
    return f"{error.message} at '{where}'"


# Schemas are mostly long-lived (the catalog's); the stored schema guards against a reused id(), and the
# cache is emptied when it grows past a bound (answers built from a schema check short-lived sub-schemas).
_compiled: dict[int, tuple[JsonObj, Draft202012Validator]] = {}
_MAX_COMPILED = 4096


def _validator(schema: JsonObj) -> Draft202012Validator:
    cached = _compiled.get(id(schema))
    if cached is None or cached[0] is not schema:
        if len(_compiled) >= _MAX_COMPILED:
            _compiled.clear()
        cached = (schema, Draft202012Validator(schema))
        _compiled[id(schema)] = cached
    return cached[1]


def _most_specific(error: ValidationError) -> ValidationError:
    """Descend into oneOf/anyOf branches only while one branch failed deeper in the instance."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) <= len(error.absolute_path):
            break  # every branch failed at this level: report them all
        error = deepest
    return error


def first_error(schema: JsonObj, instance: Any) -> ValidationError | None:
    errors = cast(Iterable[ValidationError], _validator(schema).iter_errors(instance))  # pyright: ignore[reportUnknownMemberType]
    error = next(iter(errors), None)
    return None if error is None else _most_specific(error)


def validate(schema: JsonObj, instance: Any) -> None:
    """Raise 400/5006 naming the failing field when `instance` does not fit `schema`."""
    error = first_error(schema, instance)
    if error is not None:
        raise bad_input(describe(error))


def fits(schema: JsonObj, instance: Any) -> bool:
    """Whether `instance` fits `schema` (already relaxed where it should be)."""
    return first_error(schema, instance) is None
