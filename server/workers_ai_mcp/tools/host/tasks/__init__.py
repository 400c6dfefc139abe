"""Tasks for tool calls that can outlast a host's patience, in both protocol eras (see extension.py).

`app.py` hands `TasksExtension()` to the server, holds its runner for the server's life and adds the
2025-11-25 middleware (`legacy_tasks`).
"""

from .extension import EXTENSION_ID, TasksExtension
from .legacy import legacy_tasks

__all__ = ["EXTENSION_ID", "TasksExtension", "legacy_tasks"]
