"""The strict shape of a Workers AI model id, checked before any request is built.

A model id becomes part of a URL path, so a crafted one (`@cf/../../user/tokens`) must never
reach Cloudflare. Real ids are `@cf/<author>/<name>` or `@hf/<author>/<name>`, with letters,
digits, `.`, `_` and `-` (names such as `qwen1.5-0.5b-chat` or `moondream3.1-9B-A2B`).
"""

from __future__ import annotations

import re

from .errors import Hint, InvalidRequestError

_EXAMPLE = "for example @cf/meta/llama-3.1-8b-instruct-fp8"

_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.)){0,127}"
MODEL_ID = re.compile(rf"@(?:cf|hf)/{_SEGMENT}/{_SEGMENT}")


def check_model_id(model: str) -> str:
    """Return `model` if it is a well-formed id; otherwise raise `InvalidRequestError`."""
    if MODEL_ID.fullmatch(model) and ".." not in model:
        return model
    shown = model if len(model) <= 80 and model.isprintable() else repr(model[:80])
    raise InvalidRequestError(
        f"'{shown}' is not a Workers AI model id; ids look like @cf/<author>/<name>, {_EXAMPLE}.",
        hint=Hint(_EXAMPLE, "find_model_id"),
    )
