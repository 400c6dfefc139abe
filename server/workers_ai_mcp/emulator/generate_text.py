"""Deterministic text answers: completions, JSON mode objects, translation, summaries, sentiment."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .envelope import JsonObj, as_list, as_obj, fixed_value

MARK = "[emulator]"
_VOCAB = tuple(
    str.split(
        "the model runs locally and answers with words chosen from a small fixed list so tests can "
        "rely on every reply being the same for the same input while still looking like prose about "
        "clouds edges requests tokens vectors images speech and other things a test might need"
    )
)
_POSITIVE = frozenset(
    str.split(
        "good great excellent love loved like happy wonderful amazing best fantastic nice enjoy enjoyed "
        "awesome delightful brilliant perfect pleased superb positive fun glad beautiful"
    )
)
_NEGATIVE = frozenset(
    str.split(
        "bad terrible awful hate hated dislike sad horrible worst poor boring angry broken ugly annoying "
        "disappointing disappointed negative wrong fail failed useless slow"
    )
)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that, unlike hash(), is the same in every process."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


# The emulator's neurons per prompt token and per generated token (made up: the real rates are not published).
PROMPT_NEURONS = 0.01
TOKEN_NEURONS = 0.03


# Scripts written without spaces between words (CJK, kana, Hangul syllables, Thai, Lao, Khmer, Myanmar):
# real tokenizers make about a token of each character, so the emulator does too.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def count_tokens(text: str) -> int:
    """The emulator counts whitespace-separated words as tokens, and each character of an unspaced script."""
    unspaced = sum(1 for _ in _UNSPACED.finditer(text))
    return len(_UNSPACED.sub(" ", text).split()) + unspaced


@dataclass(frozen=True)
class Completion:
    tokens: tuple[str, ...]  # the first is bare, the rest carry their leading space
    prompt_tokens: int
    finish_reason: str  # "stop" or "length"
    cached: int = 0  # prompt tokens served from the prefix cache

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens)

    def usage(self) -> JsonObj:
        total = self.prompt_tokens + self.completion_tokens
        usage: JsonObj = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}
        usage["total_tokens"] = total
        if self.cached:
            usage["prompt_tokens_details"] = {"cached_tokens": self.cached}
        return usage

    @property
    def neurons(self) -> float:
        """The neurons the emulator reports for this answer: its own rates (not Cloudflare's, which are unknown)."""
        return self.prompt_tokens * PROMPT_NEURONS + self.completion_tokens * TOKEN_NEURONS

    def run_usage(self) -> JsonObj:
        """Usage as `/ai/run` reports it in 2026 answers: tokens, cached prompt tokens, neurons."""
        return {**self.usage(), "prompt_tokens_details": {"cached_tokens": self.cached}, "neurons": self.neurons}


def message_text(content: Any) -> str:
    """Text of a message's content: a string, or the `text` of each part in a parts array."""
    if isinstance(content, str):
        return content
    parts = as_list(content) or []
    texts = [str(part.get("text", "")) for p in parts if (part := as_obj(p)) is not None]
    return " ".join(t for t in texts if t)


def conversation(payload: JsonObj) -> tuple[str, str]:
    """(all input text, the text to echo) from a prompt, messages or Responses `input` payload."""
    if isinstance(payload.get("prompt"), str):
        prompt = str(payload["prompt"])
        return prompt, prompt
    items = as_list(payload.get("messages"))
    if items is None:
        raw_input = payload.get("input")
        items = [{"role": "user", "content": raw_input}] if isinstance(raw_input, str) else as_list(raw_input) or []
    texts: list[str] = []
    last_user = ""
    for item in items:
        message = as_obj(item) or {}
        text = message_text(message.get("content"))
        texts.append(text)
        if message.get("role", "user") == "user":
            last_user = text
        elif message.get("role") == "tool":  # after a tool's result, the answer speaks of it
            last_user = f"the tool answered {text}"
    if isinstance(payload.get("instructions"), str):
        texts.insert(0, str(payload["instructions"]))
    return " ".join(texts), last_user or (texts[-1] if texts else "")


def complete(model: str, payload: JsonObj, *, limit_key: str = "max_tokens", default_limit: int = 256) -> Completion:
    """A reply that echoes the last user text, then hash-chosen filler, cut at the token limit."""
    whole, echo = conversation(payload)
    limit = payload.get(limit_key, default_limit)
    limit = limit if isinstance(limit, int) and limit > 0 else default_limit
    seed = payload.get("seed", 0)
    words = [MARK, "You", "said:", *echo.split()[:32]]
    h = stable_hash(model, whole, seed)
    filler_count = 6 + h % 18
    words += ["|", *(_VOCAB[stable_hash(h, i) % len(_VOCAB)] for i in range(filler_count))]
    finish = "stop"
    if len(words) > limit:
        words, finish = words[:limit], "length"
    tokens = (words[0], *(" " + w for w in words[1:]))
    return Completion(tokens, max(1, count_tokens(whole)), finish)


def json_mode_object(model: str, payload: JsonObj) -> Any:
    """The `response` of a JSON Mode request: built from `json_schema` where one is given."""
    response_format = as_obj(payload.get("response_format")) or {}
    _, echo = conversation(payload)
    schema = as_obj(response_format.get("json_schema"))
    # Accept OpenAI's wrapper ({name, schema, strict}) as well as a bare JSON Schema.
    if schema is not None and "schema" in schema and "type" not in schema and "properties" not in schema:
        schema = as_obj(schema["schema"])
    if response_format.get("type") != "json_schema" or schema is None:
        return {"emulator": True, "model": model, "echo": " ".join(echo.split()[:12])}
    return sample_from_schema(schema, echo, depth=0)


def sample_from_schema(schema: JsonObj, echo: str, depth: int) -> Any:
    """A simple value of the schema's shape: first enum/const/branch, minimal lengths, echo for strings."""
    if fixed := fixed_value(schema):
        return fixed[0]
    for key in ("oneOf", "anyOf", "allOf"):
        branches = as_list(schema.get(key))
        if branches and (first := as_obj(branches[0])) is not None:
            return sample_from_schema(first, echo, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if (kinds := as_list(kind)) is not None:
        kind = next((k for k in kinds if k != "null"), "null")
    if depth > 8 or kind == "null":
        return None
    if kind == "object":
        props = as_obj(schema.get("properties")) or {}
        return {name: sample_from_schema(as_obj(sub) or {}, echo, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [sample_from_schema(as_obj(schema.get("items")) or {}, echo, depth + 1) for _ in range(count)]
    return _scalar(schema, str(kind), echo)


def _scalar(schema: JsonObj, kind: str, echo: str) -> Any:
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(1, math.ceil(low)) if kind == "integer" else float(low)
        return value if "exclusiveMinimum" not in schema else value + 1
    if kind == "boolean":
        return True
    text = f"{MARK} {echo}".strip()[: max(int(schema.get("maxLength", 80)), 1)]
    return text.ljust(int(schema.get("minLength", 0)), ".")


def translate(text: str, source: str, target: str) -> str:
    return f"[emulator {source}→{target}] {text}"


def summarize(text: str, max_length: int) -> str:
    """The first words of the text after the marker, at most `max_length` tokens in all."""
    words = [MARK, *text.split()]
    return " ".join(words[: max(1, max_length)])


def sentiment(text: str) -> list[JsonObj]:
    """NEGATIVE/POSITIVE scores summing to 1 from counts of lexicon words."""
    words = re.findall(r"[a-z']+", text.lower())
    balance = sum(w in _POSITIVE for w in words) - sum(w in _NEGATIVE for w in words)
    positive = 1 / (1 + math.exp(-(1.5 * balance + 0.1)))
    return [{"label": "NEGATIVE", "score": 1 - positive}, {"label": "POSITIVE", "score": positive}]


def dumps_compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
