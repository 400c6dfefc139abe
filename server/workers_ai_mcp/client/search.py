"""AI Search (formerly AutoRAG): list instances, search one (retrieval only), ask one (retrieval + answer).

Paths and shapes as Cloudflare publishes them (cloudflare/cloudflare-typescript
`src/resources/aisearch/instances/instances.ts`; developers.cloudflare.com/ai-search/api/search/rest-api/;
recorded in tests/recorded/search/): `GET ai-search/instances` (V4 page: `result` list plus
`result_info`), `POST ai-search/instances/{id}/search` (envelope, `result: {chunks, search_query}`) and
`POST ai-search/instances/{id}/chat/completions` (an OpenAI chat completion plus `chunks`, not wrapped in
the envelope). Bodies take `messages` and `ai_search_options` (`retrieval`, `reranking`,
`query_rewrite`). These are account APIs, not Workers AI model routes: AI Gateway's `workers-ai`
provider proxies only `run/` and `v1/`, so they always go to the API itself (an instance routes its own
model calls through the gateway set on it, `ai_gateway_id`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..jsonvalues import as_dict, dicts
from .client import WorkersAIClient
from .errors import APIStatusError, AuthenticationError, InvalidRequestError, PermissionDeniedError
from .request import Request
from .results import JsonResult

# Cloudflare: "AI Search instance ID. Lowercase alphanumeric, hyphens, and underscores", 1-64 characters.
INSTANCE_ID = re.compile(r"[a-z0-9_-]{1,64}")
NEEDS_PERMISSION = (
    "Cloudflare refused the AI Search call: the API token needs the AI Search permissions "
    "(Account > AI Search:Run to search and ask, AI Search:Edit or Read to list instances) for this account."
)


@dataclass(frozen=True)
class InstancePage:
    instances: list[dict[str, Any]]
    total: int | None


def check_instance(name: str) -> str:
    """`name` when it is an AI Search instance id; it becomes part of a path, so nothing else passes."""
    if not INSTANCE_ID.fullmatch(name):
        raise InvalidRequestError(
            f"{name[:70]!r} is not an AI Search instance id (lowercase letters, digits, '-' and '_', "
            "at most 64); list_search_instances shows them."
        )
    return name


async def list_instances(client: WorkersAIClient, *, page: int = 1, per_page: int = 20) -> InstancePage:
    params = {"page": str(page), "per_page": str(per_page)}
    envelope = await _call(client, "GET", "ai-search/instances", params=params, raw=True)
    info = as_dict(envelope.object.get("result_info"))
    total = info.get("total_count")
    return InstancePage(dicts(envelope.object.get("result")), total if isinstance(total, int) else None)


async def search(client: WorkersAIClient, instance: str, body: Mapping[str, Any]) -> JsonResult:
    """Retrieval only: `result` is `{chunks: [{id, score, text, type, item: {key, ...}}], search_query}`."""
    return await _call(client, "POST", f"ai-search/instances/{check_instance(instance)}/search", body=body)


async def ask(client: WorkersAIClient, instance: str, body: Mapping[str, Any]) -> JsonResult:
    """Retrieval and an answer: a chat completion (`choices`) with the `chunks` it was given."""
    path = f"ai-search/instances/{check_instance(instance)}/chat/completions"
    return await _call(client, "POST", path, body=body)


async def _call(
    client: WorkersAIClient,
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
    raw: bool = False,
) -> JsonResult:
    request = Request(inputs=dict(body)) if body is not None else None
    try:
        result = await client.account_call(method, path, request=request, params=params, raw=raw)
    except (AuthenticationError, PermissionDeniedError) as exc:
        raise _needs_permission(exc) from None
    if not isinstance(result, JsonResult):
        raise InvalidRequestError("AI Search answered with binary data, which it never should.")
    return result


def _needs_permission(exc: APIStatusError) -> APIStatusError:
    said = f" (Cloudflare said: {exc.upstream_message[:200]})" if exc.upstream_message else ""
    return type(exc)(
        f"{NEEDS_PERMISSION}{said}", status=exc.status, code=exc.code,
        upstream_message=exc.upstream_message, request_id=exc.request_id,
    )  # fmt: skip
