"""Async batch (`?queueRequest=true`): queue a `requests` list, then poll it by `request_id`.

Deterministic schedule: the first poll answers `running`, the second and later the result.
"""

from __future__ import annotations

import uuid
from typing import Any

from .dispatch import answer
from .envelope import JsonObj, as_list, as_obj, bad_input
from .forms import ModelInput
from .model_spec import ModelSpec
from .results import Ids
from .state import BatchJob, EmulatorState


def _usage(results: list[Any]) -> JsonObj:
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for result in results:
        usage = as_obj((as_obj(result) or {}).get("usage")) or {}
        for key in totals:
            value = usage.get(key, 0)
            totals[key] += value if isinstance(value, int) else 0
    return totals


def enqueue(state: EmulatorState, spec: ModelSpec, payload: JsonObj, created: int) -> JsonObj:
    if not spec.async_queue:
        raise bad_input(f"model {spec.name} does not take async batch requests (no async_queue)")
    requests = [as_obj(item) or {} for item in as_list(payload.get("requests")) or []]
    if not requests:
        raise bad_input("required properties at '/' are 'requests'")
    # Random, not from the emulator's counter: two emulator processes must never hand out the same job id
    # (a server keeps its jobs in a store shared with other processes).
    request_id = str(uuid.uuid4())
    results = [
        answer(spec, ModelInput({k: v for k, v in r.items() if k != "external_reference"}), Ids(request_id, created))
        for r in requests
    ]
    responses = [
        {"id": i, "result": result, "success": True, "external_reference": request.get("external_reference")}
        for i, (request, result) in enumerate(zip(requests, results, strict=True))
    ]
    state.add_batch_job(BatchJob(request_id, spec.name, {"responses": responses, "usage": _usage(results)}))
    return {"status": "queued", "request_id": request_id, "model": spec.name}


def poll(state: EmulatorState, request_id: str) -> JsonObj:
    job = state.batch_jobs.get(request_id)
    if job is None:
        raise bad_input(f"no queued request with id {request_id} at '/request_id'")
    job.polls += 1
    if job.polls == 1:
        return {"status": "running", "request_id": request_id, "model": job.model}
    return job.result
