"""What a Workers AI call costs: the catalog's `price` property, estimates before a call, usage after.

Where the answer reports `usage.neurons` (2026 answers on /ai/run and /ai/v1 do), that is what Cloudflare
bills: the cost is those neurons at $0.011 per 1,000, exactly. Otherwise the catalog's price: it lists
prices per unit (`[{"unit": "per M input tokens", "price": 0.29, "currency": "USD"}, ...]`), and a call is
measured in the same units: prompt and completion tokens (as the API reports them, else about four
characters a token; prompt tokens the answer reports as cached, `prompt_tokens_details.cached_tokens`,
at the "per M cached input tokens" rate where the catalog lists one), diffusion steps, 512x512 tiles,
audio minutes, characters of text, or one request. Everything here is pure: no I/O, no MCP.

Before a call, the input is measured as an upper bound, not a guess (`tokenbound`): budgets reserve it,
so a call can never be billed more than it reserved.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog.model_input import schema_default, schema_has
from ..catalog.models import ModelInfo
from ..jsonvalues import as_dict, as_list, dicts
from .tokenbound import image_token_bound, text_token_bound

PROMPT_TOKENS = "prompt_tokens"
COMPLETION_TOKENS = "completion_tokens"
STEPS = "steps"
TILES = "tiles"
AUDIO_MINUTES = "audio_minutes"
CHARACTERS = "characters"
REQUESTS = "requests"
CACHED_TOKENS = "cached_prompt_tokens"  # part of PROMPT_TOKENS, billed at its own rate where one is listed
NEURONS = "neurons"  # what the answer says Cloudflare billed
USD_PER_NEURON = 0.011 / 1000  # Cloudflare's price of neurons beyond the free daily allocation

CHARS_PER_TOKEN = 4
DEFAULT_MAX_TOKENS = 256
DEFAULT_STEPS = 20  # the most any Workers AI diffusion model takes by default
DEFAULT_SIDE = 1024  # pixels, when a request names no width or height
TILE_SIDE = 512

# (pattern on the lower-cased unit, measure, how many of the measure the unit's price covers)
_UNITS: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"^per (m|million) input tokens$"), PROMPT_TOKENS, 1_000_000),
    (re.compile(r"^per (m|million) output tokens$"), COMPLETION_TOKENS, 1_000_000),
    (re.compile(r"^per (m|million) cached input tokens$"), CACHED_TOKENS, 1_000_000),
    (re.compile(r"^per (diffusion )?step$"), STEPS, 1),
    (re.compile(r"^per 512 ?(by|x) ?512 tile$"), TILES, 1),
    (re.compile(r"^per audio minute$"), AUDIO_MINUTES, 1),
    (re.compile(r"^per (1k|1,000|thousand) characters$"), CHARACTERS, 1_000),
    (re.compile(r"^per (inference )?request$"), REQUESTS, 1),
)
# Keys whose string values are media payloads, not text a model reads as tokens.
_MEDIA_KEYS = frozenset({"image", "image_b64", "mask", "audio", "model", "request_id"})
# A chat template's markers (system prompt header, turn markers) around the text: counted on top of it.
TEMPLATE_TOKENS = 16
MESSAGE_TOKENS = 8
_OUTPUT_TOKEN_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


@dataclass(frozen=True)
class Pricing:
    """USD per single unit of each measure, from a catalog row's `price` property."""

    rates: dict[str, float] = field(default_factory=dict[str, float])
    unknown_units: tuple[str, ...] = ()

    @classmethod
    def of(cls, info: ModelInfo | None) -> Pricing | None:
        """The pricing of a catalog model, or None when it lists no price."""
        if info is None or not (info.prices or info.unpriced_units):
            return None
        rates: dict[str, float] = {}
        unknown: list[str] = list(info.unpriced_units)
        for entry in info.prices:
            unit = " ".join(entry.unit.lower().split())
            if "websocket" in unit:
                continue  # another transport, not what REST calls are billed by
            known = next(((m, per) for pattern, m, per in _UNITS if pattern.match(unit)), None)
            if entry.currency.upper() != "USD" or known is None:
                unknown.append(unit)
                continue
            measure, per = known
            rates[measure] = rates.get(measure, 0.0) + entry.price / per
        if not rates and not unknown:
            return None
        return cls(rates, tuple(unknown))

    @property
    def known(self) -> bool:
        """True when every unit of the price is one we can measure."""
        return bool(self.rates) and not self.unknown_units

    def cost(self, usage: Mapping[str, float]) -> float | None:
        """USD for `usage`, or None when the price has a unit the usage does not measure."""
        if not self.known:
            return None
        cached = float(usage.get(CACHED_TOKENS, 0.0)) if CACHED_TOKENS in self.rates else 0.0
        total = 0.0
        for measure, rate in self.rates.items():
            amount = usage.get(measure)
            if amount is None:
                if measure == COMPLETION_TOKENS and PROMPT_TOKENS in usage or measure == CACHED_TOKENS:
                    amount = 0.0  # tokens reported and none generated (embeddings), or none cached
                else:
                    return None
            if measure == PROMPT_TOKENS:
                amount = max(0.0, float(amount) - cached)  # the cached ones are billed at their own rate
            total += rate * float(amount)
        return total


