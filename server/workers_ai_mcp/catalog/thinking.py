"""`thinking`: one level (`off`, `low`, `medium`, `high`, `max`) turned into each model's own control.

Read from the arm of the input schema the conversation goes in, never from a list of names:
`chat_template_kwargs.enable_thinking` (gemma-4, glm, kimi, nemotron, qwen3.8: the switch that turns
thinking off), a `reasoning_effort` enum (deepseek-v4 takes `none | low | high | max`, gemma-4 and glm
`low | medium | high`) or the Responses form's `reasoning.effort` (gpt-oss, which cannot stop
thinking). A level the model lacks goes to the catalog's `normalizes_to` alias, else to the nearest
level it has; a model whose catalog entry says reasoning is `mandatory` cannot be switched off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..client.errors import InvalidRequestError
from ..jsonvalues import as_dict, as_list
from .model_input import branches
from .models import ModelInfo

Thinking = Literal["off", "low", "medium", "high", "max"]
# From least to most thinking; a missing level goes to the nearest one the model has.
SCALE = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


class NoThinkingControl(InvalidRequestError):
    """The model cannot be switched as asked; the tool adds a model that can."""


@dataclass(frozen=True)
class ThinkingControl:
    """What one arm of a model's input takes to steer its thinking."""

    switch: bool  # chat_template_kwargs.enable_thinking
    effort_field: Literal["reasoning_effort", "reasoning"] | None
    efforts: tuple[str, ...]
    mandatory: bool  # the catalog says reasoning cannot be disabled

    @property
    def any(self) -> bool:
        return self.switch or self.effort_field is not None


def thinking_control(props: Mapping[str, Any], info: ModelInfo | None) -> ThinkingControl:
    """The controls the arm whose properties are `props` declares."""
    kwargs = as_dict(as_dict(props.get("chat_template_kwargs")).get("properties"))
    switch = "enable_thinking" in kwargs
    effort_field: Literal["reasoning_effort", "reasoning"] | None = None
    efforts: tuple[str, ...] = ()
    if "reasoning_effort" in props:
        effort_field, efforts = "reasoning_effort", _enum(props["reasoning_effort"])
    elif effort := as_dict(as_dict(as_dict(props.get("reasoning")).get("properties")).get("effort")):
        effort_field, efforts = "reasoning", _enum(effort)
    meta = as_dict(info.properties.get("reasoning_effort")) if info is not None else {}
    return ThinkingControl(switch, effort_field, efforts, mandatory=meta.get("mandatory") is True)


def thinking_fields(
    model: str, control: ThinkingControl, level: Thinking, normalize: Mapping[str, str]
) -> dict[str, Any]:
    """The body members that ask `model` for `level`; refuses (NoThinkingControl) what it cannot do."""
    if not control.any:
        raise NoThinkingControl(f"{model} has no thinking control; leave thinking out")
    if level == "off":
        return _off(model, control)
    fields: dict[str, Any] = {"chat_template_kwargs": {"enable_thinking": True}} if control.switch else {}
    if control.effort_field is None:
        return fields
    chosen = _level(level, control.efforts, normalize)
    if control.effort_field == "reasoning":
        return fields | {"reasoning": {"effort": chosen}}
    return fields | {"reasoning_effort": chosen}


def _off(model: str, control: ThinkingControl) -> dict[str, Any]:
    if control.mandatory and not control.switch:
        raise NoThinkingControl(f"{model} always thinks (its catalog entry says reasoning is mandatory)")
    if control.effort_field == "reasoning_effort" and "none" in control.efforts:
        return {"reasoning_effort": "none"}
    if control.switch:
        return {"chat_template_kwargs": {"enable_thinking": False}}
    lowest = control.efforts[0] if control.efforts else "low"
    raise NoThinkingControl(f"{model} cannot turn thinking off (its lowest level is {lowest})")


def _level(level: str, efforts: tuple[str, ...], normalize: Mapping[str, str]) -> str:
    if not efforts or level in efforts:
        return level
    alias = normalize.get(level)
    if alias in efforts:
        return alias
    known = [effort for effort in efforts if effort in SCALE and effort != "none"] or list(efforts)
    wanted = SCALE.index(level)
    return min(known, key=lambda effort: (abs(SCALE.index(effort) - wanted) if effort in SCALE else 99, effort))


def _enum(prop: object) -> tuple[str, ...]:
    return tuple(str(c) for arm in branches(prop) for c in as_list(arm.get("enum")) if c is not None)


__all__ = ["NoThinkingControl", "Thinking", "ThinkingControl", "thinking_control", "thinking_fields"]
