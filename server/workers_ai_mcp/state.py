"""The lifespan state every tool reaches through its context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:  # annotations only: serving starts without importing inference (app.DeferredState)
    from .inference import WorkersAI
    from .media.outputs import OutputStore


@dataclass
class AppState:
    """One per server process: settings, the Workers AI account (inference, catalog, spending), the output folder."""

    settings: Settings
    ai: WorkersAI
    outputs: OutputStore