def reported_cost(usage: Mapping[str, float] | None) -> float | None:
    """USD for the neurons the answer reported, or None when it reported none."""
    if usage is None or NEURONS not in usage:
        return None
    return usage[NEURONS] * USD_PER_NEURON


def estimate_before(
    model_info: ModelInfo | None,
    inputs: Mapping[str, Any] | None,
    *,
    schema: Mapping[str, Any] | None = None,
) -> float | None:
    """A conservative upper estimate in USD of a call not yet sent, or None when it cannot be estimated.

    Input tokens are bounded from above (`prompt_token_bound`); output tokens are the request's `max_tokens`, else the
    model's default (256 when the schema is not at hand), else for models without a token limit as
    many as the input. `schema` is the model's input JSON Schema, for defaults such as `steps`.
    """
    pricing = Pricing.of(model_info)
    if pricing is None:
        return None
    inputs = inputs or {}
    if "requests" in inputs:
        costs = [estimate_before(model_info, item, schema=schema) for item in dicts(inputs.get("requests"))]
        return None if None in costs else sum(c for c in costs if c is not None)
    usage = request_units(inputs, schema)
    usage[PROMPT_TOKENS] = prompt = prompt_token_bound(inputs)
    usage[COMPLETION_TOKENS] = _output_token_limit(inputs, schema, prompt)
    return pricing.cost(usage)


def prompt_token_bound(inputs: Mapping[str, Any]) -> float:
    """At least as many input tokens as any model can bill for `inputs`: text, chat template and images."""
    text = sum(text_token_bound(s) for s in _strings(inputs))
    messages = as_list(inputs.get("messages")) or []
    images = sum(image_token_bound(image) for image in _images(inputs))
    return float(TEMPLATE_TOKENS + MESSAGE_TOKENS * len(messages) + text + images)


