"""`run_model`'s requests in every wire form: the input checked against the model's schema, then
sent as JSON, a multipart form (FLUX.2) or a stream handle's raw media (nova-3), media read
through the media policy (allowed folders, URL rules, size caps)."""

from __future__ import annotations

from typing import Any

from ..account.requests import fitting_input, request_for_input
from ..account.schema_check import input_problem
from ..client import InvalidRequestError, RunResult
from ..media.inputs import resolve_media
from ..state import AppState


async def run_checked(state: AppState, model: str, value: dict[str, Any], schema: dict[str, Any]) -> RunResult:
    """Check `value` against the model's input `schema` (media named by reference stand as handles; an
    empty schema checks nothing), then send it in the model's wire form."""
    problem = input_problem(schema, fitting_input(schema, value)) if schema else None
    if problem:
        raise InvalidRequestError(
            f"The input does not fit {model}'s schema, so it was not sent: {problem} "
            "(get_model_schema shows what the model accepts)."
        )

    async def resolve(reference: str, kind: str) -> tuple[bytes, str]:
        media = await resolve_media(
            reference, "audio" if kind == "audio" else "image", settings=state.settings, http=state.ai.http
        )
        return media.data, media.media_type

    return await state.ai.send(model, await request_for_input(model, schema, value, resolve))
