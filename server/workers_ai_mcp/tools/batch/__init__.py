"""Batch tools: submit_batch, get_batch, list_batches (Workers AI's asynchronous batch API).

Over 300 lines because the three tools share one job index and one reading of a job's states;
shaping a finished job's results lives in `results.py`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from mcp.types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from ...catalog.model_input import without_batch_branch
from ...catalog.models import ModelInfo
from ...catalog.schema_check import input_problem
from ...client import (
    BadRequestError,
    InvalidRequestError,
    NotFoundError,
    ResponseDecodeError,
    WorkersAIError,
)
from ...jsonvalues import as_dict, dicts
from ...media.outputs import SavedFile
from ...media.vectors import inline_limit, json_size, save_json
from ...spending.batch_store import BatchRecord, BatchState, BatchStore, utc_now
from ...spending.caller import Caller, acting_as, current_caller
from ...state import AppState
from ..host.advice import error_text
from ..host.call_info import CallInfo
from ..host.common import WRITES_OUTPUT, AppContext, add_inference_tool, state_of
from ..host.links import resource_link
from ..host.registry import Registry
from ..host.samples import CHEAP_MODEL, Earlier, Samples
from .results import BatchItem, batch_items

MAX_PAYLOAD_BYTES = 10_000_000  # "Ensure that the total payload is under 10 MB" (Workers AI batch docs)
MAX_ITEMS = 10_000
_SHOWN_PROBLEMS = 3

POLLS = ToolAnnotations(
    title="Get a batch job", read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
LOCAL_READ = ToolAnnotations(
    title="List batch jobs", read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

JobId = Annotated[str, Field(min_length=1, max_length=128, description="The job_id submit_batch returned.")]


class BatchSubmitted(BaseModel):
    """A queued batch job."""

    job_id: str = Field(description="Pass to get_batch to check on the job and fetch its results.")
    model: str
    count: int = Field(description="Number of inputs queued.")
    status: BatchState
    submitted_at: str
    payload_bytes: int


class BatchStatus(BaseModel):
    """Where a batch job stands; its results, in input order, once done."""

    job_id: str
    model: str
    status: BatchState
    count: int
    submitted_at: str
    checked_at: str | None = None
    results: list[BatchItem] | None = Field(default=None, description="In input order; null until done.")
    results_truncated: bool = Field(default=False, description="True when only the first results are shown.")
    results_file: str | None = Field(default=None, description="Path of the JSON file holding every result.")
    results_uri: str | None = None
    call: dict[str, Any] | None = Field(default=None, description="Usage and estimated cost of the whole batch.")
    note: str


class BatchList(BaseModel):
    """Batch jobs submitted from this installation, newest first."""

    jobs: list[BatchRecord]
    total: int
    note: str


def _store(state: AppState) -> BatchStore:
    return BatchStore(state.ai.spending.store, legacy_folder=state.settings.output_dir)


def _origin(state: AppState) -> str:
    """Where this process queues jobs: the account, or its own in-process emulator (jobs held in memory)."""
    if state.settings.emulator:
        return f"emulator:{state.ai.spending.store.instance}"
    return f"account:{state.settings.account_id}"


async def submit_batch(
    model: Annotated[str, Field(min_length=3, max_length=160, description="Model id; it must accept batches.")],
    inputs: Annotated[
        list[dict[str, Any]],
        Field(
            min_length=1,
            max_length=MAX_ITEMS,
            description="One model input per item (as for run_model); an item may add an "
            "'external_reference' string, which comes back with its result.",
        ),
    ],
    ctx: AppContext,
) -> BatchSubmitted:
    """Queue many inputs for one batch-capable model and return a job id at once; poll it with get_batch."""
    state = state_of(ctx)
    info = await state.ai.model_info(model)  # checks the id first
    if info is None:
        raise InvalidRequestError(f"{model} is not in the Workers AI catalog; list_models shows the models there are.")
    if not info.batch:
        raise InvalidRequestError(
            f"{model} does not accept batches (its catalog entry has no async_queue property), so nothing was "
            f"sent. {await _batch_models_hint(state, info)}"
        )
    schema = await state.ai.model_schema(model)
    _check_items(model, without_batch_branch(as_dict(schema.get("input"))), inputs)
    size = len(json.dumps({"requests": inputs}, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidRequestError(
            f"The batch is {size / 1_000_000:.1f} MB; Workers AI takes at most 10 MB per batch, so nothing was "
            "sent. Split the inputs into smaller batches."
        )
    queued = await state.ai.queue_batch(model, inputs)
    data = queued.object
    job_id = data.get("request_id")
    if not isinstance(job_id, str) or not job_id:
        raise ResponseDecodeError("Workers AI accepted the batch but sent no request_id to follow it by.")
    status: BatchState = "running" if data.get("status") == "running" else "queued"
    record = BatchRecord(
        job_id=job_id, model=model, count=len(inputs), submitted_at=utc_now(), status=status, origin=_origin(state),
        user_id=current_caller().user_id,
    )  # fmt: skip
    await _store(state).add(record)
    return BatchSubmitted(
        job_id=job_id,
        model=model,
        count=len(inputs),
        status=status,
        submitted_at=record.submitted_at,
        payload_bytes=size,
    )


async def get_batch(job_id: JobId, ctx: AppContext) -> Annotated[CallToolResult, BatchStatus]:
    """Check a batch job: queued, running, or done with its results in input order (also saved as JSON)."""
    state = state_of(ctx)
    store = _store(state)
    record = await store.get(job_id, current_caller())
    if record is None:  # another user's job is answered as one never submitted
        raise InvalidRequestError(
            f"No batch job {job_id!r} of yours was submitted from this installation; list_batches shows those that "
            "were."
        )
    if record.status == "done" and record.results_file:
        document = _read_results(state, record.results_file)
        if document is not None:
            return _done(state, record, document)
    await _check_reachable(state, store, record)
    try:
        with acting_as(Caller(record.user_id)):  # its results are priced and counted for whoever submitted it
            polled = await state.ai.poll_batch(record.model, job_id)
    except (BadRequestError, NotFoundError) as exc:
        # The poll's body is only the job id, so a rejection means the job is not known there.
        await _mark_lost(state, store, record)
        raise WorkersAIError(
            f"Workers AI no longer knows batch job {job_id} (its results may have expired); it is now marked "
            f"lost in list_batches. Submit the inputs again if they are still needed. Cloudflare said: "
            f"{exc.upstream_message or error_text(exc)}"
        ) from None
    data = polled.object
    now = utc_now()
    if "responses" not in data:
        await _check_not_ended(state, store, record, data.get("status"))
        status: BatchState = "running" if data.get("status") == "running" else "queued"
        record = record.model_copy(update={"status": status, "checked_at": now})
        await store.update(record)
        note = f"The job is {status}; call get_batch again in a little while."
        return _result(BatchStatus(**record.model_dump(exclude={"results_file", "user_id"}), note=note))
    call = CallInfo.from_meta(polled.meta)
    items = batch_items(state.outputs, job_id, dicts(data.get("responses")))
    document = {
        "job_id": job_id,
        "model": record.model,
        "completed_at": now,
        "call": call.model_dump(mode="json"),
        "results": [item.model_dump(mode="json") for item in items],
    }
    saved = save_json(state.outputs, document, stem=f"batch-{job_id[:8]}")
    record = record.model_copy(update={"status": "done", "checked_at": now, "results_file": saved.name})
    await store.update(record)
    return _done(state, record, document)


async def list_batches(
    ctx: AppContext,
    limit: Annotated[int, Field(ge=1, le=200, description="Most jobs to list.")] = 20,
) -> BatchList:
    """List your batch jobs submitted from here (an admin's: everyone's), newest first, with their last known
    status. Free."""
    jobs = await _store(state_of(ctx)).newest_first(current_caller())
    note = "Statuses are as last checked; get_batch refreshes a job and fetches its results."
    return BatchList(jobs=jobs[:limit], total=len(jobs), note=note)


# ---- helpers -------------------------------------------------------------------------------------


async def _check_reachable(state: AppState, store: BatchStore, record: BatchRecord) -> None:
    """Refuse plainly to poll a job that this process cannot reach (marking it lost where it is gone)."""
    origin = record.origin
    if record.status == "lost":
        raise InvalidRequestError(
            f"Batch job {record.job_id} is lost: its results could not be fetched when it was last checked "
            f"({record.checked_at}). Submit the inputs again if they are still needed."
        )
    if origin is None or origin == _origin(state):
        return
    if origin.startswith("emulator:"):
        await _mark_lost(state, store, record)
        raise InvalidRequestError(
            f"Batch job {record.job_id} was queued in the built-in emulator of another server process "
            f"(process {origin.removeprefix('emulator:').split('-')[0]}), which keeps its jobs in memory only, so "
            "its results cannot be fetched here; it is now marked lost in list_batches. Submit the inputs again."
        )
    if state.settings.emulator or origin.startswith("account:"):
        where = "the built-in emulator" if state.settings.emulator else f"account {state.settings.account_id}"
        raise InvalidRequestError(
            f"Batch job {record.job_id} was queued with Cloudflare account {origin.removeprefix('account:')}, "
            f"and this server uses {where}; get it from a server configured with that account."
        )


async def _check_not_ended(state: AppState, store: BatchStore, record: BatchRecord, status: object) -> None:
    """A status other than queued or running (failed, cancelled, ...) ends the job: it will bring no results,
    so polling on would go on for ever. The job is marked failed and its budget hold dropped."""
    if not isinstance(status, str) or status.lower() in ("queued", "running", ""):
        return
    await store.update(record.model_copy(update={"status": "failed", "checked_at": utc_now()}))
    await state.ai.spending.forget_batch(record.job_id)
    raise WorkersAIError(
        f"Workers AI reports batch job {record.job_id} as {status[:40]!r}: it will bring no results, so it is "
        "marked failed in list_batches. Submit the inputs again (submit_batch) if they are still needed."
    )


async def _mark_lost(state: AppState, store: BatchStore, record: BatchRecord) -> None:
    await store.update(record.model_copy(update={"status": "lost", "checked_at": utc_now()}))
    await state.ai.spending.forget_batch(record.job_id)


async def _batch_models_hint(state: AppState, info: ModelInfo) -> str:
    if not info.task:
        return "Choose a model whose catalog entry lists async_queue (list_models shows properties)."
    try:
        page = await state.ai.search_models(task=info.task, per_page=100)
    except WorkersAIError:
        page = None
    infos = [ModelInfo.from_row(row) for row in page.models] if page else []
    names = [other.name for other in infos if other.batch][:3]
    if names:
        return f"{info.task} models that do: {', '.join(names)}."
    return f"No {info.task} model in the catalog accepts batches; call the model once per input instead."


def _check_items(model: str, schema: dict[str, Any], inputs: list[dict[str, Any]]) -> None:
    problems: list[str] = []
    for index, item in enumerate(inputs):
        where = f"inputs[{index}]"
        reference = item.get("external_reference")
        body = {key: value for key, value in item.items() if key != "external_reference"}
        if reference is not None and not isinstance(reference, str):
            problems.append(f"{where}.external_reference: must be a string")
        elif "requests" in body or "request_id" in body:
            problems.append(f"{where}: must be one model input, not a batch")
        elif body.get("stream") is True:
            problems.append(f"{where}.stream: batches cannot stream")
        elif schema and (problem := input_problem(schema, body)):
            problems.append(where + problem.removeprefix("input"))
    if problems:
        shown = "; ".join(problems[:_SHOWN_PROBLEMS]) + ("; ..." if len(problems) > _SHOWN_PROBLEMS else "")
        raise InvalidRequestError(
            f"{len(problems)} of {len(inputs)} inputs do not fit {model}'s input schema, so nothing was sent: "
            f"{shown} (get_model_schema shows what the model accepts)."
        )


def _read_results(state: AppState, name: str) -> dict[str, Any] | None:
    try:
        data, _ = state.outputs.read(name)
        return as_dict(json.loads(data)) or None
    except (WorkersAIError, ValueError):
        return None  # gone or damaged: poll again


def _done(state: AppState, record: BatchRecord, document: dict[str, Any]) -> CallToolResult:
    items = [BatchItem.model_validate(item) for item in dicts(document.get("results"))]
    limit = min(RESULTS_INLINE_BYTES, inline_limit(state.settings))
    shown: list[BatchItem] = []
    used = 0
    for item in items:
        used += json_size(item.model_dump(mode="json"))
        if used > limit:
            break
        shown.append(item)
    path = state.outputs.folder / record.results_file if record.results_file else None
    truncated = len(shown) < len(items)
    note = f"Done: {len(items)} results in input order."
    if truncated:
        note += f" Showing the first {len(shown)}; every result is in {path}."
    call = document.get("call")
    status = BatchStatus(
        **record.model_dump(exclude={"results_file", "user_id"}),
        results=shown,
        results_truncated=truncated,
        results_file=str(path) if path else None,
        results_uri=f"workers-ai://outputs/{record.results_file}" if record.results_file else None,
        call=as_dict(call) or None,
        note=note,
    )
    links: list[ContentBlock] = []
    if record.results_file and path is not None and path.is_file():
        saved = SavedFile(path=path, name=record.results_file, media_type="application/json", size=path.stat().st_size)
        links.append(resource_link(saved, f"All results of batch {record.job_id}"))
    return _result(status, links)


def _result(status: BatchStatus, extra: list[ContentBlock] | None = None) -> CallToolResult:
    structured = status.model_dump(mode="json")
    text = TextContent(type="text", text=json.dumps(structured, ensure_ascii=False))
    return CallToolResult(content=[text, *(extra or [])], structured_content=structured)


# Results shown inline by get_batch, in bytes of compact JSON: a few KB (the first results), the rest
# in the results file, so that 50 embeddings do not fill the assistant's context.
RESULTS_INLINE_BYTES = 6_000

# Tools whose request is not idempotent: after a failure that may have reached Cloudflare (a 5xx, a
# connection dropped once the request was sent) it is not sent again (see client.queue_batch).
SENT_ONCE = frozenset({"submit_batch"})

SAMPLES: Samples = {
    "submit_batch": {"model": CHEAP_MODEL, "inputs": [{"text": "hello world"}]},
    "get_batch": {"job_id": Earlier("submit_batch", "job_id")},
    "list_batches": {"limit": 1},
}


def register(server: Registry) -> None:
    """Add the batch tools to `server`."""
    add_inference_tool(server, submit_batch, title="Submit a batch job", annotations=WRITES_OUTPUT)
    server.add_tool(get_batch, title="Get a batch job", annotations=POLLS, list_output_schema=False)
    server.add_tool(list_batches, title="List batch jobs", annotations=LOCAL_READ, list_output_schema=False)
