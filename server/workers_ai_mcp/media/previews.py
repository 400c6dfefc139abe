"""Image previews: downscaled, re-encoded copies small enough to put inline in a tool result.

Pillow is imported inside the functions: the server must start without loading it. Every image is
opened through `open_image`, which reads only the header and refuses one over the pixel cap before
anything is decoded (a 20 KB PNG can declare 150 megapixels: gigabytes once decoded).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

# Long side of a preview: enough to see what was made, small enough for an assistant's context.
PREVIEW_MAX_SIDE = 1024
# Previews at or under this many pixels may stay PNG (sharp edges, few colours); larger ones are photos.
_PNG_MAX_PIXELS = 400 * 400
_SMALLEST_SIDE = 16
_INLINE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


# The largest image any model takes is far smaller; WORKERS_AI_MCP_MAX_IMAGE_PIXELS sets it.
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000


class PreviewError(ValueError):
    """The bytes are not an image Pillow can read, or no preview fits the cap."""


class ImageTooLarge(PreviewError):
    """The image's header declares more pixels than the cap; the message is the sentence to show."""


def _too_large(pixels: str, max_pixels: int) -> ImageTooLarge:
    return ImageTooLarge(
        f"The image is {pixels}, over the limit of {max_pixels / 1e6:g} megapixels "
        "(WORKERS_AI_MCP_MAX_IMAGE_PIXELS); send a smaller image."
    )


def open_image(data: bytes, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> PILImage:
    """The image opened lazily (header only), refused with `ImageTooLarge` above `max_pixels`.

    Pillow's own bomb guard stays on at the same cap, its warning an error, both turned into the sentence.
    """
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        declared = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow's "Image size (N pixels) exceeds ..."
        pixels = f"{int(declared[1]) / 1e6:.0f} megapixels" if declared else f"over {max_pixels / 1e6:g} megapixels"
        raise _too_large(pixels, max_pixels) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PreviewError(f"not a readable image ({type(exc).__name__})") from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_large(f"{width}x{height} ({width * height / 1e6:.0f} megapixels)", max_pixels)
    return image


class Preview(NamedTuple):
    """An encoded preview and its pixel size."""

    data: bytes
    mime_type: str
    width: int
    height: int


def sniff_image_type(data: bytes) -> str | None:
    """MIME type of PNG, JPEG, WebP or GIF bytes from their signature, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def image_size(data: bytes, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """Width and height from the image header (nothing is decoded); `ImageTooLarge` over the cap."""
    with open_image(data, max_pixels) as image:
        return image.size


def make_preview(
    data: bytes, max_bytes: int, *, max_side: int = PREVIEW_MAX_SIDE, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> Preview:
    """A copy of the image whose encoded bytes are at most `max_bytes`, never upscaled.

    An image that already fits (a format every client shows, within `max_side` and `max_bytes`) is
    returned as it is. Others are scaled to `max_side`, then encoded as PNG only when small, else JPEG
    (WebP when there is transparency), shrinking until they fit.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with open_image(data, max_pixels) as source:
            width, height = source.size
            mime = _INLINE_FORMATS.get(source.format or "")
            if mime and len(data) <= max_bytes and max(width, height) <= max_side:
                return Preview(data, mime, width, height)
            target = _fit((width, height), max_side)
            source.draft("RGB", target)  # JPEG: decode at a reduced scale, much faster for big photos
            image = ImageOps.exif_transpose(source)
            alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if alpha else "RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        if isinstance(exc, PreviewError):
            raise
        raise PreviewError(f"not a readable image ({type(exc).__name__})") from None
    size = _fit(image.size, max_side)
    while True:
        scaled = image if size == image.size else ImageOps.contain(image, size, Image.Resampling.LANCZOS)
        smallest = 0
        for encoded, mime in _encodings(scaled, alpha=alpha):
            if len(encoded) <= max_bytes:
                return Preview(encoded, mime, scaled.width, scaled.height)
            smallest = min(smallest or len(encoded), len(encoded))
        if max(size) <= _SMALLEST_SIDE:
            raise PreviewError(f"no preview of this image fits in {max_bytes} bytes")
        factor = min(0.85, max(0.5, (max_bytes / smallest) ** 0.5 * 0.95))
        size = (max(1, int(size[0] * factor)), max(1, int(size[1] * factor)))


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encodings(image: PILImage, *, alpha: bool) -> Iterator[tuple[bytes, str]]:
    """Candidate encodings, best looking first; the caller stops at the first that fits."""
    if image.width * image.height <= _PNG_MAX_PIXELS:
        yield _encode(image, "PNG"), "image/png"
    if alpha:
        yield _encode(image, "WEBP", quality=80), "image/webp"
        yield _encode(image, "WEBP", quality=60), "image/webp"
    else:
        yield _encode(image, "JPEG", quality=85, optimize=True), "image/jpeg"
        yield _encode(image, "JPEG", quality=65, optimize=True), "image/jpeg"


def _encode(image: PILImage, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()
