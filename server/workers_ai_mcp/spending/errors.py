"""Why the state store could not be used just now: what a budgeted call is refused with, and records wait for."""

from __future__ import annotations

from ..client.errors import WorkersAIError


class StoreLockedError(WorkersAIError):
    """The store could not be used for a while (another process kept SQLite's write lock past the wait, or
    the PostgreSQL database did not answer); nothing was changed. A budgeted call that needed it is not
    sent; a record of an answered call stays queued and is written once the store answers again."""


class StoreUnavailableError(StoreLockedError):
    """The PostgreSQL database could not be reached or used; its sentence names host, port and database."""
