"""Mutable emulator state: injected faults, latency, recorded requests, batch jobs, gateway cache."""

from __future__ import annotations

import enum
import itertools
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

# Ids come from a counter run through uuid5, so a fresh emulator hands out the same ids in the same order.
_ID_NAMESPACE = uuid.UUID("5b0e4b39-6a51-4f0c-9a5e-2f7f3c6d9e10")


class Fault(enum.Enum):
    """One injected failure; each is consumed by the next `/ai/...` request (FIFO)."""

    RATE_LIMIT_3040 = "RATE_LIMIT_3040"
    RATE_LIMIT_3040_RETRY_AFTER = "RATE_LIMIT_3040_RETRY_AFTER"
    DAILY_LIMIT_3036 = "DAILY_LIMIT_3036"  # the code Cloudflare's error table documents
    DAILY_LIMIT_4006 = "DAILY_LIMIT_4006"  # the code the live API sends (tests/recorded/errors)
    SERVER_ERROR_500 = "SERVER_ERROR_500"
    BAD_GATEWAY_HTML_502 = "BAD_GATEWAY_HTML_502"
    UNAVAILABLE_503 = "UNAVAILABLE_503"
    GATEWAY_TIMEOUT_504 = "GATEWAY_TIMEOUT_504"
    CONNECTION_RESET = "CONNECTION_RESET"
    HANG = "HANG"
    MALFORMED_JSON = "MALFORMED_JSON"
    TRUNCATED_SSE = "TRUNCATED_SSE"

    @classmethod
    def parse(cls, name: str) -> Fault:
        """Fault from its name, case-insensitively; ValueError listing the valid names otherwise."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            valid = ", ".join(f.name for f in cls)
            raise ValueError(f"unknown fault {name!r}; valid: {valid}") from None


@dataclass
class RecordedRequest:
    """What the emulator saw of one request; `status` is None until an answer starts (or if none ever does)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body_size: int
    content_type: str | None
    model: str | None
    status: int | None = None


@dataclass
class BatchJob:
    request_id: str
    model: str
    result: dict[str, Any]
    polls: int = 0


@dataclass
class CachedAnswer:
    status: int
    media_type: str | None
    body: bytes
    expires_at: float


class GatewayCache:
    """Small LRU of AI Gateway answers keyed by (path or cf-aig-cache-key, body)."""

    def __init__(self, max_entries: int = 128) -> None:
        self._entries: OrderedDict[tuple[str, bytes], CachedAnswer] = OrderedDict()
        self._max = max_entries

    def get(self, key: tuple[str, bytes]) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, bytes], entry: CachedAnswer) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(eq=False)
class EmulatorState:
    """Knobs and counters of one emulator app (`app.state.emulator`)."""

    latency: float = 0.0
    token_delay: float = 0.0
    faults: deque[Fault] = field(default_factory=lambda: deque[Fault]())
    gateway_token: str | None = None
    requests: list[RecordedRequest] = field(default_factory=lambda: list[RecordedRequest]())
    connections: set[tuple[str, int]] = field(default_factory=lambda: set[tuple[str, int]]())
    # Total requests since the last reset; `requests` keeps only the newest `record_limit` of them,
    # so a long benchmark against an in-process emulator does not grow without bound.
    request_count: int = 0
    record_limit: int = 1000
    batch_jobs: OrderedDict[str, BatchJob] = field(default_factory=lambda: OrderedDict[str, BatchJob]())
    gateway_cache: GatewayCache = field(default_factory=GatewayCache)
    # The account's free daily allocation, in neurons: None is unlimited; each inference request spends
    # `neurons_per_call`, and once none are left every inference request is answered 429 / 4006, as the
    # live API does (tests/recorded/errors/4006_daily_free_allocation.json).
    free_neurons: float | None = None
    neurons_per_call: float = 1.0
    # The last prompt per (session affinity, model), for `cached_tokens` (emulator/tool_use.py).
    prefixes: dict[int, str] = field(default_factory=dict[int, str])
    # Models that are at capacity: a request with `options.rejectIfBusy` is refused 429/3040 at once,
    # any other waits `busy_wait` seconds in the queue first.
    busy: set[str] = field(default_factory=set[str])
    busy_wait: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def spend_free_neurons(self) -> bool:
        """Spend one call's neurons from the free allocation; False when it was already used up."""
        if self.free_neurons is None:
            return True
        if self.free_neurons <= 0:
            return False
        self.free_neurons -= self.neurons_per_call
        return True

    def reset_counters(self) -> None:
        self.requests.clear()
        self.connections.clear()
        self.request_count = 0

    def record(self, request: RecordedRequest) -> None:
        self.request_count += 1
        self.requests.append(request)
        excess = len(self.requests) - self.record_limit
        if excess > 0:
            del self.requests[:excess]

    def new_id(self) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, str(next(self._ids))))

    def add_batch_job(self, job: BatchJob, max_jobs: int = 100) -> None:
        self.batch_jobs[job.request_id] = job
        while len(self.batch_jobs) > max_jobs:
            self.batch_jobs.popitem(last=False)
