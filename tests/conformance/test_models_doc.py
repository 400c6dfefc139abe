"""docs/models.md is what scripts/models_doc.py makes of the published catalog today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_docs_models_md_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "models_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_doc_counts_every_model_and_flags_the_deprecated_ones() -> None:
    from conformance.published import index

    text = (ROOT / "docs" / "models.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `@")]
    assert len(rows) == len(index())
    deprecated = {row["name"] for row in index() if row["deprecated"]}
    flagged = {line.split("`")[1] for line in rows if "**deprecated**" in line}
    assert deprecated <= flagged
