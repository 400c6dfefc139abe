"""Detection boxes drawn on the image they were found in (Pillow, imported lazily)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .outputs import OutputNotSaved
from .previews import DEFAULT_MAX_IMAGE_PIXELS, open_image

# Annotated copies of very large photos are drawn at this long side: a 24-megapixel PNG would take
# seconds to encode and tens of megabytes on disk, and the boxes read just as well smaller.
ANNOTATED_MAX_SIDE = 2048

_PALETTE = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40),
)  # fmt: skip


@dataclass(frozen=True)
class Box:
    """One detection, in the pixel coordinates of the original image."""

    label: str
    score: float
    xmin: float
    ymin: float
    xmax: float
    ymax: float


def colour_of(label: str) -> tuple[int, int, int]:
    """The same colour for the same label, in every image."""
    return _PALETTE[hashlib.sha1(label.encode()).digest()[0] % len(_PALETTE)]


def draw_boxes(data: bytes, boxes: Sequence[Box], max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> bytes:
    """PNG of the image with each box outlined and labelled with its label and score (`ImageTooLarge`
    before anything is decoded for an image over `max_pixels`)."""
    from PIL import Image, ImageDraw, ImageFont, ImageOps

    with open_image(data, max_pixels) as source:
        original = source.size
        source.draft("RGB", (ANNOTATED_MAX_SIDE, ANNOTATED_MAX_SIDE))  # big JPEGs decode at a reduced scale
        # The raw pixel grid (no EXIF rotation): the frame the width, height and boxes are reported in.
        image = source.convert("RGB")
    if max(image.size) > ANNOTATED_MAX_SIDE:
        image = ImageOps.contain(image, (ANNOTATED_MAX_SIDE, ANNOTATED_MAX_SIDE), Image.Resampling.LANCZOS)
    scale = image.width / original[0]
    draw = ImageDraw.Draw(image)
    side = max(image.size)
    line = max(2, side // 300)
    font = ImageFont.load_default(size=max(12, side // 45))
    for box in boxes:
        colour = colour_of(box.label)
        rect = (box.xmin * scale, box.ymin * scale, box.xmax * scale, box.ymax * scale)
        draw.rectangle(rect, outline=colour, width=line)
        caption = f"{box.label} {box.score:.0%}"
        left, top, right, bottom = draw.textbbox((0, 0), caption, font=font)
        text_w, text_h = right - left, bottom - top
        pad = max(2, line)
        x = min(max(0.0, rect[0]), max(0.0, image.width - text_w - 2 * pad))
        y = rect[1] - text_h - 2 * pad
        if y < 0:  # no room above the box: put the caption just inside it
            y = rect[1]
        draw.rectangle((x, y, x + text_w + 2 * pad, y + text_h + 2 * pad), fill=colour)
        draw.text((x + pad - left, y + pad - top), caption, fill=_ink_for(colour), font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _ink_for(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    red, green, blue = colour
    return (0, 0, 0) if red * 299 + green * 587 + blue * 114 > 150_000 else (255, 255, 255)


def not_annotated(model: str, found: list[dict[str, Any]], exc: Exception) -> OutputNotSaved:
    """After a billed call, the boxes could not be drawn or saved: the sentence carries what was found."""
    if isinstance(exc, OutputNotSaved):
        why = str(exc).split(", but ", 1)[-1].split("; nothing was kept", 1)[0]
        why += " (free some space or set WORKERS_AI_MCP_OUTPUT_DIR to another folder for the annotated image)"
    else:
        why = f"the image could not be fully decoded to draw the boxes on it ({exc})"
    return OutputNotSaved(
        f"{model} answered and the call was billed, but {why}. The {len(found)} objects it found are here "
        f"instead (no annotated image was saved): {json.dumps(found)}"
    )
