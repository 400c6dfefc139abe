"""The retry policy, as a table."""

from __future__ import annotations

import email.utils

import pytest

from workers_ai_mcp.client import retry


@pytest.fixture(autouse=True)
def real_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite zeroes backoff for speed; this table checks the real numbers."""
    monkeypatch.setattr(retry, "INITIAL_DELAY", 0.5)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (413, False),
        (422, False),
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
    ],
)
def test_only_statuses_that_say_try_again_are_retried(status: int, expected: bool) -> None:
    assert retry.should_retry(status) is expected


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-10"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "bogus", "retry-after": "3"}, 3.0),
        ({"retry-after": email.utils.formatdate(NOW + 7, usegmt=True)}, 7.0),
        ({"retry-after": email.utils.formatdate(NOW - 7, usegmt=True)}, None),
    ],
)
def test_retry_after_is_read_from_seconds_milliseconds_or_an_http_date(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry.parse_retry_after(headers, now=NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "retry_after", "jitter", "expected"),
    [
        (0, None, 0.0, 0.5),
        (1, None, 0.0, 1.0),
        (2, None, 0.0, 2.0),
        (10, None, 0.0, 8.0),
        (0, None, 0.999999, 0.5 * (1 - 0.25 * 0.999999)),
        (0, 3.0, 0.5, 3.0),
        (3, 30.0, 0.0, 30.0),
        (0, 31.0, 0.0, 0.5),
    ],
)
def test_backoff_is_exponential_with_jitter_unless_the_server_names_a_sane_wait(
    attempt: int, retry_after: float | None, jitter: float, expected: float
) -> None:
    assert retry.retry_delay(attempt, retry_after, jitter) == pytest.approx(expected)
