"""generate_image: text to image, saved to the output folder, previewed, with progress while it runs."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated, Any

import anyio.to_thread
from mcp.types import ContentBlock, TextContent
from pydantic import Field

from ..catalog.model_input import ModelWire, Param, encode_media, fill, wire_for
from ..client import BinaryResult, RunResult
from ..client.errors import InvalidRequestError, ResponseDecodeError
from ..client.request import FilePart, Request, form_request, json_request
from ..media.inputs import resolve_media
from ..media.previews import PreviewError, image_size, sniff_image_type
from ..state import AppState
from .host.call_info import CallInfo
from .host.common import WRITES_OUTPUT, AppContext, add_inference_tool, model_param, state_of
from .host.progress import with_heartbeat
from .host.registry import Registry
from .host.results import media_result
from .host.samples import Samples

FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
FLUX2_DEV = "@cf/black-forest-labs/flux-2-dev"
# FLUX.2 takes multipart/form-data, even for a prompt alone; its schema names only the handle, so its
# fields come from Cloudflare's model pages: prompt, width, height, steps, seed, guidance, and
# reference images as the files input_image_0, input_image_1, ...
FORM_FIELDS: dict[str, Param] = {
    "prompt": Param("prompt"),
    "width": Param("width"),
    "height": Param("height"),
    "steps": Param("steps"),
    "seed": Param("seed"),
    "guidance": Param("guidance"),
}
MAX_IMAGES = 4
# What the default models take (from their schemas), so that no schema look-up is needed for them.
# flux-1-schnell takes a prompt and steps only: its images are always 1024x1024.
KNOWN: dict[str, ModelWire] = {
    FLUX: ModelWire(params={"prompt": Param("prompt"), "steps": Param("steps", 1, 8)}),
    SDXL: ModelWire(
        params={
            "prompt": Param("prompt"),
            "negative_prompt": Param("negative_prompt"),
            "width": Param("width", 256, 2048),
            "height": Param("height", 256, 2048),
            "steps": Param("num_steps", 1, 20),
            "guidance": Param("guidance"),
            "seed": Param("seed"),
            "images": Param("image_b64"),
        }
    ),
}
_NAMES = {
    "prompt": ("prompt",),
    "negative_prompt": ("negative_prompt",),
    "width": ("width",),
    "height": ("height",),
    "steps": ("steps", "num_steps"),
    "guidance": ("guidance",),
    "seed": ("seed",),
    "images": ("image_b64", "image"),
}


async def generate_image(
    prompt: Annotated[str, Field(min_length=1, max_length=2048, description="What the image should show.")],
    ctx: AppContext,
    width: Annotated[
        int | None,
        Field(ge=256, le=2048, multiple_of=8, description="Pixels (SDXL; flux is 1024)."),
    ] = None,
    height: Annotated[
        int | None,
        Field(ge=256, le=2048, multiple_of=8, description="Pixels (SDXL; flux is 1024)."),
    ] = None,
    steps: Annotated[
        int | None,
        Field(ge=1, le=50, description="Diffusion steps (flux up to 8, SDXL 20)."),
    ] = None,
    seed: Annotated[int | None, Field(ge=0, le=4_294_967_295, description="Seed, to make a result repeatable.")] = None,
    negative_prompt: Annotated[
        str | None, Field(min_length=1, max_length=2048, description="What to keep out of the image (SDXL).")
    ] = None,
    guidance: Annotated[
        float | None, Field(ge=0, le=30, description="How closely to follow the prompt (SDXL default 7.5).")
    ] = None,
    images: Annotated[
        list[str] | None,
        Field(
            max_length=MAX_IMAGES,
            description="To edit: FLUX.2 up to 4, img2img 1.",
        ),
    ] = None,
    model: Annotated[str | None, model_param()] = None,
) -> list[ContentBlock]:
    """Generate an image from a text prompt (FLUX.1 schnell by default); saves a PNG and returns a preview."""
    state = state_of(ctx)
    chosen = model or state.settings.image_model
    await anyio.to_thread.run_sync(state.outputs.check_usable)  # the image is always saved
    wire = await wire_for(state.ai, chosen, KNOWN, names=_NAMES, form_fields=FORM_FIELDS)
    values = {
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "width": width,
        "height": height,
        "steps": steps,
        "guidance": guidance,
        "seed": seed,
    }
    inputs = fill(chosen, wire.params, values, hint=f", or use a model that takes it, such as {SDXL}")
    request = await _request(state, chosen, wire, inputs, images or [])
    started = time.monotonic()
    result = await with_heartbeat(ctx, lambda: state.ai.run(chosen, request))
    data = _image_bytes(result, chosen)
    media_type = sniff_image_type(data)
    try:
        if media_type is None:
            raise PreviewError("unknown format")
        size = await anyio.to_thread.run_sync(image_size, data)
    except PreviewError:
        raise ResponseDecodeError(f"{chosen} answered with data that is not an image.") from None
    await ctx.report_progress(1, 1, "done")
    seconds = time.monotonic() - started
    head = f"Generated a {size[0]}x{size[1]} image with {chosen} in {seconds:.1f} s" + (
        f" (seed {seed})." if seed is not None else "."
    )
    head += " " + CallInfo.from_meta(result.meta).note
    before = [TextContent(type="text", text=head)]
    return await media_result(state.outputs, state.settings, data, media_type, stem=prompt, before=before)


async def _request(state: AppState, model: str, wire: ModelWire, inputs: dict[str, Any], images: list[str]) -> Request:
    """The model's wire form: a multipart form (images as `input_image_N` files), or JSON with one image."""
    media = [await resolve_media(image, "image", settings=state.settings, http=state.ai.http) for image in images]
    if wire.multipart:
        files = {f"input_image_{i}": FilePart(f"image{i}", m.data, m.media_type) for i, m in enumerate(media)}
        return form_request(inputs, files)
    if not media:
        return json_request(inputs)
    field = wire.params.get("images")
    if field is None:
        raise InvalidRequestError(f"{model} takes no input image; leave `images` out, or use {FLUX2_DEV}.")
    if len(media) > 1:
        raise InvalidRequestError(f"{model} takes one input image; send one, or use {FLUX2_DEV} for several.")
    form = "base64" if field.wire == "image_b64" else "array"
    return json_request({**inputs, field.wire: encode_media(form, media[0].data)})


def _image_bytes(result: RunResult, model: str) -> bytes:
    """The image from a raw answer (SDXL family) or a JSON `{image: <base64>}` one (flux)."""
    if isinstance(result, BinaryResult):
        return result.data
    encoded: Any = result.object.get("image")
    if not isinstance(encoded, str) or not encoded:
        raise ResponseDecodeError(
            f"{model} answered without an image; generate_image needs a Text-to-Image model "
            "(list_models with task 'Text-to-Image')."
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ResponseDecodeError(f"{model} answered with an image that is not valid base64.") from None


SAMPLES: Samples = {"generate_image": {"prompt": "a red square", "steps": 1}}


def register(server: Registry) -> None:
    """Add generate_image to `server`."""
    add_inference_tool(server, generate_image, title="Generate an image", annotations=WRITES_OUTPUT)
