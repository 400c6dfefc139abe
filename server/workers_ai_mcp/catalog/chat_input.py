"""How a text-generation model wants a conversation, read from its input schema and catalog entry.

`chat_shape` decides, per model and never from a list of names: the route (`/ai/run`, or
`/ai/v1/chat/completions` where the schema is OpenAI's Chat Completions request, with a `model`
member), the body form (`messages`, `prompt`, or the Responses `input` where only that branch takes
a reasoning effort), the token limit's name, whether `stream` is declared, the JSON mode field,
how images travel (OpenAI `image_url` parts with a data URI, or the model's own `image` field), and
its thinking controls (`thinking.py`) and function calling (`chat_tools.py`). `chat_body` builds the
body from those facts.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..client.errors import InvalidRequestError
from ..jsonvalues import as_dict, as_list
from .chat_tools import Function, NoFunctionCalling, tool_fields
from .model_input import JsonMediaForm, branches, encode_media
from .models import ModelInfo
from .thinking import Thinking, ThinkingControl, thinking_control, thinking_fields
from .vision import catalog_sees_images

Route = Literal["run", "v1"]
Form = Literal["messages", "prompt", "responses"]
ImageForm = Literal["parts", "field"]
SAMPLING = ("temperature", "top_p", "top_k", "seed", "repetition_penalty", "frequency_penalty", "presence_penalty")


@dataclass(frozen=True)
class Image:
    """One image of the conversation: its bytes and media type."""

    data: bytes
    media_type: str

    def data_uri(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class ChatShape:
    """What one model takes for a conversation."""

    model: str
    route: Route
    form: Form
    names: frozenset[str]
    limit_field: str | None
    streams: bool
    json_field: str | None
    image: ImageForm | None
    image_json: JsonMediaForm | None
    thinking: ThinkingControl
    roles: tuple[str, ...]
    takes_tools: bool = False  # the arm declares `tools` and the catalog does not deny function calling
    tool_choice: bool = False


def unchecked_shape(model: str) -> ChatShape:
    """The classic Workers AI conversation (`messages` on `/ai/run`), for a model whose schema is unknown."""
    names = frozenset({"messages", "max_tokens", "stream", "response_format", *SAMPLING})
    none = ThinkingControl(switch=False, effort_field=None, efforts=(), mandatory=False)
    return ChatShape(model, "run", "messages", names, "max_tokens", True, "response_format", None, None, none, ())


def chat_shape(model: str, schema: object, info: ModelInfo | None, *, effort: bool = False) -> ChatShape:
    """The shape of `model`'s conversation input; `effort` asks for the form that takes a thinking level
    (the Responses `input` of gpt-oss, where its `messages` arm has no control)."""
    if not as_dict(schema):
        return unchecked_shape(model)
    arms = branches(schema)
    messages = next((arm for arm in arms if "messages" in as_dict(arm.get("properties"))), None)
    prompt = next((arm for arm in arms if "prompt" in as_dict(arm.get("properties"))), None)
    responses = next((arm for arm in arms if _effort_object(arm) and "input" in as_dict(arm.get("properties"))), None)
    chosen, form = (messages, "messages") if messages is not None else (prompt, "prompt")
    if effort and responses is not None and (chosen is None or not thinking_control(_props(chosen), info).any):
        chosen, form = responses, "responses"
    if chosen is None:
        raise InvalidRequestError(
            f"{model} takes no conversation (its input schema has no messages or prompt); use run_model for it."
        )
    props = as_dict(chosen.get("properties"))
    names = frozenset(props)
    image, image_json = _image_form(props, info)
    return ChatShape(
        model=model,
        route="v1" if form == "messages" and "model" in names else "run",
        form=form,  # pyright: ignore[reportArgumentType]
        names=names,
        limit_field=next((n for n in ("max_completion_tokens", "max_tokens") if n in names), None),
        streams="stream" in names or ("model" in names and form == "messages"),
        json_field=next((n for n in ("response_format", "guided_json") if n in names), None),
        image=image,
        image_json=image_json,
        thinking=thinking_control(props, info),
        roles=_roles(props),
        takes_tools="tools" in names and form == "messages" and (info is None or info.function_calling),
        tool_choice="tool_choice" in names,
    )


def _props(arm: Mapping[str, Any]) -> dict[str, Any]:
    return as_dict(arm.get("properties"))


def chat_body(
    shape: ChatShape,
    turns: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int,
    sampling: Mapping[str, object],
    images: Sequence[Image] = (),
    json_schema: dict[str, Any] | None = None,
    thinking: Thinking | None = None,
    tools: Sequence[Function] = (),
    tool_choice: str | None = None,
    normalize: Mapping[str, str] | None = None,
    others: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The request body for `shape`; refuses (with a sentence) what the model does not take, naming the
    model `others` gives for that argument (`json_schema`) where there is one."""
    body = _conversation(shape, turns)
    if images:
        _attach(shape, body, images)
    if shape.limit_field and shape.form != "responses":
        body[shape.limit_field] = max_tokens
    body |= _sampling(shape, sampling)
    instead = {
        key: f", or use {model}, which takes it" for key, model in (others or {}).items() if model != shape.model
    }
    if json_schema is not None:
        body |= _json_mode(shape, json_schema, instead.get("json_schema", " or pick another model"))
    if thinking is not None:
        body |= thinking_fields(shape.model, shape.thinking, thinking, normalize or {})
    if tools:
        if not shape.takes_tools:
            raise NoFunctionCalling(f"{shape.model} has no function calling")
        body |= tool_fields(shape.model, shape.route, shape.tool_choice, tools, tool_choice)
    elif tool_choice is not None:
        raise InvalidRequestError("tool_choice needs tools; give the tools too.")
    return body


