"""Which calls become tasks: the one place that decides, per call, from the catalog's facts and the input's size.

A call is worth a task when its work can outlast a host's patience (hosts give up at about 60 s):
- text-to-image on a model the catalog prices per diffusion step (its work grows with steps and
  tiles: FLUX.2 dev, Leonardo's models), when tiles x steps reach `IMAGE_WORK`;
- speech recognition of long audio (the catalog prices it per audio minute), when the audio is
  at least `AUDIO_MINUTES` long by its size.
Everything else stays synchronous, and so does every call while spending consent is on
(`WORKERS_AI_MCP_CONFIRM_ABOVE_USD`): the person is asked during the call, which a task running in the
background could not do. No model names are listed here: a new model with the same facts
is treated the same way.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ....state import AppState

if TYPE_CHECKING:  # a start imports neither the catalog nor the client: only a call by a host with tasks does
    from ....catalog.models import ModelInfo

# Tools whose calls may become tasks; the others are always answered at once.
TASK_TOOLS = frozenset({"generate_image", "transcribe_audio"})
# 512x512 tiles times diffusion steps from which an image is made as a task (FLUX.2 dev at 1024x1024 and
# its default steps is 4 x 20 = 80; four steps at 512x512 is 4).
IMAGE_WORK = 32
# Minutes of audio from which a transcription is made as a task, and the size of a minute assumed from
# the file's bytes (128 kbit/s MP3; uncompressed audio is larger, so it is taken as longer than it is).
AUDIO_MINUTES = 10
BYTES_PER_MINUTE = 960_000


async def worth_a_task(state: AppState, tool: str, arguments: Mapping[str, Any]) -> bool:
    """Whether this call of `tool` should run as a task; a fact that cannot be read means no."""
    if tool not in TASK_TOOLS:
        return False
    if state.settings.confirm_above_usd is not None:
        return False  # spending consent is asked of the person during the call: a background task could not ask
    from ....client import WorkersAIError

    try:
        if tool == "generate_image":
            return await _long_image(state, arguments)
        return await _long_audio(state, arguments)
    except (WorkersAIError, ValueError, OSError):
        return False  # the call itself will say what is wrong, synchronously


async def _long_image(state: AppState, arguments: Mapping[str, Any]) -> bool:
    from ....catalog.model_input import schema_default
    from ....spending.pricing import DEFAULT_STEPS, TILE_SIDE

    model = _text(arguments.get("model")) or state.settings.image_model
    info = await state.ai.model_info(model)
    if not _priced_per(info, "step"):
        return False
    steps = arguments.get("steps")
    if not isinstance(steps, int):
        schema = await state.ai.model_schema(model)
        steps = schema_default(schema.get("input"), "steps", "num_steps") or DEFAULT_STEPS
    width, height = (_side(arguments.get(name)) for name in ("width", "height"))
    tiles = math.ceil(width / TILE_SIDE) * math.ceil(height / TILE_SIDE)
    return tiles * steps >= IMAGE_WORK


async def _long_audio(state: AppState, arguments: Mapping[str, Any]) -> bool:
    model = _text(arguments.get("model")) or state.settings.transcribe_model
    info = await state.ai.model_info(model)
    if not _priced_per(info, "audio minute"):
        return False
    size = _audio_bytes(_text(arguments.get("audio")) or "")
    return size is not None and size / BYTES_PER_MINUTE >= AUDIO_MINUTES


def _priced_per(info: ModelInfo | None, unit: str) -> bool:
    """Whether the catalog prices the model by `unit` (alone or combined, e.g. "per output tile, per step")."""
    if info is None:
        return False
    units = [price.unit for price in info.prices] + list(info.unpriced_units)
    return any(unit in " ".join(u.lower().split()) for u in units)


def _audio_bytes(audio: str) -> int | None:
    """The audio's size from the argument alone: a data URI or base64 by its length, a path by the file's
    size; None for a URL (its size is known only once fetched)."""
    if audio.startswith(("https://", "http://")):
        return None
    if audio.startswith("data:"):
        return len(audio.partition(",")[2]) * 3 // 4
    path = Path(os.path.expanduser(audio))
    if len(audio) < 4096 and path.is_file():
        return path.stat().st_size
    try:
        base64.b64decode(audio[:64], validate=True)
    except (binascii.Error, ValueError):
        return None
    return len(audio) * 3 // 4


def _side(value: object) -> int:
    from ....spending.pricing import DEFAULT_SIDE

    return value if isinstance(value, int) and value > 0 else DEFAULT_SIDE


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
