"""Reliability under faults, hostile input and load: the fault matrix, fuzzing, and small load and soak runs.

The load and soak harness is shared with `bench/reliability/run.py`; its folder joins the import path here.
"""

import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "bench" / "reliability"
if str(HARNESS) not in sys.path:
    sys.path.append(str(HARNESS))
