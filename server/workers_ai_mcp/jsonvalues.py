"""Narrowing helpers for JSON values of unknown shape (what Cloudflare sends back)."""

from __future__ import annotations

from typing import Any, cast


def as_dict(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty dict."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """`value` if it is a JSON array, else an empty list."""
    return cast(list[Any], value) if isinstance(value, list) else []


def dicts(value: object) -> list[dict[str, Any]]:
    """The JSON objects inside `value` if it is an array."""
    return [cast(dict[str, Any], item) for item in as_list(value) if isinstance(item, dict)]
