"""Answers about images: classification, object detection, description. Images must really decode."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .envelope import JsonObj, bad_input
from .generate_text import MARK, stable_hash

_IMAGENET = (
    "TABBY", "EGYPTIAN CAT", "GOLDEN RETRIEVER", "PUG", "TEDDY", "COFFEE MUG", "LAPTOP", "SPORTS CAR",
    "MOUNTAIN BIKE", "PIZZA", "DAISY", "BANANA", "SEASHORE", "VOLCANO", "LAKESIDE", "STREET SIGN",
    "ESPRESSO", "WATER BOTTLE", "BALLOON", "LIGHTHOUSE",
)  # fmt: skip
_COCO = ("person", "car", "dog", "cat", "bicycle", "chair", "bottle", "cup", "laptop", "bird", "potted plant")
_COLOURS = {
    "black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128), "red": (200, 30, 30),
    "green": (30, 160, 60), "blue": (30, 60, 200), "yellow": (230, 210, 40), "orange": (240, 140, 20),
    "purple": (130, 50, 160), "brown": (120, 80, 40), "pink": (240, 150, 180), "teal": (20, 140, 140),
}  # fmt: skip


@dataclass(frozen=True)
class DecodedImage:
    data: bytes
    format: str
    width: int
    height: int
    mean_rgb: tuple[int, int, int]


def decode(data: bytes) -> DecodedImage:
    """Open and decode the image (400/5006 if it is not one), keeping what the answers need."""
    if not data:
        raise bad_input("the image is empty")
    try:
        with Image.open(io.BytesIO(data)) as image:
            size, fmt = image.size, image.format or "unknown"
            image.draft("RGB", (64, 64))  # JPEG decodes at reduced scale: cheap and enough for a mean colour
            tiny = image.convert("RGB").resize((1, 1), Image.Resampling.BOX)  # pyright: ignore[reportUnknownMemberType]
            pixel = tiny.getpixel((0, 0))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise bad_input(f"the image could not be decoded ({type(exc).__name__})") from None
    rgb = pixel if isinstance(pixel, tuple) else (0, 0, 0)
    return DecodedImage(data, fmt, size[0], size[1], (int(rgb[0]), int(rgb[1]), int(rgb[2])))


def classify(image: DecodedImage, top: int = 5) -> list[JsonObj]:
    """Five distinct labels with decreasing scores that sum to less than 1, chosen by the bytes' hash."""
    h = stable_hash(image.data)
    order = sorted(range(len(_IMAGENET)), key=lambda i: stable_hash(h, i))[:top]
    weights = [(1 + stable_hash(h, "w", rank) % 100 / 100) / (rank + 1) ** 1.5 for rank in range(top)]
    weights.sort(reverse=True)
    mass = 0.9 + (h % 9) / 100
    total = sum(weights)
    return [{"label": _IMAGENET[i], "score": w / total * mass} for i, w in zip(order, weights, strict=True)]


def detect(image: DecodedImage) -> list[JsonObj]:
    """One to three boxes inside the image's real width and height, best score first."""
    h = stable_hash(image.data)
    found: list[JsonObj] = []
    for n in range(1 + h % 3):
        k = stable_hash(h, n)
        w, ht = image.width, image.height
        xmin, ymin = k % max(1, w // 2), (k >> 16) % max(1, ht // 2)
        xmax = min(w, xmin + max(1, w // 4) + (k >> 32) % max(1, w // 4))
        ymax = min(ht, ymin + max(1, ht // 4) + (k >> 40) % max(1, ht // 4))
        found.append(
            {
                "score": 0.5 + (k >> 48) % 49 / 100,
                "label": _COCO[k % len(_COCO)],
                "box": {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax},
            }
        )
    return sorted(found, key=lambda item: -float(item["score"]))


def colour_name(rgb: tuple[int, int, int]) -> str:
    return min(_COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(_COLOURS[name], rgb, strict=True)))


def describe(image: DecodedImage, prompt: str, max_tokens: int) -> str:
    words = f"{MARK} A {image.width}x{image.height} {image.format} image, mostly {colour_name(image.mean_rgb)}."
    if prompt:
        words += f" You asked: {prompt}"
    return " ".join(words.split()[: max(1, max_tokens)])
