"""Soak: thousands of calls in one process, one session; memory, descriptors and tasks before and after.

The session is in memory (legacy mode, so `chat` streams with progress) on our server, the
emulator in process behind it. Calls cycle through a JSON tool, a streamed chat, embeddings,
an image upload from disk, raw MP3 and PNG answers saved to the output folder; faults are
injected along the way (a 503 that a retry absorbs, and malformed JSON that fails a call), so that
error paths are soaked too. Counters are taken after `warmup` calls (caches filled) and at the
end, with the session still open, and again once it is closed; the emulator keeps only its last
100 requests, so that its log does not count as our growth.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from figures import ProcessCounters, bench_settings
from mcp import Client
from mcp.types import TextContent
from PIL import Image

from workers_ai_mcp.app import create_server
from workers_ai_mcp.client import retry
from workers_ai_mcp.emulator import EmulatorState, Fault, create_emulator_app

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
CONCURRENCY = 8
KIB = 1024


def _mix(photo: Path) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("translate", {"text": "The harbour lights came on.", "target_lang": "fr"}),
        ("chat", {"prompt": "Say something short.", "max_tokens": 24}),
        ("translate", {"text": "Rain is expected tomorrow.", "target_lang": "de"}),
        ("embed", {"texts": ["a red fox", "a quick brown dog"]}),
        ("classify_image", {"image": str(photo), "top_k": 3}),
        ("chat", {"prompt": "Name a colour.", "max_tokens": 16}),
        ("text_to_speech", {"text": "Good morning.", "model": "@cf/deepgram/aura-1", "voice": "luna"}),
        ("translate", {"text": "Where is the station?", "target_lang": "es"}),
        ("generate_image", {"prompt": "a small boat", "model": SDXL, "width": 256, "height": 256, "steps": 1}),
        ("classify_text", {"text": "What a lovely day."}),
    ]


@dataclass
class Soak:
    calls: int
    warmup: int
    seconds: float = 0.0
    ok: int = 0
    errors: list[str] = field(default_factory=list[str])
    faults: dict[str, int] = field(default_factory=dict[str, int])
    counters: dict[str, ProcessCounters] = field(default_factory=dict[str, ProcessCounters])

    def growth(self, start: str, end: str) -> dict[str, int]:
        a, b = self.counters[start], self.counters[end]
        return {
            "rss_kib": b.rss_kib - a.rss_kib,
            "fds": b.fds - a.fds,
            "tasks": b.tasks - a.tasks,
            "objects": b.objects - a.objects,
        }

    def figures(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "warmup_calls": self.warmup,
            "succeeded": self.ok,
            "errors": len(self.errors),
            "faults_injected": self.faults,
            "seconds": round(self.seconds, 1),
            "counters": {name: vars(counter) for name, counter in self.counters.items()},
            "growth_after_warmup": self.growth("after_warmup", "at_end"),
            "growth_from_session_start": self.growth("before_session", "at_end"),
            "left_after_close": self.growth("before_session", "after_close"),
            "first_errors": self.errors[:3],
        }


def _photo(folder: Path) -> Path:
    path = folder / "photo.png"
    out = io.BytesIO()
    Image.new("RGB", (96, 64), (30, 120, 200)).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


async def soak(calls: int, folder: Path, *, warmup: int = 200) -> Soak:
    """Make `calls` calls (the first `warmup` of them before the baseline counters) and count what grew.

    Retries back off by zero seconds here: a soak measures what calls leave behind, not how long they wait.
    """
    initial_delay, retry.INITIAL_DELAY = retry.INITIAL_DELAY, 0.0
    try:
        return await _soak(calls, folder, warmup)
    finally:
        retry.INITIAL_DELAY = initial_delay


async def _soak(calls: int, folder: Path, warmup: int) -> Soak:
    folder.mkdir(parents=True, exist_ok=True)
    mix = _mix(_photo(folder))
    state = EmulatorState(record_limit=100)
    server = create_server(bench_settings(folder), transport=httpx2.ASGITransport(app=create_emulator_app(state)))
    result = Soak(calls, warmup, faults={"UNAVAILABLE_503": 0, "MALFORMED_JSON": 0})
    expected_errors = ("not valid JSON", "stream chunk that is not JSON")

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        return None

    async def one(client: Client, number: int) -> None:
        tool, arguments = mix[number % len(mix)]
        answer = await client.call_tool(tool, arguments, progress_callback=progress)
        if not answer.is_error:
            result.ok += 1
            return
        text = "".join(block.text for block in answer.content if isinstance(block, TextContent))
        result.errors.append(text if any(e in text for e in expected_errors) else f"UNEXPECTED: {text}")

    async def run(client: Client, numbers: range) -> None:
        for start in range(numbers.start, numbers.stop, CONCURRENCY):
            batch = range(start, min(start + CONCURRENCY, numbers.stop))
            if start % 200 == 40:  # a 503 for some call of this batch: its retry absorbs it
                state.inject(Fault.UNAVAILABLE_503)
                result.faults["UNAVAILABLE_503"] += 1
            if start % 1000 == 520:  # malformed JSON: that call fails, clearly
                state.inject(Fault.MALFORMED_JSON)
                result.faults["MALFORMED_JSON"] += 1
            async with anyio.create_task_group() as group:
                for number in batch:
                    group.start_soon(one, client, number)

    result.counters["before_session"] = ProcessCounters.now()
    started = time.perf_counter()
    async with Client(server, mode="legacy") as client:
        await run(client, range(warmup))
        result.counters["after_warmup"] = ProcessCounters.now()
        await run(client, range(warmup, calls))
        result.counters["at_end"] = ProcessCounters.now()
    result.seconds = time.perf_counter() - started
    result.counters["after_close"] = ProcessCounters.now()
    return result
