"""What the tool modules register, read without building a server: each tool's family and samples.

The tool modules of `app.tool_modules()` are the one list of tools; everything that needs to know
every tool (selftest, the generic test suites, the tools/list budget, the benchmarks) asks here.
A module's `register` runs on a `Registry` that builds nothing (no `--tools` name matches), so only
the names are recorded; its samples are its module-level `SAMPLES` (see `tools/host/samples.py`).
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import Any, Literal, cast

from ..tools.host.registry import Registry
from ..tools.host.samples import AUDIO, IMAGE, Samples

MediaKind = Literal["image", "audio"]
# A `--tools` selection that names no tool: registration records names and builds nothing.
_BUILD_NOTHING = ("",)


@cache
def tool_families() -> MappingProxyType[str, str]:
    """Tool name → the family that registers it (the short name of its module), in registration order."""
    from ..app import tool_modules

    families: dict[str, str] = {}
    for module in tool_modules():
        probe = Registry(_BUILD_NOTHING)
        module.register(probe)
        families |= dict.fromkeys(probe.names, module.__name__.rsplit(".", 1)[-1])
    return MappingProxyType(families)


@cache
def tool_samples() -> MappingProxyType[str, dict[str, Any]]:
    """Tool name → the sample arguments its module declares (`SAMPLES`), for every module that has them."""
    from ..app import tool_modules

    samples: Samples = {}
    for module in tool_modules():
        samples |= cast(Samples, getattr(module, "SAMPLES", {}))
    return MappingProxyType(samples)


def media_parameters(tool: str) -> dict[str, MediaKind]:
    """The media inputs of `tool`: the arguments its samples give a sample file (`IMAGE` or `AUDIO`)."""
    kinds: dict[object, MediaKind] = {IMAGE: "image", AUDIO: "audio"}
    return {
        name: kinds[value]
        for name, value in tool_samples().get(tool, {}).items()
        if isinstance(value, str) and value in kinds
    }