def request_units(inputs: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> dict[str, float]:
    """What a request asks for, measured before sending: tokens of its text, steps, tiles, characters."""
    text_chars = sum(len(s) for s in _strings(inputs))
    spoken = inputs.get("text") if isinstance(inputs.get("text"), str) else inputs.get("prompt")
    steps = inputs.get("steps", inputs.get("num_steps"))
    if not isinstance(steps, int):
        steps = schema_default(schema, "steps", "num_steps") or DEFAULT_STEPS
    width, height = (_positive_int(inputs.get(side)) or DEFAULT_SIDE for side in ("width", "height"))
    return {
        PROMPT_TOKENS: float(math.ceil(text_chars / CHARS_PER_TOKEN)),
        STEPS: float(steps),
        TILES: float(math.ceil(width / TILE_SIDE) * math.ceil(height / TILE_SIDE)),
        CHARACTERS: float(len(spoken) if isinstance(spoken, str) else text_chars),
        REQUESTS: 1.0,
    }


def measure_after(
    pricing: Pricing | None,
    inputs: Mapping[str, Any] | None,
    output: Any,
    reported: Mapping[str, Any] | None,
    *,
    schema: Mapping[str, Any] | None = None,
) -> tuple[dict[str, float] | None, bool]:
    """The usage of a finished call in the units its price is given in, and whether tokens were estimated.

    Reported tokens win; tokens the API did not report are counted as characters / 4. Without a
    price, only what the API reported is returned (or None).
    """
    usage = normalize_usage(reported)
    if pricing is None:
        return (usage or None), False
    measured = request_units(inputs or {}, schema)
    result: dict[str, float] = dict(usage)
    estimated = False
    for measure in pricing.rates:
        if measure in result or measure == CACHED_TOKENS or (measure == COMPLETION_TOKENS and PROMPT_TOKENS in usage):
            continue  # reported, none reported cached, or tokens were reported and none generated (embeddings)
        if measure == COMPLETION_TOKENS:
            result[measure] = float(math.ceil(sum(len(s) for s in _strings(output)) / CHARS_PER_TOKEN))
            estimated = True
        elif measure == PROMPT_TOKENS:
            result[measure] = measured[PROMPT_TOKENS]
            estimated = True
        elif measure == AUDIO_MINUTES:
            seconds = audio_seconds(output)
            if seconds is not None:
                result[measure] = round(seconds / 60, 4)
        else:
            result[measure] = measured[measure]
    return (result or None), estimated


def normalize_usage(reported: Mapping[str, Any] | None) -> dict[str, float]:
    """Token counts from a `usage` object in Workers AI, OpenAI Chat or Responses form."""
    usage = as_dict(reported)
    out: dict[str, float] = {}
    for key, aliases in (
        (PROMPT_TOKENS, ("prompt_tokens", "input_tokens")),
        (COMPLETION_TOKENS, ("completion_tokens", "output_tokens")),
    ):
        value = next((usage[a] for a in aliases if isinstance(usage.get(a), int | float)), None)
        if value is not None:
            out[key] = float(value)
    total = usage.get("total_tokens")
    if isinstance(total, int | float):
        out["total_tokens"] = float(total)
    elif out:
        out["total_tokens"] = sum(out.values())
    details = as_dict(usage.get("prompt_tokens_details")) or as_dict(usage.get("input_tokens_details"))
    cached = details.get("cached_tokens")
    if _number(cached) and cached:
        out[CACHED_TOKENS] = float(cached)
    neurons = usage.get(NEURONS)
    if _number(neurons) and neurons:
        out[NEURONS] = float(neurons)
    return out


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def audio_seconds(output: Any) -> float | None:
    """Length of transcribed audio from a speech-recognition answer, when it says."""
    data = as_dict(output)
    duration = as_dict(data.get("transcription_info")).get("duration")
    if isinstance(duration, int | float):
        return float(duration)
    ends = [item.get("end") for key in ("segments", "words") for item in dicts(data.get(key))]
    numbers = [float(e) for e in ends if isinstance(e, int | float)]
    return max(numbers) if numbers else None


def _output_token_limit(inputs: Mapping[str, Any], schema: Mapping[str, Any] | None, prompt: float) -> float:
    for key in _OUTPUT_TOKEN_KEYS:
        value = inputs.get(key)
        if isinstance(value, int) and value > 0:
            return float(value)
    default = schema_default(schema, *_OUTPUT_TOKEN_KEYS)
    if default:
        return float(default)
    if schema is not None and not schema_has(schema, *_OUTPUT_TOKEN_KEYS):
        return max(float(DEFAULT_MAX_TOKENS), prompt)  # translation, summaries: about as long as the input
    return float(DEFAULT_MAX_TOKENS)


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _images(value: Any, key: str = "") -> Iterator[object]:
    """Every image of a request: `image` fields (bytes as a list, base64, a data URI) and `image_url` parts."""
    if key in ("image", "image_b64"):
        yield value
        return
    if key == "image_url":
        yield as_dict(value).get("url", value)
        return
    for name, item in as_dict(value).items():
        yield from _images(item, str(name))
    for item in as_list(value):
        yield from _images(item)


def _strings(value: Any, key: str = "") -> Iterator[str]:
    if key in _MEDIA_KEYS:
        return
    if isinstance(value, str):
        if not value.startswith("data:"):
            yield value
    else:
        for name, item in as_dict(value).items():
            yield from _strings(item, str(name))
        for item in as_list(value):
            yield from _strings(item)
