"""The former name of scripts/refresh.py, kept so older instructions still work: it runs the same refresh.

uv run python scripts/sync_manifest_tools.py [--check]  # same as scripts/refresh.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from refresh import first_sentence, main

__all__ = ["first_sentence", "main"]

if __name__ == "__main__":
    sys.exit(main())
