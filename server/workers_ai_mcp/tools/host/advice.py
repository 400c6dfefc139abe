"""Error text for the assistant: the client's facts, with the next step worded as one of our tools.

The client says what went wrong and, with a `Hint`, where a next step belongs; only here are
the tools named, so the client stays free of MCP and a renamed tool is renamed in one place.
"""

from __future__ import annotations

from ...client.errors import WorkersAIError

STEPS = {
    "find_model": "; call list_models to find one",
    "find_model_id": " (call list_models to find one)",
    "see_schema": "; call get_model_schema to see what it accepts",
}


def error_text(exc: WorkersAIError) -> str:
    """`exc`'s message with its next step, if it has one, in the words of our tools."""
    text = str(exc)
    hint = exc.hint
    if hint is None or hint.after not in text:
        return text
    return text.replace(hint.after, hint.after + STEPS[hint.step], 1)
