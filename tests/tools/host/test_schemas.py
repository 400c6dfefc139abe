"""Published schemas are compacted without changing what they accept."""

from __future__ import annotations

from workers_ai_mcp.tools.host.schemas import compact_input, compact_output


def test_titles_go_but_a_property_called_title_stays() -> None:
    schema = {
        "title": "Args",
        "type": "object",
        "properties": {"title": {"title": "Title", "type": "string"}, "n": {"title": "N", "type": "integer"}},
    }
    assert compact_input(schema) == {
        "type": "object",
        "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
    }


def test_an_optional_parameter_defaulting_to_null_is_shown_as_a_plain_optional_one() -> None:
    schema = {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}], "default": None, "description": "d"}
    assert compact_input(schema) == {"type": "string", "maxLength": 5, "description": "d"}


def test_a_union_with_a_real_default_is_left_alone() -> None:
    schema = {"anyOf": [{"type": "string"}, {"type": "integer"}], "default": 3}
    assert compact_input(schema) == schema


def test_outputs_lose_descriptions_and_defaults_but_keep_null_as_a_possible_type() -> None:
    schema = {
        "type": "object",
        "properties": {
            "path": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "description": "where"},
            "items": {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/X"}}, {"type": "null"}]},
        },
    }
    assert compact_output(schema) == {
        "type": "object",
        "properties": {
            "path": {"type": ["string", "null"]},
            "items": {"type": ["array", "null"], "items": {"$ref": "#/$defs/X"}},
        },
    }


def test_annotations_keep_only_hints_that_differ_from_the_defaults() -> None:
    from mcp.types import ToolAnnotations

    from workers_ai_mcp.tools.host.schemas import compact_annotations

    read_only = ToolAnnotations(
        title="T", read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True
    )
    assert compact_annotations(read_only, "T") == ToolAnnotations(read_only_hint=True)
    local = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    assert compact_annotations(local, None) == local
    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
    assert compact_annotations(writes, None) == ToolAnnotations(destructive_hint=False)
