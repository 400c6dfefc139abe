"""Loader for the recorded-answer corpus: real Workers AI answers, each file with its provenance.

A recording is one JSON file under this folder (see README.md for the format).
`load("errors/4006_daily_free_allocation")` returns it as a `Recording`; `all_recordings()` returns every file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
_SKIP_DIRS = {"__pycache__"}


class CorpusError(ValueError):
    """A recording file that does not have the corpus format."""


@dataclass(frozen=True)
class Source:
    """One public source the recording was taken from, and what it shows."""

    fact: str
    kind: str
    url: str | None = None
    repo: str | None = None
    path: str | None = None
    commit: str | None = None

    @property
    def locator(self) -> str:
        """Where to find the source: a URL, or `repo:path` (with `@commit` when known)."""
        if self.url:
            return self.url
        where = f"{self.repo}:{self.path}" if self.repo and self.path else ""
        return f"{where}@{self.commit}" if where and self.commit else where


@dataclass(frozen=True)
class Response:
    """An answer as the source shows it: a JSON body, or the `data:` lines of a stream."""

    status: int | None
    headers: dict[str, str]
    body: Any = None
    sse: tuple[str, ...] | None = None

    @property
    def is_stream(self) -> bool:
        return self.sse is not None

    def events(self) -> list[Any]:
        """The stream's events decoded: JSON objects, or the string `[DONE]`."""
        if self.sse is None:
            return []
        return [_decode_data_line(line) for line in self.sse]


@dataclass(frozen=True)
class Exchange:
    """A request and the answer it got."""

    endpoint: str
    request: Any
    response: Response | None


@dataclass(frozen=True)
class Recording:
    name: str
    behaviour: str
    provenance: tuple[Source, ...]
    exchange: Exchange
    followups: tuple[Exchange, ...] = ()
    unverified: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())

    @property
    def endpoint(self) -> str:
        return self.exchange.endpoint

    @property
    def request(self) -> Any:
        return self.exchange.request

    @property
    def response(self) -> Response | None:
        return self.exchange.response


def load(name: str) -> Recording:
    """Load one recording by its name relative to this folder, with or without `.json`."""
    path = ROOT / (name if name.endswith(".json") else f"{name}.json")
    if not path.is_file():
        raise FileNotFoundError(f"no recording named {name!r} under {ROOT}")
    return parse(_name_of(path), json.loads(path.read_text(encoding="utf-8")))


def all_recordings() -> list[Recording]:
    """Every recording in the corpus, sorted by name."""
    return [load(name) for name in names()]


def names() -> list[str]:
    return sorted(_name_of(path) for path in ROOT.rglob("*.json") if not _SKIP_DIRS & set(path.parts))


def _name_of(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix()


def _decode_data_line(line: str) -> Any:
    if not line.startswith("data: "):
        raise CorpusError(f"SSE line does not start with 'data: ': {line[:60]!r}")
    payload = line[len("data: ") :]
    return payload if payload == "[DONE]" else json.loads(payload)


def parse(name: str, raw: Any) -> Recording:
    """Check one decoded recording file against the corpus format and build its `Recording`."""
    if not isinstance(raw, dict):
        raise CorpusError(f"{name}: a recording is a JSON object")
    missing = {"behaviour", "provenance", "endpoint", "request", "response"} - raw.keys()
    if missing:
        raise CorpusError(f"{name}: missing {sorted(missing)}")
    provenance = tuple(_source(name, item) for item in _list(name, raw["provenance"], "provenance"))
    followups = tuple(_exchange(name, item) for item in _list(name, raw.get("followups", []), "followups"))
    return Recording(
        name=name,
        behaviour=_text(name, raw["behaviour"], "behaviour"),
        provenance=provenance,
        exchange=_exchange(name, raw),
        followups=followups,
        unverified=_texts(name, raw, "unverified"),
        tags=_texts(name, raw, "tags"),
    )


def _exchange(name: str, raw: Any) -> Exchange:
    if not isinstance(raw, dict) or "endpoint" not in raw or "request" not in raw or "response" not in raw:
        raise CorpusError(f"{name}: an exchange has endpoint, request and response")
    return Exchange(
        endpoint=_text(name, raw["endpoint"], "endpoint"),
        request=raw["request"],
        response=None if raw["response"] is None else _response(name, raw["response"]),
    )


def _response(name: str, raw: Any) -> Response:
    if not isinstance(raw, dict):
        raise CorpusError(f"{name}: response is an object or null")
    status = raw.get("status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
        raise CorpusError(f"{name}: response.status is an integer or null")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise CorpusError(f"{name}: response.headers maps strings to strings")
    if ("body" in raw) == ("sse" in raw):
        raise CorpusError(f"{name}: response has exactly one of body and sse")
    sse = None
    if "sse" in raw:
        sse = tuple(_text(name, line, "sse") for line in _list(name, raw["sse"], "sse"))
    return Response(status=status, headers={k.lower(): v for k, v in headers.items()}, body=raw.get("body"), sse=sse)


def _source(name: str, raw: Any) -> Source:
    if not isinstance(raw, dict):
        raise CorpusError(f"{name}: each provenance entry is an object")
    optional = {key: raw.get(key) for key in ("url", "repo", "path", "commit")}
    for key, value in optional.items():
        if value is not None and not isinstance(value, str):
            raise CorpusError(f"{name}: provenance {key} is a string")
    return Source(
        fact=_text(name, raw.get("fact"), "provenance.fact"),
        kind=_text(name, raw.get("kind"), "provenance.kind"),
        url=optional["url"],
        repo=optional["repo"],
        path=optional["path"],
        commit=optional["commit"],
    )


def _texts(name: str, raw: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(_text(name, item, key) for item in _list(name, raw.get(key, []), key))


def _list(name: str, value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise CorpusError(f"{name}: {what} is a list")
    return value


def _text(name: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"{name}: {what} is a non-empty string")
    return value
