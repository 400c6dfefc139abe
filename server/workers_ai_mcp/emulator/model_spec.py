"""What describes one emulated model: its task, kind of answer, properties and schemas."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

JsonObj = dict[str, Any]
Kind = Literal[
    "text-generation",
    "openai-chat",
    "embeddings",
    "reranker",
    "translation",
    "summarization",
    "text-classification",
    "image-classification",
    "object-detection",
    "image-to-text",
    "asr-whisper",
    "asr-whisper-turbo",
    "asr-nova",
    "vad",
    "text-to-image-png",
    "text-to-image-json",
    "tts-mp3",
    "tts-json",
]
BINARY_INPUT_KINDS: frozenset[Kind] = frozenset(
    {"image-classification", "object-detection", "image-to-text", "asr-whisper", "asr-nova"}
)
_ID_NAMESPACE = uuid.UUID("0c8f3e36-0a57-4d55-8e7f-6a1f2b0d5c21")


@dataclass(frozen=True)
class Task:
    id: str
    name: str
    description: str

    def as_json(self) -> JsonObj:
        return {"id": self.id, "name": self.name, "description": self.description}


# Task ids are Cloudflare's (reference §6); descriptions are ours.
TEXT_GENERATION = Task(
    "c329a1f9-323d-4e91-b2aa-582dd4188d34", "Text Generation", "Generates text from a prompt or chat."
)
TEXT_EMBEDDINGS = Task("0137cdcf-162a-4108-94f2-1ca59e8c65ee", "Text Embeddings", "Turns text into vectors.")
TRANSLATION = Task("f57d07cb-9087-487a-bbbf-bc3e17fecc4b", "Translation", "Translates text between languages.")
SUMMARIZATION = Task("6f4e65d8-da0f-40d2-9aa4-db582a5a04fd", "Summarization", "Shortens a document.")
IMAGE_CLASSIFICATION = Task("00cd182b-bf30-4fc4-8481-84a3ab349657", "Image Classification", "Labels an image.")
OBJECT_DETECTION = Task("9c178979-90d9-49d8-9e2c-0f1cf01815d4", "Object Detection", "Finds labelled boxes.")
SPEECH_RECOGNITION = Task(
    "dfce1c48-2a81-462e-a7fd-de97ce985207", "Automatic Speech Recognition", "Transcribes speech to text."
)
TEXT_TO_IMAGE = Task("3d6e1f35-341b-4915-a6c8-9a7142a9033a", "Text-to-Image", "Generates an image from text.")
TEXT_CLASSIFICATION = Task("19606750-23ed-4371-aab2-c20349b53a60", "Text Classification", "Labels or ranks text.")
IMAGE_TO_TEXT = Task("882a91d1-c331-4eec-bdad-834c919942a8", "Image-to-Text", "Describes an image in words.")
TEXT_TO_SPEECH = Task("b52660a1-9a95-4ab2-8b1d-f232be34604a", "Text-to-Speech", "Speaks text aloud.")
VOICE_ACTIVITY = Task("ccb1ca5a-043d-41a7-8a3b-61017b2796fd", "Voice Activity Detection", "Detects end of turn.")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: Kind
    task: Task
    summary: str
    created_at: str
    input_schema: JsonObj
    output_schema: JsonObj
    properties: tuple[JsonObj, ...] = ()
    dimensions: int = 0
    tags: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, self.name))

    @property
    def description(self) -> str:
        return f"{self.summary} (emulated: a local test double, not the real model)"

    @property
    def source(self) -> int:
        return 2 if self.name.startswith("@hf/") else 1

    @property
    def author(self) -> str:
        parts = self.name.split("/")
        return parts[1] if len(parts) > 2 else ""

    def prop(self, property_id: str) -> Any:
        return next((p["value"] for p in self.properties if p["property_id"] == property_id), None)

    @property
    def async_queue(self) -> bool:
        return self.prop("async_queue") == "true"

    @property
    def binary_input(self) -> bool:
        return self.kind in BINARY_INPUT_KINDS

    @property
    def experimental(self) -> bool:
        return self.prop("beta") == "true"

    def deprecated(self, today: date | None = None) -> bool:
        when = self.prop("planned_deprecation_date")
        if not isinstance(when, str):
            return False
        return date.fromisoformat(when) < (today or datetime.now(UTC).date())

    def search_row(self) -> JsonObj:
        return {
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "description": self.description,
            "task": self.task.as_json(),
            "created_at": self.created_at,
            "tags": list(self.tags),
            "properties": [dict(p) for p in self.properties],
        }
