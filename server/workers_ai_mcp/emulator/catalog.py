"""Catalog routes (`ai/models/search`, `ai/models/schema`) and token verification."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .envelope import CloudflareError, no_such_model, ok, success
from .model_spec import ModelSpec
from .registry import find, models

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 1000


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("true", "1")


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise CloudflareError(400, 1001, f"Invalid value for query parameter '{name}': {raw!r}") from None
    return min(max(value, low), high)


def _matches(spec: ModelSpec, request: Request) -> bool:
    q = request.query_params
    search, task, author, source = (q.get(k, "").strip().lower() for k in ("search", "task", "author", "source"))
    if search and search not in spec.name.lower() and search not in spec.description.lower():
        return False
    if task and task not in (spec.task.name.lower(), spec.task.id):
        return False
    if author and author != spec.author.lower():
        return False
    if source and source != str(spec.source):
        return False
    if _flag(request, "hide_experimental") and spec.experimental:
        return False
    return _flag(request, "include_deprecated") or not spec.deprecated()


async def search_models(request: Request) -> Response:
    page = _int_param(request, "page", 1, 1, 1_000_000)
    per_page = _int_param(request, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    found = [spec for spec in models().values() if _matches(spec, request)]
    rows = [spec.search_row() for spec in found[(page - 1) * per_page : page * per_page]]
    info = {"page": page, "per_page": per_page, "count": len(rows), "total_count": len(found)}
    return JSONResponse({**success(rows), "result_info": info})


async def model_schema(request: Request) -> Response:
    name = request.query_params.get("model", "")
    if not name:
        raise CloudflareError(400, 3003, "Request is missing headers or body: model (query parameter)")
    spec = find(name)
    if spec is None:
        raise no_such_model(name)
    if spec.input_schema is None or spec.output_schema is None:
        raise CloudflareError(404, 5007, f"No schema is published for model {name}", result={})
    return ok({"input": spec.input_schema, "output": spec.output_schema})


async def verify_token(request: Request) -> Response:
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    token_id = hashlib.blake2b(token.encode(), digest_size=16).hexdigest()  # an id, never the token itself
    body = success({"id": token_id, "status": "active"})
    body["messages"] = [{"code": 10000, "message": "This API Token is valid and active", "type": None}]
    return JSONResponse(body)
