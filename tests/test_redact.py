"""Secrets are scrubbed from text and log records in every form they could take."""

from __future__ import annotations

import base64
import logging
from urllib.parse import quote

from workers_ai_mcp.redact import RedactingFilter, Redactor

TOKEN = "cfut_Zz9/+tokenWITHsymbols=0123456789abcdef"


def test_the_token_is_redacted_raw_url_encoded_and_base64() -> None:
    redact = Redactor([TOKEN])
    for form in (TOKEN, quote(TOKEN, safe=""), base64.b64encode(TOKEN.encode()).decode()):
        assert redact(f"before {form} after") == "before [redacted] after"


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