def _conversation(shape: ChatShape, turns: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The turns in the model's form (messages, one prompt, or Responses input), with `model` on /v1."""
    for turn in turns:
        if shape.roles and turn["role"] not in shape.roles:
            raise InvalidRequestError(
                f"{shape.model} takes only {', '.join(shape.roles)} messages, not {turn['role']}."
            )
    body: dict[str, Any] = {"model": shape.model} if shape.route == "v1" else {}
    if shape.form == "prompt":
        body["prompt"] = "\n\n".join(f"{t['role']}: {t['content']}" if len(turns) > 1 else t["content"] for t in turns)
    elif shape.form == "responses":
        body["input"] = [dict(turn) for turn in turns]
    else:
        body["messages"] = [dict(turn) for turn in turns]
    return body


def _sampling(shape: ChatShape, sampling: Mapping[str, object]) -> dict[str, object]:
    given = {key: value for key, value in sampling.items() if value is not None}
    for key in given:
        if key not in shape.names:
            raise InvalidRequestError(f"{shape.model} does not take `{key}`; leave it out.")
    return given


def _attach(shape: ChatShape, body: dict[str, Any], images: Sequence[Image]) -> None:
    if shape.image is None:
        raise InvalidRequestError(f"{shape.model} takes no images.")
    if shape.image == "field":
        if len(images) > 1 or shape.image_json is None:
            raise InvalidRequestError(f"{shape.model} takes one image per conversation.")
        body["image"] = encode_media(shape.image_json, images[0].data)
        return
    turns: list[dict[str, Any]] = body["messages"]
    last = max((i for i, turn in enumerate(turns) if turn["role"] == "user"), default=None)
    if last is None:
        raise InvalidRequestError("Images go with a user message; give a prompt or a user message.")
    parts: list[dict[str, Any]] = [{"type": "text", "text": turns[last]["content"]}]
    parts += [{"type": "image_url", "image_url": {"url": image.data_uri()}} for image in images]
    turns[last] = {**turns[last], "content": parts}


def _json_mode(shape: ChatShape, json_schema: dict[str, Any], instead: str) -> dict[str, Any]:
    if shape.json_field == "guided_json":
        return {"guided_json": json_schema}
    if shape.json_field != "response_format":
        raise InvalidRequestError(f"{shape.model} has no JSON mode; leave json_schema out{instead}.")
    if shape.route == "v1":  # OpenAI's form: {name, schema}
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema}}}
    return {"response_format": {"type": "json_schema", "json_schema": json_schema}}


def _effort_object(arm: Mapping[str, Any]) -> bool:
    return "effort" in as_dict(as_dict(as_dict(arm.get("properties")).get("reasoning")).get("properties"))


def _image_form(props: Mapping[str, Any], info: ModelInfo | None) -> tuple[ImageForm | None, JsonMediaForm | None]:
    """How images travel, where the model sees them (see `catalog.vision`): OpenAI's shared schema
    (with a `model` member) and the `image` field count only where the catalog confirms them."""
    if _takes_image_parts(props) and ("model" not in props or catalog_sees_images(info)):
        return "parts", None
    field = props.get("image")
    if field is not None and catalog_sees_images(info):
        types = {arm.get("type") for arm in branches(field)}
        return "field", "array" if "array" in types else "base64"
    return None, None


def _takes_image_parts(props: Mapping[str, Any]) -> bool:
    for message in branches(as_dict(props.get("messages")).get("items")):
        role = as_dict(as_dict(message.get("properties")).get("role"))
        if role.get("enum") and "user" not in as_list(role.get("enum")):
            continue
        for content in branches(as_dict(message.get("properties")).get("content")):
            for part in branches(content.get("items")) if content.get("type") == "array" else []:
                part_props = as_dict(part.get("properties"))
                kinds = as_list(as_dict(part_props.get("type")).get("enum"))
                if "image_url" in part_props and (not kinds or "image_url" in kinds):
                    return True
    return False


def _roles(props: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for message in branches(as_dict(props.get("messages")).get("items")):
        enum = as_list(as_dict(as_dict(message.get("properties")).get("role")).get("enum"))
        if not enum:
            return ()
        found += [str(role) for role in enum if str(role) not in found]
    return tuple(found)


def normalizations(info: ModelInfo | None) -> dict[str, str]:
    """The catalog's `reasoning_effort.normalizes_to` aliases (e.g. medium → high), if any."""
    meta = as_dict(info.properties.get("reasoning_effort")) if info is not None else {}
    return {str(k): str(v) for k, v in as_dict(meta.get("normalizes_to")).items() if isinstance(v, str)}


__all__ = ["ChatShape", "Image", "chat_body", "chat_shape", "normalizations"]
