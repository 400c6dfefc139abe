"""Bounds on what reading one HTTP request body may cost (docs/reliability.md, "Limits").

A body's size is capped by the gate; what parsing it builds is not: `{}` is 2 bytes of body but
64 of memory. So a large body's JSON items are counted from its bytes before anything parses it.
"""

from __future__ import annotations

# Bounds on what parsing one body may build (docs/reliability.md, "Limits"); smaller bodies cannot amplify much.
MAX_JSON_CONTAINERS = 100_000
MAX_JSON_ITEMS = 1_000_000
COUNT_FROM = 256 * 1024
MANY_ITEMS_MESSAGE = (
    f"The request body holds more than {MAX_JSON_CONTAINERS:,} JSON objects and arrays or {MAX_JSON_ITEMS:,} "
    "items, more than any tool call needs; send the data as a file path or URL instead."
)


def too_many_items(body: bytes | bytearray) -> bool:
    """True when parsing `body` could cost far more memory than the body: more than `MAX_JSON_CONTAINERS`
    objects and arrays, or `MAX_JSON_ITEMS` separators (`{}` is 2 bytes of body but 64 of memory).

    Counted from the bytes alone (brackets and commas inside strings too, so it errs on the safe side),
    at C speed, on a worker thread: 0.1-0.2 s for a 36 MB body on a busy 2-core machine, against
    seconds and a gigabyte to parse it. Media as base64 has none of these characters."""
    if len(body) < COUNT_FROM:
        return False
    containers = body.count(b"{") + body.count(b"[")
    return containers > MAX_JSON_CONTAINERS or containers + body.count(b",") + body.count(b":") > MAX_JSON_ITEMS
