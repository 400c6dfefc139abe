"""The lifespan state every tool reaches through its context."""

from __future__ import annotations

from dataclasses import dataclass, field

from .client import WorkersAIClient
from .media.outputs import OutputStore
from .metering import Spending
from .settings import Settings


@dataclass
class AppState:
    """One per server process: settings, the one Workers AI client, the output folder, the spending ledger."""

    settings: Settings
    client: WorkersAIClient
    outputs: OutputStore
    spending: Spending = field(default_factory=Spending)  # the same object the client meters calls with
