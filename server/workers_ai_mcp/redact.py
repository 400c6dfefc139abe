"""Scrub secrets from any text that may leave the process: errors, logs, tool results, streamed text."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import quote

REDACTED = "[redacted]"


class Redactor:
    """Replaces every known secret, and its URL-encoded and base64 forms (at any alignment), with `[redacted]`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 4:
            return
        forms = {
            secret,
            quote(secret, safe=""),
            base64.b64encode(secret.encode()).decode(),
            base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
            base64.b64encode(secret.encode()).decode().rstrip("="),
            *shifted_base64(secret.encode()),
        }
        self._forms = sorted(set(self._forms) | forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    @property
    def longest(self) -> int:
        """Length of the longest form a secret can take (0 when there is no secret)."""
        return len(self._forms[0]) if self._forms else 0

    def open_tail(self, text: str) -> int:
        """Length of the longest end of `text` that begins some secret form (0: nothing can straddle)."""
        longest = 0
        for form in self._forms:
            for size in range(min(len(form) - 1, len(text)), longest, -1):
                if text.endswith(form[:size]):
                    longest = size
                    break
        return longest

    def json(self, value: Any) -> Any:
        """A decoded JSON value with every string in it (keys included) redacted; numbers untouched."""
        if not self._forms:
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(k)): self.json(v) for k, v in cast(dict[Any, Any], value).items()}
        if isinstance(value, list):
            return [self.json(item) for item in cast(list[Any], value)]
        return value

    def stream(self) -> StreamRedactor:
        """An incremental redactor for text that arrives in pieces (a secret may span two)."""
        return StreamRedactor(self)


def url_secrets(url: str | None) -> list[str]:
    """The secrets in a database URL: the URL itself and its password (in the user part or the query)."""
    if not url:
        return []
    from urllib.parse import parse_qs, unquote, urlsplit

    found = [url]
    try:
        parts = urlsplit(url)
        passwords = [parts.password or "", *parse_qs(parts.query).get("password", [])]
    except ValueError:
        return found
    for password in passwords:
        found += [password, unquote(password)]
    return [secret for secret in found if secret]


_URL_SAFE = str.maketrans("+/", "-_")
_MIN_CORE = 12  # a shorter core could match innocent text


def shifted_base64(data: bytes) -> set[str]:
    """The base64 characters (standard and URL-safe) that `data` alone decides, at each of the three
    byte alignments it can take inside a longer encoded text (such as `Authorization: Bearer <token>`).

    Character i of a base64 text carries bits [6i, 6i+6) of the bytes; the ones wholly inside `data`
    are the same whatever surrounds it, so they are what redaction looks for.
    """
    cores: set[str] = set()
    for offset in range(3):
        padded = bytes(offset) + data + bytes(-(offset + len(data)) % 3)
        encoded = base64.b64encode(padded).decode()
        core = encoded[-(-8 * offset // 6) : 8 * (offset + len(data)) // 6]
        if len(core) >= _MIN_CORE:
            cores |= {core, core.translate(_URL_SAFE)}
    return cores


class StreamRedactor:
    """Redacts text fed piece by piece, holding back only an end that could be the start of a secret, so
    that a secret split across pieces is still caught and everything else passes on at once."""

    def __init__(self, redact: Redactor) -> None:
        self._redact = redact
        self._pending = ""

    def feed(self, text: str) -> str:
        """The part of everything fed so far that is safe to pass on now, redacted."""
        if self._redact.longest <= 1:
            return text
        pending = self._redact(self._pending + text)
        hold = self._redact.open_tail(pending)
        ready, self._pending = pending[: len(pending) - hold], pending[len(pending) - hold :]
        return ready

    def flush(self) -> str:
        """What is still held back, redacted (at the end of the text)."""
        rest, self._pending = self._redact(self._pending), ""
        return rest


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the fully formatted message of every record."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = self._redact(text)
            record.exc_info = None
            record.msg = f"{record.msg}\n{record.exc_text}"
            record.exc_text = None
        return True
