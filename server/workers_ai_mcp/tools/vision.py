"""Vision tools: classify_image, detect_objects, describe_image.

Over 300 lines because the three tools share one image check (pixels before bytes) and the wire
forms the vision models take (raw bytes, a byte array, a data URI, moondream's stream).
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import anyio
import anyio.to_thread
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from ..catalog.model_input import ModelWire, Param, fill, wire_for
from ..catalog.requests import media_request
from ..client import JsonResult, RunResult
from ..client.errors import InvalidRequestError, ResponseDecodeError
from ..jsonvalues import as_dict, dicts
from ..media.annotate import Box, draw_boxes, not_annotated
from ..media.inputs import MediaInput, resolve_media
from ..media.outputs import OutputNotSaved
from ..media.previews import ImageTooLarge, PreviewError, image_size, make_preview
from ..state import AppState
from .host.call_info import call_of
from .host.common import WRITES_OUTPUT, AppContext, add_inference_tool, model_param, state_of
from .host.registry import Registry
from .host.results import file_blocks
from .host.samples import IMAGE, Samples

LLAVA = "@cf/llava-hf/llava-1.5-7b-hf"
_IMAGE_WIRE = ModelWire(body=True, json_form="array", media_field="image")
# resnet-50 and detr take the image itself as the request body: the wire carries the file's own size.
KNOWN: dict[str, ModelWire] = {"@cf/microsoft/resnet-50": _IMAGE_WIRE, "@cf/facebook/detr-resnet-50": _IMAGE_WIRE}
# llava's binary-body form cannot carry a prompt, so it gets JSON. Of the JSON forms its schema allows,
# `image` as a list of byte values is the one Cloudflare documents and every published example uses
# (what a "binary" string means inside JSON is undocumented); the image is first scaled down to
# ARRAY_IMAGE_MAX_SIDE, which loses nothing (llava looks at 336x336) and keeps that list small.
DESCRIBE_KNOWN: dict[str, ModelWire] = {
    LLAVA: ModelWire(
        params={"prompt": Param("prompt"), "max_tokens": Param("max_tokens")},
        body=True,
        json_form="array",
        media_field="image",
    )
}
# moondream asks its `question` under `task: "query"`.
_DESCRIBE_NAMES = {
    "prompt": ("prompt", "question"),
    "max_tokens": ("max_tokens", "max_new_tokens"),
    "task": ("task",),
    "stream": ("stream",),
}
_ANSWER_FIELDS = ("description", "response", "answer", "caption")
ARRAY_IMAGE_MAX_SIDE = 768
_ARRAY_IMAGE_MAX_BYTES = 1_000_000
DEFAULT_PROMPT = "Describe this image."
DEFAULT_MAX_TOKENS = 256

ImageParam = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40_000_000,
        description="Image: https URL, data: URI, base64, or a file path in the allowed folders (outputs too).",
    ),
]


class Label(BaseModel):
    label: str
    score: float = Field(description="Confidence between 0 and 1.")


class Classification(BaseModel):
    """Labels for an image, best first."""

    model: str
    labels: list[Label]
    call: dict[str, Any] | None = None


class BoundingBox(BaseModel):
    xmin: float
    ymin: float
    xmax: float
    ymax: float


class DetectedObject(BaseModel):
    label: str
    score: float = Field(description="Confidence between 0 and 1.")
    box: BoundingBox = Field(description="Pixel coordinates in the input image.")


class DetectionResult(BaseModel):
    """Objects found in an image, and the copy of the image with their boxes drawn."""

    model: str
    width: int = Field(description="Width of the input image in pixels.")
    height: int = Field(description="Height of the input image in pixels.")
    objects: list[DetectedObject] = Field(description="Best score first.")
    annotated_image_path: str = Field(description="The image with the boxes drawn (PNG), in the output folder.")
    annotated_image_uri: str = Field(description="The same file as an MCP resource.")
    call: dict[str, Any] | None = None


class ImageDescription(BaseModel):
    """What a vision model said about an image."""

    model: str
    description: str
    call: dict[str, Any] | None = None


async def classify_image(
    image: ImageParam,
    ctx: AppContext,
    top_k: Annotated[int, Field(ge=1, le=10, description="How many labels to return.")] = 5,
    model: Annotated[str | None, model_param()] = None,
) -> Classification:
    """Label what an image shows (ImageNet classes with resnet-50 by default), best match first."""
    state = state_of(ctx)
    chosen = model or state.settings.classify_image_model
    media = await _resolve(state, image)
    result = await _send(state, chosen, media, await wire_for(state.ai, chosen, KNOWN, names={}, media_field="image"))
    items = _answer_list(result, chosen, "labels")
    labels = [Label(label=str(i["label"]), score=round(float(i["score"]), 4)) for i in items if _scored(i)]
    labels.sort(key=lambda item: -item.score)
    return Classification(model=chosen, labels=labels[:top_k], call=call_of(result.meta))


async def detect_objects(
    image: ImageParam,
    ctx: AppContext,
    min_score: Annotated[float, Field(ge=0, le=1, description="Leave out objects scored below this.")] = 0.5,
    model: Annotated[str | None, model_param()] = None,
) -> Annotated[CallToolResult, DetectionResult]:
    """Find objects in an image (labels, scores, pixel boxes) and save a copy with the boxes drawn on it."""
    state = state_of(ctx)
    await anyio.to_thread.run_sync(state.outputs.check_usable)  # the annotated image is always saved
    chosen = model or state.settings.detect_model
    media = await _resolve(state, image)
    pixels = state.settings.max_image_pixels
    try:
        width, height = await anyio.to_thread.run_sync(image_size, media.data, pixels)
    except ImageTooLarge as exc:
        raise InvalidRequestError(str(exc)) from None
    except PreviewError:
        raise InvalidRequestError("The image could not be read to draw boxes on it; send a PNG or JPEG.") from None
    result = await _send(state, chosen, media, await wire_for(state.ai, chosen, KNOWN, names={}, media_field="image"))
    found: list[DetectedObject] = []
    for item in _answer_list(result, chosen, "detections"):
        box = as_dict(item.get("box"))
        if not _scored(item) or not _numbers(box, "xmin", "ymin", "xmax", "ymax"):
            continue
        if float(item["score"]) < min_score:
            continue
        xs = sorted(_clamp(float(box[k]), width) for k in ("xmin", "xmax"))
        ys = sorted(_clamp(float(box[k]), height) for k in ("ymin", "ymax"))
        bounds = BoundingBox(xmin=xs[0], ymin=ys[0], xmax=xs[1], ymax=ys[1])
        found.append(DetectedObject(label=str(item["label"]), score=round(float(item["score"]), 4), box=bounds))
    found.sort(key=lambda o: -o.score)
    boxes = [Box(o.label, o.score, o.box.xmin, o.box.ymin, o.box.xmax, o.box.ymax) for o in found]
    try:
        png = await anyio.to_thread.run_sync(draw_boxes, media.data, boxes, pixels)
        saved = state.outputs.save(png, stem="detections", extension="png")
    except (OSError, PreviewError, OutputNotSaved) as exc:
        raise not_annotated(chosen, [o.model_dump(mode="json") for o in found], exc) from None
    data = DetectionResult(
        model=chosen,
        width=width,
        height=height,
        objects=found,
        annotated_image_path=str(saved.path),
        annotated_image_uri=saved.uri,
        call=call_of(result.meta),
    )
    structured = data.model_dump(mode="json")
    summary = TextContent(type="text", text=_detection_summary(data, min_score))
    blocks: list[ContentBlock] = [summary, *await file_blocks(saved, png, state.settings)]
    return CallToolResult(content=blocks, structured_content=structured)


async def describe_image(
    image: ImageParam,
    ctx: AppContext,
    prompt: Annotated[
        str, Field(min_length=1, max_length=4000, description="What to ask about the image.")
    ] = DEFAULT_PROMPT,
    max_tokens: Annotated[int, Field(ge=1, le=1024, description="Longest answer, in tokens.")] = DEFAULT_MAX_TOKENS,
    model: Annotated[str | None, model_param()] = None,
) -> ImageDescription:
    """Describe an image, or answer a question about it, with a vision model (LLaVA 1.5 by default)."""
    state = state_of(ctx)
    chosen = model or state.settings.describe_image_model
    media = await _resolve(state, image)
    wire = await wire_for(state.ai, chosen, DESCRIBE_KNOWN, names=_DESCRIBE_NAMES, media_field="image")
    asked = {"prompt": prompt, "max_tokens": max_tokens}
    defaults = {"prompt": DEFAULT_PROMPT, "max_tokens": DEFAULT_MAX_TOKENS}
    # A model that declares no prompt still runs with the defaults; only a choice it cannot take is refused.
    values: dict[str, object] = {
        key: value for key, value in asked.items() if key in wire.params or value != defaults[key]
    }
    task = wire.params.get("task")
    if task is not None and "query" in task.choices:
        values["task"] = "query"
    if "stream" in wire.params:
        # A model whose schema takes `stream` here (moondream) answers only streamed, `{}` otherwise
        # (tests/recorded/responses/moondream_run_empty_result.json); the client gathers the stream.
        values["stream"] = True
    result = await _send(
        state,
        chosen,
        media,
        wire,
        fill(chosen, wire.params, values, takes=dict.fromkeys(values, state.settings.describe_image_model)),
        prefer_body=False,
    )
    data = result.object
    text = next((data[key] for key in _ANSWER_FIELDS if isinstance(data.get(key), str)), None)
    if text is None:
        raise ResponseDecodeError(
            f"{chosen} answered without a description (none of {', '.join(_ANSWER_FIELDS)}); try {LLAVA}."
        )
    return ImageDescription(model=chosen, description=text.strip(), call=call_of(result.meta))


async def _resolve(state: AppState, value: str) -> MediaInput:
    """The image, refused before anything is sent when its header declares more pixels than the cap
    (one Pillow cannot read is left for the model to judge)."""
    media = await resolve_media(value, "image", settings=state.settings, http=state.ai.http)
    try:
        await anyio.to_thread.run_sync(image_size, media.data, state.settings.max_image_pixels)
    except ImageTooLarge as exc:
        raise InvalidRequestError(str(exc)) from None
    except PreviewError:
        pass
    return media


async def _send(
    state: AppState,
    model: str,
    media: MediaInput,
    wire: ModelWire,
    extra: dict[str, Any] | None = None,
    *,
    prefer_body: bool = True,
) -> RunResult:
    """The image as the raw body where the model takes one (and nothing else must go along), else in
    the model's other wire form (a byte array is first scaled down: see ARRAY_IMAGE_MAX_SIDE)."""
    data = media.data
    raw = wire.body and not extra and (prefer_body or wire.json_form is None)
    if not raw and wire.json_form == "array":
        data = await anyio.to_thread.run_sync(_compact, data, state.settings.max_image_pixels)
    request = media_request(model, wire, data, media.media_type, extra, prefer_body=prefer_body)
    return await state.ai.run(model, request)


