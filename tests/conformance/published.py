"""Cloudflare's published catalog as a fake upstream, for the conformance tests.

`Upstream` answers `models/search` and `models/schema` from the published files, checks every
`ai/run` request against the model's published input schema (JSON bodies with jsonschema, `oneOf`
read as `anyOf`; raw bodies by content type; multipart bodies by their parts; stream handles by
content type and query parameters), and answers with a sample of the published output schema.
It is written from the published files alone: it shares no code with the server's request building.
"""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import io
import json
import wave
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

import httpx2
from PIL import Image

CATALOG = Path(__file__).resolve().parents[2].parent / "shared" / "workers-ai-models"
SEARCH_FIELDS = ("id", "source", "name", "description", "task", "created_at", "tags", "properties")


@cache
def index() -> list[dict[str, Any]]:
    """index.json: one row per model (name, task, file, input_body, output_content_types, deprecated)."""
    return cast(list[dict[str, Any]], json.loads((CATALOG / "index.json").read_text()))


@cache
def record(name: str) -> dict[str, Any]:
    """The published file of one model."""
    row = next(row for row in index() if row["name"] == name)
    return cast(dict[str, Any], json.loads((CATALOG / row["file"]).read_text()))


def schema_of(name: str) -> dict[str, Any]:
    """The published `{input, output}` schemas; `{}` for the few models Cloudflare publishes none for."""
    return cast(dict[str, Any], record(name).get("schema", {}))


# ---- samples ------------------------------------------------------------------------------------


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 10)).save(out, "JPEG")
    return out.getvalue()


def mp3_bytes() -> bytes:
    frame = bytes.fromhex("FFFB9064") + bytes(413)
    return frame * 4


def wav_bytes() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        writer.writeframes(b"\x00\x01" * 1600)
    return out.getvalue()


_MEDIA = {"image/png": png_bytes, "image/jpeg": jpeg_bytes, "audio/mpeg": mp3_bytes}
_TEXTS = {
    "vtt": "WEBVTT\n\n00:00.000 --> 00:01.000\nhello there\n",
    "label": "tabby cat",
    "pooling": "mean",
}


@dataclass(frozen=True)
class Answer:
    """One answer the published output schema allows: its content type, its body, and the branch title."""

    content_type: str
    body: bytes
    title: str = ""

    def response(self) -> httpx2.Response:
        if self.content_type == "application/json":
            content = json.dumps({"result": json.loads(self.body), "success": True, "errors": [], "messages": []})
            return httpx2.Response(200, content=content.encode(), headers={"content-type": "application/json"})
        return httpx2.Response(200, content=self.body, headers={"content-type": self.content_type})


