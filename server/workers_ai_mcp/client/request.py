"""`Request`: one request to `ai/run/{model}`, built once and sent whole.

A request is JSON inputs, or raw bytes with their content type, or a multipart form of text fields
and file parts, plus query parameters. Tools (and the schema-driven builders in
`catalog/requests.py`) build one; `WorkersAIClient.run` sends it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A multipart part: a text field `(None, bytes)` or a file `(filename, bytes, content type)`.
Part = tuple[str | None, bytes] | tuple[str, bytes, str]


@dataclass(frozen=True)
class FilePart:
    """One file of a multipart form."""

    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class Request:
    """What goes to `ai/run/{model}`: exactly one of `inputs` (JSON), `body` (raw) or a form (`form`/`files`)."""

    inputs: Mapping[str, Any] | None = None
    body: bytes | None = None
    content_type: str | None = None
    form: Mapping[str, str] = field(default_factory=dict[str, str])
    files: Mapping[str, FilePart] = field(default_factory=dict[str, FilePart])
    query: Mapping[str, str] = field(default_factory=dict[str, str])
    multipart: bool = False
    # Files sent under one repeated field name (`files` of ai/tomarkdown), after `form` and `files`.
    repeated: tuple[tuple[str, FilePart], ...] = ()

    @property
    def priced_inputs(self) -> Mapping[str, Any] | None:
        """The inputs the price estimate reads: the JSON, the form's text fields, or the query parameters."""
        if self.inputs is not None:
            return self.inputs
        if self.multipart:
            return dict(self.form)
        return dict(self.query) if self.query else None

    def content(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The HTTP client's content arguments (`json`, `content` or `files`) and the headers they need."""
        if self.multipart:
            # Every field as a part, so that a form of text fields alone is still multipart/form-data.
            parts: dict[str, Part] = {name: (None, value.encode()) for name, value in self.form.items()}
            parts |= {name: (p.filename, p.data, p.content_type) for name, p in self.files.items()}
            if not self.repeated:
                return {"files": parts}, {}
            listed = [*parts.items(), *((name, (p.filename, p.data, p.content_type)) for name, p in self.repeated)]
            return {"files": listed}, {}
        if self.body is not None:
            return {"content": self.body}, {"content-type": self.content_type or "application/octet-stream"}
        inputs = self.inputs
        return {"json": inputs if isinstance(inputs, dict) else dict(inputs or {})}, {}


def json_request(inputs: Mapping[str, Any]) -> Request:
    return Request(inputs=dict(inputs))


def form_request(fields: Mapping[str, object], files: Mapping[str, FilePart] | None = None) -> Request:
    """A `multipart/form-data` request (sent as one even with text fields only)."""
    text = {name: wire_text(value) for name, value in fields.items() if value is not None}
    return Request(form=text, files=dict(files or {}), multipart=True)


def stream_request(data: bytes, content_type: str, options: Mapping[str, object] | None = None) -> Request:
    """Raw media with its content type; the other inputs as query parameters (nova-3 over REST)."""
    query = {name: wire_text(value) for name, value in (options or {}).items() if value is not None}
    return Request(body=data, content_type=content_type, query=query)


def wire_text(value: object) -> str:
    """A form field or query parameter value: booleans as `true`/`false`, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
