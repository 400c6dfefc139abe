"""Shaping a finished batch: results in input order, media saved to files, and the per-item input schema."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, Field

from ...jsonvalues import as_dict, as_list
from ...media.outputs import OutputStore, extension_for
from ...media.sniff import sniff

# Strings at least this long are checked for base64-encoded images or audio.
_MEDIA_MIN_CHARS = 1_024


class BatchItem(BaseModel):
    """The result of one input of a batch."""

    index: int = Field(description="Position of the input in the submitted list.")
    success: bool
    external_reference: str | None = None
    result: Any = Field(default=None, description="The model's answer; saved media appear as {file, uri, media_type}.")
    error: str | None = None


def batch_items(outputs: OutputStore, job_id: str, responses: list[dict[str, Any]]) -> list[BatchItem]:
    """Responses ordered by their `id` (the input index), binary payloads saved as files."""

    def position_of(response: dict[str, Any]) -> int:
        index = response.get("id")
        return index if isinstance(index, int) else len(responses)

    ordered = sorted(responses, key=position_of)
    items: list[BatchItem] = []
    for position, response in enumerate(ordered):
        index = response.get("id")
        success = response.get("success") is not False
        reference = response.get("external_reference")
        error = None if success else _error_text(response)
        stem = f"batch-{job_id[:8]}-{position}"
        items.append(
            BatchItem(
                index=index if isinstance(index, int) else position,
                success=success,
                external_reference=reference if isinstance(reference, str) else None,
                result=_save_media(outputs, _unwrapped(response.get("result")), stem) if success else None,
                error=error,
            )
        )
    return items


def _unwrapped(value: Any) -> Any:
    """An item's answer: Cloudflare's docs show it nested once more, `result.result.response`
    (tests/recorded/batch/completed_nested_result_result_response.json)."""
    nested = as_dict(value)
    if set(nested) == {"result"} or "result" in nested and set(nested) <= {"result", "success", "errors", "messages"}:
        return nested["result"]
    return value


def _error_text(response: dict[str, Any]) -> str:
    for key in ("error", "errors", "result"):
        value = response.get(key)
        if isinstance(value, str) and value:
            return value[:500]
        if value:
            return str(value)[:500]
    return "The model failed on this input."


def _save_media(outputs: OutputStore, value: Any, stem: str) -> Any:
    """`value` with every base64 image or audio string replaced by a reference to a saved file."""
    if isinstance(value, str) and len(value) >= _MEDIA_MIN_CHARS:
        data = _base64(value)
        media_type = sniff(data) if data else None
        if data and media_type and media_type.split("/")[0] in ("image", "audio"):
            saved = outputs.save(data, stem=stem, extension=extension_for(media_type))
            return {"file": str(saved.path), "uri": saved.uri, "media_type": media_type, "bytes": saved.size}
        return value
    if mapping := as_dict(value):
        return {key: _save_media(outputs, item, stem) for key, item in mapping.items()}
    if items := as_list(value):
        return [item if isinstance(item, int | float) else _save_media(outputs, item, stem) for item in items]
    return value


def _base64(text: str) -> bytes | None:
    body = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None