def _compact(data: bytes, max_pixels: int) -> bytes:
    """The image scaled to ARRAY_IMAGE_MAX_SIDE: a list of byte values costs about 3.6 bytes per byte."""
    try:
        return make_preview(data, _ARRAY_IMAGE_MAX_BYTES, max_side=ARRAY_IMAGE_MAX_SIDE, max_pixels=max_pixels).data
    except ImageTooLarge as exc:
        raise InvalidRequestError(str(exc)) from None
    except PreviewError:
        return data  # let the model judge an image Pillow cannot read


def _answer_list(result: RunResult, model: str, what: str) -> list[dict[str, Any]]:
    data: object = result.data if isinstance(result, JsonResult) else None
    if isinstance(data, list):
        return dicts(cast(list[Any], data))
    raise ResponseDecodeError(f"{model} answered without a list of {what} (it answered {type(data).__name__}).")


def _scored(item: dict[str, Any]) -> bool:
    return isinstance(item.get("label"), str) and _numbers(item, "score")


def _numbers(item: dict[str, Any], *keys: str) -> bool:
    return all(isinstance(item.get(k), int | float) and not isinstance(item.get(k), bool) for k in keys)


def _clamp(value: float, limit: int) -> float:
    return round(min(max(value, 0.0), float(limit)), 2)


def _detection_summary(data: DetectionResult, min_score: float) -> str:
    head = f"{len(data.objects)} object(s) scored {min_score:g} or more in the {data.width}x{data.height} image"
    if not data.objects:
        return head + "."
    listed = ", ".join(f"{o.label} {o.score:.0%}" for o in data.objects[:20])
    more = f" and {len(data.objects) - 20} more" if len(data.objects) > 20 else ""
    return f"{head}: {listed}{more}."


SAMPLES: Samples = {
    "classify_image": {"image": IMAGE, "top_k": 1},
    "detect_objects": {"image": IMAGE},
    "describe_image": {"image": IMAGE, "prompt": "Describe the image in five words.", "max_tokens": 16},
}


def register(server: Registry) -> None:
    """Add the vision tools to `server`."""
    add_inference_tool(server, classify_image, title="Classify an image")
    add_inference_tool(server, detect_objects, title="Detect objects in an image", annotations=WRITES_OUTPUT)
    add_inference_tool(server, describe_image, title="Describe an image")