def arms(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a schema, each merged with its parent (one level, as the output schemas are)."""
    parent = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
    found = schema.get("oneOf") or schema.get("anyOf")
    if not found:
        return [schema]
    return [{**parent, **arm} for arm in cast(list[dict[str, Any]], found)]


def answers(output: dict[str, Any]) -> list[Answer]:
    """One answer per branch and content type of an output schema."""
    out: list[Answer] = []
    for arm in arms(output):
        content_type = str(arm.get("contentType") or "application/json")
        title = str(arm.get("title", ""))
        if arm.get("type") == "string" and arm.get("format") == "binary":
            if content_type in ("text/event-stream", "application/json"):  # a stream branch, its type unnamed
                events = b'data: {"response":"hello"}\n\ndata: {"response":" there"}\n\ndata: [DONE]\n\n'
                out.append(Answer("text/event-stream", events, title))
            else:
                out.append(Answer(content_type, _MEDIA[content_type](), title))
            continue
        out.append(Answer("application/json", json.dumps(sample(arm, "")).encode(), title))
    return out


def sample(schema: dict[str, Any], name: str) -> Any:
    """A full value of a schema: every declared property, one item per array, media where names say so."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    options = schema.get("oneOf") or schema.get("anyOf")
    if options:
        return sample({**{k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}, **options[0]}, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in cast(list[str], kind) if k != "null")
    if kind == "object" or "properties" in schema:
        props = cast(dict[str, Any], schema.get("properties", {}))
        return {key: sample(sub, key) for key, sub in props.items() if isinstance(sub, dict)}
    if kind == "array":
        items = cast(dict[str, Any], schema.get("items", {"type": "number"}))
        return [sample(items, name)]
    if kind == "string":
        if name == "image":
            return base64.b64encode(png_bytes()).decode()
        if name == "audio":
            return base64.b64encode(mp3_bytes()).decode()
        return _TEXTS.get(name, f"sample {name}".strip())
    if kind == "integer":
        return 0 if name in ("id", "index") else 1
    if kind == "number":
        return 0.75
    if kind == "boolean":
        return True
    return None


NO_SCHEMA_ANSWER = Answer("application/json", b'{"response": "hello"}', "no published output schema")


def answers_for(output: dict[str, Any], request_fields: set[str]) -> list[Answer]:
    """The answers a request of these top-level fields may get: not the async answer (no batch was
    queued), not the branches Cloudflare titles as answers to another input form (query, contexts)."""
    kept: list[Answer] = []
    for answer in answers(output):
        title = answer.title.lower()
        if "async" in title:
            continue
        if "query" in title and "query" not in request_fields:
            continue
        if "contexts" in title and "contexts" not in request_fields:
            continue
        kept.append(answer)
    return kept


# ---- checks -------------------------------------------------------------------------------------


def strict(node: Any) -> Any:
    """The schema with every `oneOf` read as `anyOf` (Cloudflare's branches overlap)."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): strict(v) for k, v in cast(dict[str, Any], node).items()}
    if isinstance(node, list):
        return [strict(v) for v in cast(list[Any], node)]
    return node


def json_problem(schema: dict[str, Any], value: Any) -> str | None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(strict(copy.deepcopy(schema)))
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    return None if not errors else f"{list(errors[0].absolute_path)}: {errors[0].message}"


def _props(schema: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for arm in arms(schema):
        for key, sub in cast(dict[str, Any], arm.get("properties", {})).items():
            found.setdefault(key, sub)
    return found


def _is_handle(prop: Any) -> bool:
    return isinstance(prop, dict) and {"body", "contentType"} <= set(cast(dict[str, Any], prop).get("properties", {}))


def query_problem(schema: dict[str, Any], query: dict[str, str], handle: str) -> str | None:
    """Query parameters of a stream-handle request: each one a declared input, its text of the right type."""
    props = _props(schema)
    for key, text in query.items():
        prop = props.get(key)
        if key == handle or not isinstance(prop, dict):
            return f"query parameter {key!r} is not an input of the model"
        kind = cast(dict[str, Any], prop).get("type")
        if kind == "boolean" and text not in ("true", "false"):
            return f"query parameter {key}={text!r} is not a boolean"
        if kind in ("number", "integer"):
            try:
                float(text)
            except ValueError:
                return f"query parameter {key}={text!r} is not a number"
        enum = cast(dict[str, Any], prop).get("enum")
        if enum and text not in enum:
            return f"query parameter {key}={text!r} is not one of {enum}"
    return None


def multipart_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, payload) of every part."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts: list[tuple[str, str | None, str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append((str(name), part.get_filename(), part.get_content_type(), bytes(cast(bytes, payload))))
    return parts


def run_problem(schema: dict[str, Any], request: httpx2.Request) -> str | None:
    """Why a run request does not fit the model's published input schema, or None."""
    content_type = request.headers.get("content-type", "")
    query = dict(request.url.params)
    props = _props(schema)
    if content_type.startswith("application/json"):
        if query:
            return f"unexpected query parameters {query}"
        if _is_handle(props.get("multipart")):
            return "JSON body for a model that takes multipart/form-data only (Cloudflare's FLUX.2 pages)"
        return json_problem(schema, json.loads(request.content))
    if content_type.startswith("multipart/form-data"):
        if not _is_handle(props.get("multipart")):
            return "multipart body for a model whose schema takes no multipart form"
        parts = multipart_parts(content_type, request.content)
        names = [name for name, *_ in parts]
        if "prompt" not in names or len(set(names)) != len(names):
            return f"multipart form needs one `prompt` field and unique names, got {names}"
        for name, filename, part_type, payload in parts:
            if filename is not None and (not part_type.startswith("image/") or not payload):
                return f"file part {name} is not an image ({part_type})"
        return None
    handles = [key for key, prop in props.items() if key != "multipart" and _is_handle(prop)]
    binary = any(arm.get("type") == "string" and arm.get("format") == "binary" for arm in arms(schema))
    if not request.content:
        return "empty raw body"
    if handles:
        if not content_type.startswith("audio/"):
            return f"stream handle {handles[0]} sent as {content_type}"
        return query_problem(schema, query, handles[0])
    if not binary:
        return f"raw {content_type} body for a model that takes JSON only"
    if query:
        return f"unexpected query parameters {query} with a raw body"
    if not content_type.startswith(("image/", "audio/")):
        return f"raw body of type {content_type}"
    return None


@dataclass
class Upstream:
    """The fake Workers AI REST API over the published catalog (an httpx2 MockTransport handler)."""

    answer: Answer | None = None
    problems: list[str] = field(default_factory=list[str])
    runs: list[httpx2.Request] = field(default_factory=list[httpx2.Request])

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = unquote(request.url.path)
        if path.endswith("/ai/models/search"):
            return self._search(dict(request.url.params))
        if path.endswith("/ai/models/schema"):
            name = request.url.params.get("model", "")
            if not any(row["name"] == name for row in index()):
                return _error(400, 5007, f"No such model {name} or task")
            return _envelope(schema_of(name))
        if "/ai/run/" in path:
            name = path.split("/ai/run/", 1)[1]
            request.read()
            self.runs.append(request)
            if not any(row["name"] == name for row in index()):
                return _error(400, 5007, f"No such model {name} or task")
            schema = schema_of(name)
            problem = run_problem(schema["input"], request) if schema else None
            if problem:
                self.problems.append(f"{name}: {problem}")
                return _error(400, 5006, f"AiError: Bad input: {problem}")
            assert self.answer is not None, "the test sets the answer before calling"
            return self.answer.response()
        return _error(404, 7000, "No route for that URI")

    def _search(self, params: dict[str, str]) -> httpx2.Response:
        rows = [{k: v for k, v in record(row["name"]).items() if k in SEARCH_FIELDS} for row in index()]
        if params.get("search"):
            rows = [row for row in rows if params["search"].lower() in str(row["name"]).lower()]
        if params.get("task"):
            rows = [row for row in rows if row["task"]["name"] == params["task"]]
        page, per_page = int(params.get("page", 1)), int(params.get("per_page", 50))
        chunk = rows[(page - 1) * per_page : page * per_page]
        info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(rows)}
        body = {"result": chunk, "result_info": info, "success": True, "errors": [], "messages": []}
        return httpx2.Response(200, json=body)


def _envelope(result: Any) -> httpx2.Response:
    return httpx2.Response(200, json={"result": result, "success": True, "errors": [], "messages": []})


def _error(status: int, code: int, message: str) -> httpx2.Response:
    body = {"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []}
    return httpx2.Response(status, json=body)
