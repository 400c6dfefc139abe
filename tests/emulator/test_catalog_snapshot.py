"""The committed catalog snapshot is what scripts/snapshot_catalog.py generates, and holds no prose."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from emulator.published_catalog import ABSENT_REASON, PRESENT, REAL_MODELS, index
from workers_ai_mcp.emulator.registry import load_snapshot, models

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "server" / "workers_ai_mcp" / "emulator" / "catalog_snapshot.json"


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("snapshot_catalog", ROOT / "scripts" / "snapshot_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not PRESENT, reason=ABSENT_REASON)
def test_committed_snapshot_is_what_the_script_generates_today() -> None:
    generated = script().build_snapshot(REAL_MODELS)
    assert SNAPSHOT.read_text(encoding="utf-8") == generated, "run: uv run python scripts/snapshot_catalog.py"


@pytest.mark.skipif(not PRESENT, reason=ABSENT_REASON)
def test_snapshot_lists_every_published_model_file_in_index_order() -> None:
    rows = load_snapshot()["models"]
    assert [row["file"] for row in rows] == [entry["file"] for entry in index()]


def test_snapshot_schemas_carry_no_prose_keywords() -> None:
    def prose_keys(node: object, in_names: bool = False) -> set[str]:
        if isinstance(node, list):
            return set().union(*(prose_keys(v) for v in node))  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(node, dict):
            return set()
        found: set[str] = set()
        for key, value in node.items():  # pyright: ignore[reportUnknownVariableType]
            if not in_names and key in ("description", "title", "examples", "example"):
                found.add(str(key))  # pyright: ignore[reportUnknownArgumentType]
            if key in ("enum", "const", "default", "required"):
                continue
            found |= prose_keys(value, in_names=not in_names and key == "properties")
        return found

    data = load_snapshot()
    assert all(not prose_keys([row["input"], row["output"]]) for row in data["models"])


def test_strip_prose_keeps_structure_and_property_names() -> None:
    schema = {
        "type": "object",
        "description": "prose",
        "properties": {"description": {"type": "string", "title": "t", "maxLength": 5}},
        "required": ["description"],
        "oneOf": [{"title": "A", "const": 1}],
    }
    assert script().strip_prose(schema) == {
        "type": "object",
        "properties": {"description": {"type": "string", "maxLength": 5}},
        "required": ["description"],
        "oneOf": [{"const": 1}],
    }


def test_shared_sub_schemas_are_one_object_once_loaded() -> None:
    kimi, glm = models()["@cf/moonshotai/kimi-k2.6"], models()["@cf/zai-org/glm-5.2"]
    assert kimi.input_schema is not None and kimi.input_schema is glm.input_schema
    assert SNAPSHOT.stat().st_size < 400_000
    assert "$shared" not in json.dumps(kimi.input_schema)
