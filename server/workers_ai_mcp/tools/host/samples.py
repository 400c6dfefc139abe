"""The words of a tool module's `SAMPLES`: the minimal arguments `selftest` and the generic test suites call it with.

Every tool module defines, beside its `register`, `SAMPLES: Samples = {"tool_name": {argument: value}}`
with one entry per tool it registers (an empty one for a tool that needs no argument). A value is a
JSON value, or `IMAGE` / `AUDIO` (the path of a small sample file of that kind, which also marks the
argument as the tool's media input for the fuzz and hygiene suites), or `Earlier(tool, field)` (a
field of an earlier tool's structured result, such as the job id a submission returned). Required
arguments left out are filled from the input schema; see `workers_ai_mcp.selftest.samples`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IMAGE = "<image>"
AUDIO = "<audio>"
# A model every account can run for a fraction of a cent: samples name it where a model id is needed.
CHEAP_MODEL = "@cf/baai/bge-base-en-v1.5"


@dataclass(frozen=True)
class Earlier:
    """The `field` of the structured result of `tool`, called before this one."""

    tool: str
    field: str


Samples = dict[str, dict[str, Any]]
