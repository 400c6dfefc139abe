"""One emulated model, read from the catalog snapshot: identity, task, properties, schemas, wire forms."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from . import schema_walk as walk
from .envelope import JsonObj, as_list, as_obj

_ID_NAMESPACE = uuid.UUID("0c8f3e36-0a57-4d55-8e7f-6a1f2b0d5c21")
_DEFAULT_DIMENSIONS = 768  # embedding models whose catalog entry has no `output_dimensions`


@dataclass(frozen=True)
class Task:
    id: str
    name: str

    def as_json(self) -> JsonObj:
        return {"id": self.id, "name": self.name, "description": f"{self.name} (emulated task)"}


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A catalog model. `input_schema`/`output_schema` are None for the few models that publish none."""

    name: str
    file: str
    model_id: str | None
    source: int
    task: Task
    created_at: str | None
    tags: tuple[str, ...]
    properties: tuple[JsonObj, ...]
    input_schema: JsonObj | None
    output_schema: JsonObj | None
    deprecated_flag: bool | None = None
    sees_images: bool = False  # the published description speaks of images (see scripts/snapshot_catalog.py)

    @property
    def id(self) -> str:
        return self.model_id or str(uuid.uuid5(_ID_NAMESPACE, self.name))

    @property
    def description(self) -> str:
        seeing = " that sees images" if self.sees_images else ""
        return f"{self.task.name} model{seeing} (emulated: a local test double, not the real model)"

    @property
    def author(self) -> str:
        parts = self.name.split("/")
        return parts[1] if len(parts) > 2 else ""

    def prop(self, property_id: str) -> Any:
        return next((p.get("value") for p in self.properties if p.get("property_id") == property_id), None)

    def flag(self, property_id: str) -> bool:
        return str(self.prop(property_id)).lower() == "true"

    @property
    def async_queue(self) -> bool:
        return self.flag("async_queue")

    @property
    def experimental(self) -> bool:
        return self.flag("beta")

    @property
    def reasoning(self) -> bool:
        return self.flag("reasoning")

    @property
    def dimensions(self) -> int:
        value = self.prop("output_dimensions")
        return int(value) if isinstance(value, str) and value.isdigit() else _DEFAULT_DIMENSIONS

    def deprecated(self, today: date | None = None) -> bool:
        """Past its `planned_deprecation_date` (what `models/search` hides unless `include_deprecated`)."""
        when = self.prop("planned_deprecation_date")
        if not isinstance(when, str):
            return False
        return date.fromisoformat(when) < (today or datetime.now(UTC).date())

    # Wire forms and shapes, all read from the published schemas.
    @functools.cached_property
    def relaxed_input(self) -> JsonObj:
        return walk.relaxed(self.input_schema) if self.input_schema is not None else {"type": "object"}

    @functools.cached_property
    def relaxed_output(self) -> JsonObj | None:
        return walk.relaxed(self.output_schema) if self.output_schema is not None else None

    @functools.cached_property
    def input_fields(self) -> dict[str, JsonObj]:
        return walk.top_fields(self.input_schema) if self.input_schema is not None else {}

    @functools.cached_property
    def output_fields(self) -> dict[str, JsonObj]:
        return walk.top_fields(self.output_schema) if self.output_schema is not None else {}

    @functools.cached_property
    def output_types(self) -> frozenset[str]:
        return walk.content_types(self.output_schema)

    @property
    def binary_input(self) -> bool:
        """Takes a raw request body (image or audio bytes), per a `format: binary` root branch."""
        return self.input_schema is not None and walk.takes_binary_body(self.input_schema)

    @property
    def multipart(self) -> bool:
        """Takes `multipart/form-data` (the schema's `multipart {body, contentType}` object)."""
        return "multipart" in self.input_fields

    @functools.cached_property
    def audio_stream(self) -> bool:
        """`audio: {body, contentType}`: over REST the audio comes as raw bytes with an audio Content-Type."""
        audio = self.input_fields.get("audio")
        return audio is not None and walk.body_and_type(audio)

    @functools.cached_property
    def openai_chat(self) -> bool:
        """Answers OpenAI `chat.completion` objects (its output schema declares `choices`)."""
        return "choices" in self.output_fields

    @property
    def responses_api(self) -> bool:
        """Takes the OpenAI Responses form (`input`) as well as chat messages: the gpt-oss family."""
        return self.task.name == "Text Generation" and "input" in self.input_fields

    @property
    def streams_on_run(self) -> bool:
        """`stream: true` on /ai/run gets SSE; otherwise one JSON body (see README, "The emulator")."""
        if self.task.name != "Text Generation" or self.responses_api:
            return False  # gpt-oss on /ai/run answers `stream` with an empty JSON result (tests/recorded/streams)
        return "text/event-stream" in self.output_types or not self.output_types

    @functools.cached_property
    def takes_image_parts(self) -> bool:
        """Image parts in `messages`: where the catalog says `vision` or its description speaks of images, or a
        model's own (non-OpenAI) schema has them."""
        if self.flag("vision") or self.sees_images:
            return True
        return not self.openai_chat and self.input_schema is not None and walk.mentions(self.input_schema, "image_url")

    def search_row(self) -> JsonObj:
        row: JsonObj = {
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "description": self.description,
            "task": self.task.as_json(),
            "tags": list(self.tags),
            "properties": [dict(p) for p in self.properties],
        }
        if self.created_at is not None:
            row["created_at"] = self.created_at
        return row


def from_snapshot(row: JsonObj) -> ModelSpec:
    task = as_obj(row.get("task")) or {}
    deprecated = row.get("deprecated")
    return ModelSpec(
        name=str(row["name"]),
        file=str(row.get("file", "")),
        model_id=row.get("id") if isinstance(row.get("id"), str) else None,
        source=int(row.get("source") or 1),
        task=Task(str(task.get("id", "")), str(task.get("name", ""))),
        created_at=row.get("created_at") if isinstance(row.get("created_at"), str) else None,
        tags=tuple(str(t) for t in row.get("tags") or ()),
        properties=tuple(obj for p in as_list(row.get("properties")) or [] if (obj := as_obj(p)) is not None),
        input_schema=as_obj(row.get("input")),
        output_schema=as_obj(row.get("output")),
        deprecated_flag=deprecated if isinstance(deprecated, bool) else None,
        sees_images=row.get("sees_images") is True,
    )
