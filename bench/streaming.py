"""Streaming: delay from the emulator emitting a token to the client reading the matching progress notification.

`chat` with a progress token over stdio, the emulator on loopback with `token_delay` 0.02 s. The
emulator does not timestamp its chunks, so `bench/emulator_host.py` does: it logs the
`time.monotonic()` at which each SSE body chunk is handed to uvicorn and how many text tokens it
carries. The client logs when each `notifications/progress` line is read (same clock, CLOCK_MONOTONIC).
Our chat sends `progress = tokens so far`, throttled (at most one per 100 ms unless 16 tokens
arrived, `tools/host/progress.py`), so notification k is matched to the emission of token k. The
last notification of a call, sent after the stream ended (`StreamProgress.finish`), is reported
apart: its delay is the wait for the stream's end, not transport.

`python bench/streaming.py [--calls N]`
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from typing import Any, cast

from benchlib import OURS, Emulator, Json, StdioServer, emulator_env, summary, tool_error_text, write_json

TOKEN_DELAY = 0.02
# 32 words are echoed back, so each answer is about 40-60 tokens long (about a second at 20 ms a token).
PROMPT = " ".join(f"word{i}" for i in range(32))


def ms(values: list[float]) -> list[float]:
    return [value * 1000 for value in values]


def run(calls: int = 12) -> dict[str, Any]:
    in_stream: list[float] = []
    final: list[float] = []
    gaps: list[float] = []
    token_gaps: list[float] = []
    per_call: list[int] = []
    tokens_per_call: list[int] = []
    with (
        Emulator(token_delay=TOKEN_DELAY) as emulator,
        StdioServer(OURS, env=emulator_env(emulator.base_url), log_name="streaming") as ours,
    ):
        ours.initialize()
        ours.call("chat", {"prompt": "warm up", "max_tokens": 8}, progress_token="warm")
        for index in range(calls):
            emulator.reset()
            ours.notifications.clear()
            token = f"call-{index}"
            answer = ours.call("chat", {"prompt": PROMPT, "max_tokens": 256, "seed": index + 1}, progress_token=token)
            if error := tool_error_text(answer):
                raise RuntimeError(f"chat failed: {error}")
            streams = cast(list[list[list[Any]]], emulator.state()["streams"])
            if len(streams) != 1:
                raise RuntimeError(f"expected one streamed answer, the emulator logged {len(streams)}")
            emitted: list[float] = []  # emission time of token k at index k-1
            end_time = None
            for at, count, end in streams[0]:
                emitted += [float(at)] * int(count)
                if end and end_time is None:
                    end_time = float(at)
            token_gaps += [b - a for a, b in zip(emitted, emitted[1:], strict=False)]
            notes = [
                n
                for n in ours.notifications
                if n.body.get("method") == "notifications/progress"
                and cast(Json, n.body.get("params", {})).get("progressToken") == token
            ]
            per_call.append(len(notes))
            tokens_per_call.append(len(emitted))
            received = [n.received for n in notes]
            gaps += [b - a for a, b in zip(received, received[1:], strict=False)]
            for note in notes:
                progress = int(cast(Json, note.body["params"])["progress"])
                if end_time is not None and note.received > end_time:
                    final.append(note.received - emitted[-1])
                elif 1 <= progress <= len(emitted):
                    in_stream.append(note.received - emitted[progress - 1])
    results: dict[str, Any] = {
        "calls": calls,
        "token_delay_s": TOKEN_DELAY,
        "tokens_per_call": statistics.median(tokens_per_call),
        "notifications_per_call": statistics.median(per_call),
        "delay_ms": summary(ms(in_stream)),
        "final_notification_delay_ms": summary(ms(final)),
        "notification_interarrival_ms": summary(ms(gaps)),
        "token_interval_ms": summary(ms(token_gaps)),
    }
    write_json("streaming", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    d, f = results["delay_ms"], results["final_notification_delay_ms"]
    g, t = results["notification_interarrival_ms"], results["token_interval_ms"]
    return [
        f"streaming chat, token delay {results['token_delay_s'] * 1000:.0f} ms, {results['calls']} calls "
        f"(~{results['tokens_per_call']:.0f} tokens, ~{results['notifications_per_call']:.0f} notifications each):",
        f"  token emitted → progress read: p50 {d['median']:.2f} ms, p99 {d['p99']:.2f} ms (n={d['n']})",
        f"  final notification after the last token: p50 {f['median']:.1f} ms, p99 {f['p99']:.1f} ms",
        f"  notification inter-arrival p50 {g['median']:.0f} ms (throttle 100 ms); emulator token interval "
        f"p50 {t['median']:.1f} ms",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=12)
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.calls))))


if __name__ == "__main__":
    main()
