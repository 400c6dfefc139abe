"""Secrets are scrubbed from text and log records in every form they could take."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from urllib.parse import quote

import pytest

from workers_ai_mcp.redact import RedactingFilter, Redactor

TOKEN = "cfut_Zz9/+tokenWITHsymbols=0123456789abcdef"


def test_the_token_is_redacted_raw_url_encoded_and_base64() -> None:
    redact = Redactor([TOKEN])
    for form in (TOKEN, quote(TOKEN, safe=""), base64.b64encode(TOKEN.encode()).decode()):
        assert redact(f"before {form} after") == "before [redacted] after"


@pytest.mark.parametrize(
    "prefix", ["", "x", "xy", "Authorization: Bearer "], ids=["offset-0", "offset-1", "offset-2", "header"]
)
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["standard", "url-safe"])
def test_base64_of_text_holding_the_token_is_redacted_at_every_alignment(
    prefix: str, encode: Callable[[bytes], bytes]
) -> None:
    redact = Redactor([TOKEN])
    for suffix in ("", "a", "ab", "\r\n"):
        encoded = encode(f"{prefix}{TOKEN}{suffix}".encode()).decode()
        cleaned = redact(f"header {encoded} end")
        assert "[redacted]" in cleaned, (prefix, suffix)
        kept = cleaned.removeprefix("header ").removesuffix(" end").split("[redacted]")
        assert sum(map(len, kept)) <= (len(prefix) + len(suffix)) * 4 // 3 + 8, kept  # only what the rest decides


def test_a_log_line_with_base64_of_the_authorization_header_is_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %s", None, None)
    record.args = (base64.b64encode(f"Authorization: Bearer {TOKEN}".encode()).decode(),)
    RedactingFilter(Redactor([TOKEN])).filter(record)
    assert "[redacted]" in record.getMessage()


def test_short_or_missing_secrets_are_ignored() -> None:
    assert Redactor([None, "", "abc"])("abc def") == "abc def"


def test_log_records_with_arguments_and_tracebacks_are_redacted() -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    logger = logging.getLogger("test.redaction")
    handler = Keep()
    handler.addFilter(RedactingFilter(Redactor([TOKEN])))
    logger.addHandler(handler)
    try:
        logger.warning("header was %s", f"Bearer {TOKEN}")
        try:
            raise RuntimeError(f"boom {TOKEN}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert records and all(TOKEN not in line for line in records)
    assert "Bearer [redacted]" in records[0]
    assert "RuntimeError: boom [redacted]" in records[1]
