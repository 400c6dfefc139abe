"""The lifespan state every tool reaches through its context."""

from __future__ import annotations

from dataclasses import dataclass

from .client import WorkersAIClient
from .media.outputs import OutputStore
from .settings import Settings


@dataclass
class AppState:
    """One per server process: settings, the one Workers AI client, the output folder."""

    settings: Settings
    client: WorkersAIClient
    outputs: OutputStore
