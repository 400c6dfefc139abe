"""Who is calling: the user whose spending, budgets, batches and tasks a tool call reads and writes.

Over HTTP with OAuth the user is the access token's subject (its client id when it names no subject),
and an admin when the token carries the admin scope; everywhere else (stdio, HTTP with the static token
or none on loopback) it is the one local user, `local`, who sees everything the store holds. The tool
host sets the caller once per request (`tools/host/callers.py`); the spending guard, the batch index and
the task store read it here, and a task running in the background keeps the caller of the call that
made it. Outside any request (the self-test, direct use of `WorkersAI`) the caller is the local user.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

LOCAL_USER = "local"
MAX_USER_ID = 200  # characters of a token's subject kept as the user's id


@dataclass(frozen=True)
class Caller:
    """The user a call acts for; `admin` sees every user's spending and batches."""

    user_id: str
    admin: bool = False

    @property
    def local(self) -> bool:
        return self.user_id == LOCAL_USER


LOCAL = Caller(LOCAL_USER, admin=True)  # the only user of a local server: sees all there is, history included

_CALLER: ContextVar[Caller] = ContextVar("workers_ai_mcp_caller", default=LOCAL)


def current_caller() -> Caller:
    """The caller of the request (or task) in progress; the local user outside any."""
    return _CALLER.get()


@contextmanager
def acting_as(caller: Caller) -> Generator[Caller]:
    """Run the block as `caller` (the request's user, or a task's maker)."""
    token = _CALLER.set(caller)
    try:
        yield caller
    finally:
        _CALLER.reset(token)


def user_of(subject: str | None, client_id: str | None) -> str:
    """The user id of an OAuth principal: its subject, else its client id (bounded), else `unidentified`."""
    return (subject or client_id or "unidentified")[:MAX_USER_ID]
