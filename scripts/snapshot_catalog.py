"""Write the emulator's compact snapshot of the Workers AI catalog's structure.

Source: Cloudflare's published per-model metadata, i.e. the `src/content/workers-ai-models/*.json`
files of cloudflare/cloudflare-docs (what `GET /ai/models/search` plus `GET /ai/models/schema`
return), as copied into `../shared/workers-ai-models/` beside the checkout, whose `index.json` lists
the models (see that folder's README for the commit of each file).

Output: `server/workers_ai_mcp/emulator/catalog_snapshot.json`. It keeps, per model of `index.json`
(in that order): file, name, id, source, task (id and name), created_at, tags, properties
(`property_id` / `value`: prices, context window, deprecation date, async_queue, vision...), and the
input and output JSON Schemas with every prose keyword removed (`description`, `title`, `examples`,
`example`, `$comment`); every structural keyword stays. Sub-schemas that occur more than once and
are not tiny are stored once under `shared` and referenced as `{"$shared": "<hash>"}`, which is
how twelve chat models can share one OpenAI Chat Completions schema. No description text is copied:
only the fact `sees_images` (true where a Text Generation model's description speaks of images, which
is how the catalog tells llama-3.2-11b-vision from the llama-3.1 models publishing the same schema),
so that the emulator's own descriptions say what the real ones say about images.

    uv run python scripts/snapshot_catalog.py [FOLDER]      # FOLDER defaults to ../shared/workers-ai-models
    uv run python scripts/snapshot_catalog.py --check       # exit 1 if the committed snapshot is stale

tests/emulator/test_catalog_snapshot.py checks that the committed file is what this script generates.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "workers-ai-models"
OUTPUT = REPO / "server" / "workers_ai_mcp" / "emulator" / "catalog_snapshot.json"
PROSE = frozenset({"description", "title", "examples", "example", "$comment"})
# Keywords whose value maps names to schemas (the names are data, not keywords).
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
# Keywords whose value is data, copied as is.
LITERALS = frozenset({"enum", "const", "default", "required"})
SPEAKS_OF_IMAGES = re.compile(r"\b(image|images|vision|visual|multimodal)\b", re.IGNORECASE)
SHARE_MIN_CHARS = 200  # smaller repeated sub-schemas cost less inline than as references


def strip_prose(schema: Any) -> Any:
    """The schema without prose keywords; names under `properties` etc. are kept whatever they are."""
    if isinstance(schema, list):
        return [strip_prose(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in PROSE:
            continue
        if key in LITERALS:
            out[key] = value
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip_prose(sub) for name, sub in value.items()}
        else:
            out[key] = strip_prose(value)
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _count_subtrees(value: Any, counts: Counter[str]) -> None:
    if isinstance(value, dict | list):
        text = _canonical(value)
        if len(text) >= SHARE_MIN_CHARS:
            counts[text] += 1
        for item in value.values() if isinstance(value, dict) else value:
            _count_subtrees(item, counts)


class _Sharer:
    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.shared: dict[str, Any] = {}

    def share(self, value: Any, *, top: bool = False) -> Any:
        if not isinstance(value, dict | list):
            return value
        text = _canonical(value)
        if not top and self.counts.get(text, 0) > 1:
            key = hashlib.sha256(text.encode()).hexdigest()[:16]
            if key not in self.shared:
                self.shared[key] = None  # reserve: a subtree never contains itself
                self.shared[key] = self.share(value, top=True)
            return {"$shared": key}
        if isinstance(value, dict):
            return {k: self.share(v) for k, v in value.items()}
        return [self.share(v) for v in value]


def _model_row(record: dict[str, Any]) -> dict[str, Any]:
    task = record["task"]
    row: dict[str, Any] = {
        "name": record["name"],
        "id": record.get("id"),
        "source": record.get("source", 1),
        "task": {"id": task["id"], "name": task["name"]},
        "created_at": record.get("created_at"),
        "tags": record.get("tags", []),
        "properties": record.get("properties", []),
    }
    if "deprecated" in record:
        row["deprecated"] = record["deprecated"]
    if task["name"] == "Text Generation" and SPEAKS_OF_IMAGES.search(str(record.get("description") or "")):
        row["sees_images"] = True
    schema = record.get("schema")
    row["input"] = strip_prose(schema["input"]) if schema else None
    row["output"] = strip_prose(schema["output"]) if schema else None
    return row


def build_snapshot(source: Path) -> str:
    """The snapshot's text for the catalog folder `source` (deterministic)."""
    index = json.loads((source / "index.json").read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    for entry in index:
        row = _model_row(json.loads((source / entry["file"]).read_text(encoding="utf-8")))
        rows.append({"file": entry["file"], **row})
    counts: Counter[str] = Counter()
    for row in rows:
        _count_subtrees([row["input"], row["output"]], counts)
    sharer = _Sharer(counts)
    for row in rows:
        row["input"], row["output"] = sharer.share(row["input"]), sharer.share(row["output"])
    lines = [
        "{",
        '"generated_by": "scripts/snapshot_catalog.py",',
        '"source": "cloudflare/cloudflare-docs src/content/workers-ai-models (../shared/workers-ai-models)",',
        '"models": [',
        ",\n".join(_canonical(row) for row in rows),
        "],",
        '"shared": {',
        ",\n".join(f"{json.dumps(k)}: {_canonical(v)}" for k, v in sorted(sharer.shared.items())),
        "}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_SOURCE, help="the catalog folder")
    parser.add_argument("--check", action="store_true", help="only compare with the committed snapshot")
    args = parser.parse_args(argv)
    text = build_snapshot(args.folder)
    if args.check:
        stale = not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text
        sys.stderr.write(f"{OUTPUT.relative_to(REPO)} is {'stale' if stale else 'up to date'}\n")
        return 1 if stale else 0
    OUTPUT.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {OUTPUT.relative_to(REPO)} ({len(text):,} characters)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
