"""The lifespan state every tool reaches through its context."""

from __future__ import annotations

from dataclasses import dataclass

from .inference import WorkersAI
from .media.outputs import OutputStore
from .settings import Settings


@dataclass
class AppState:
    """One per server process: settings, the Workers AI account (inference, catalog, spending), the output folder."""

    settings: Settings
    ai: WorkersAI
    outputs: OutputStore
