"""Models that answer only when streamed (moondream), as recorded from the live API.

Unstreamed, moondream answers `{"result": {}}` (tests/recorded/responses/moondream_run_empty_result.json);
streamed, it sends status events whose usage carries the tokens (and neurons), `chunk` events whose
`answer` is the answer so far, a terminal event with the whole `output` array, and a native
`{"response": "", "usage"}` event with zero tokens and the call's total neurons
(tests/recorded/streams/moondream_run_stream_status_events.json). Which models: an image-to-text model
whose input schema takes `stream`; moondream is the only one in the catalog today.
"""

from __future__ import annotations

from starlette.responses import Response

from .envelope import JsonObj
from .generate_text import PROMPT_NEURONS, TOKEN_NEURONS, count_tokens, dumps_compact
from .model_spec import ModelSpec
from .streaming import sse_response

_METRICS = {"decode_time_ms": 0, "input_tokens": 0, "output_tokens": 0, "prefill_time_ms": 0, "ttft_ms": 0}
IMAGE_TOKENS = 729  # what an image costs the emulated moondream, in prompt tokens


def answers_only_streamed(spec: ModelSpec) -> bool:
    return spec.task.name == "Image-to-Text" and "stream" in spec.input_fields


def _usage(prompt: int, completion: int, neurons: float) -> JsonObj:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "neurons": neurons,
    }


def skill_stream(answer: str, question: str, *, ident: str, task: str, delay: float) -> Response:
    """The recorded event sequence for `answer` (cumulative chunks, one per word)."""
    words = answer.split(" ")
    so_far = [" ".join(words[: i + 1]) for i in range(len(words))]
    prompt, completion = IMAGE_TOKENS + count_tokens(question), len(words)
    prompt_neurons, answer_neurons = prompt * PROMPT_NEURONS, completion * TOKEN_NEURONS
    zero = _usage(0, 0, 0)
    items = [{"answer": text, "caption": None, "finish_reason": "", "metrics": _METRICS, "objects": None,
              "points": None, "reasoning": None} for text in so_far]  # fmt: skip
    events: list[JsonObj] = [
        {"id": ident, "status": "processing", "usage": zero},
        {"mode": "replace", "name": "task", "value": task, "usage": zero},
        {"mode": "replace", "name": "input_tokens", "value": prompt, "usage": _usage(prompt, 0, prompt_neurons)},
        {
            "mode": "replace",
            "name": "output_tokens",
            "value": completion,
            "usage": _usage(prompt, completion, answer_neurons),
        },  # fmt: skip
        *({"chunk": item, "index": i, "usage": zero} for i, item in enumerate(items)),
        {
            "id": ident,
            "logs": "",
            "metrics": {"input_tokens": prompt, "output_tokens": completion, "task": task},
            "output": items,
        },  # fmt: skip
        {"response": "", "usage": _usage(0, 0, prompt_neurons + answer_neurons)},
    ]
    return sse_response([dumps_compact(event) for event in events], delay)
