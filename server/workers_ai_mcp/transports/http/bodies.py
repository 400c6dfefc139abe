"""Bounds on what reading one HTTP request body may cost (docs/reliability.md, "Limits").

A body's size is capped by the gate; what parsing it builds is not: `{}` is 2 bytes of body but
64 of memory. So a large body's JSON items are counted from its bytes before anything parses it,
and only a few large bodies are handled at once (`LargeBodies`).
"""

from __future__ import annotations

import anyio

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


# A body over this many bytes needs a large-body slot while its request runs (docs/reliability.md, "Limits").
LARGE_BODY = 1024 * 1024


class LargeBodies:
    """Slots for requests whose body is over `LARGE_BODY`: at most `total` at once, and `per_client` per
    source address. Each costs a few times its size while it is parsed and its tool runs (a 35 MB
    body of base64 media about 150 MB), so eight at once would pass 1 GB; the slot is taken before
    the body is read, so a waiting body stays in the client's socket, not in memory."""

    def __init__(self, *, total: int, per_client: int) -> None:
        self._total = total
        self._per_client = per_client
        self._taken: dict[str, int] = {}
        self._changed: anyio.Event | None = None  # made on first wait: an Event needs a running loop

    @property
    def in_use(self) -> int:
        return sum(self._taken.values())

    async def take(self, client: str, wait: float) -> bool:
        """Wait up to `wait` seconds for a slot for `client`; False when none came free in time."""
        with anyio.move_on_after(wait):
            while self.in_use >= self._total or self._taken.get(client, 0) >= self._per_client:
                if self._changed is None:
                    self._changed = anyio.Event()
                await self._changed.wait()
            self._taken[client] = self._taken.get(client, 0) + 1
            return True
        return False

    def give_back(self, client: str) -> None:
        left = self._taken.get(client, 0) - 1
        if left > 0:
            self._taken[client] = left
        else:
            self._taken.pop(client, None)
        if self._changed is not None:
            self._changed.set()
            self._changed = None


class Slot:
    """One request's claim on a `LargeBodies` slot: taken at most once, given back by `release`."""

    def __init__(self, bodies: LargeBodies, client: str, wait: float) -> None:
        self._bodies = bodies
        self._client = client
        self._wait = wait
        self.held = False

    async def take(self) -> bool:
        if not self.held:
            self.held = await self._bodies.take(self._client, self._wait)
        return self.held

    def release(self) -> None:
        if self.held:
            self.held = False
            self._bodies.give_back(self._client)
