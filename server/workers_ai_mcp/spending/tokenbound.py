"""Upper bounds on the input tokens of a request, counted before it is sent, per script and per image.

A budget reserves a call's estimate before sending it, so the estimate must never be below what the
call is billed. Characters / 4 is a fair guess for English and a gross undercount elsewhere: Chinese,
Japanese, Korean and Thai text is about one token per character or more. The bound here is taken per
kind of character, from how the byte-level BPE and SentencePiece tokenizers of Workers AI's models split
text (each UTF-8 byte is at most one token in both, so bytes bound everything):

- a run of ASCII letters counts one token per two letters (English averages over four a token, and a
  one-letter word is one token), rounded up;
- every ASCII digit, punctuation mark or control character counts one (some tokenizers split digits);
- a single space is free (it joins the next word's token); a newline, tab or longer run of space, one;
- a character of two UTF-8 bytes (accented Latin, Greek, Cyrillic, Hebrew, Arabic) counts one; of three
  (CJK, kana, Hangul, Thai, Devanagari and the other Indic scripts, combining marks) two; of four (emoji,
  rare CJK) four.

An image counts one token per 14x14-pixel patch (the smallest patch of the vision encoders in use),
from the pixel size in its header, plus a margin, and at most `IMAGE_TOKENS_MAX`, the most any vision
model here makes of one image; an image whose size cannot be read counts `IMAGE_TOKENS_MAX`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re

from ..media.previews import PreviewError, image_size

_LETTER_RUNS = re.compile(r"[A-Za-z]+")
_ASCII_SYMBOLS = re.compile(r"[\x00-\x08\x0e-\x1f\x21-\x40\x5b-\x60\x7b-\x7f]")
_SPACING = re.compile(r"\s{2,}|[^\S ]")
_TWO_BYTES = re.compile(r"[\x80-\u07ff]")
_THREE_BYTES = re.compile(r"[\u0800-\uffff]")
_FOUR_BYTES = re.compile(r"[\U00010000-\U0010ffff]")

PATCH_PIXELS = 14 * 14
IMAGE_TOKENS_MARGIN = 64  # an image's begin/end markers and tile separators
# Qwen2.5-VL's default ceiling (12,845,056 pixels in 28x28 merged patches), the largest per-image count
# of the vision models in the catalog (Llama 3.2 Vision: 4 tiles of 1,601; Gemma 3: 256; Llama 4: 2,448).
IMAGE_TOKENS_MAX = 16_384
_HEADER_BYTES = 256 * 1024  # enough of an image for its header


def _count(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))


def text_token_bound(text: str) -> int:
    """At least as many tokens as any Workers AI model's tokenizer makes of `text` (see the module)."""
    if not text:
        return 0
    letters = sum((len(run) + 1) // 2 for run in _LETTER_RUNS.findall(text))
    ascii_rest = _count(_ASCII_SYMBOLS, text) + _count(_SPACING, text)
    if text.isascii():
        return letters + ascii_rest
    wide = _count(_TWO_BYTES, text) + 2 * _count(_THREE_BYTES, text) + 4 * _count(_FOUR_BYTES, text)
    return letters + ascii_rest + wide


def image_token_bound(image: object) -> int:
    """Tokens one image can cost: from its pixel count when its header can be read, else the most."""
    head = _image_head(image)
    if head is None:
        return IMAGE_TOKENS_MAX
    try:
        width, height = image_size(head)
    except PreviewError:
        return IMAGE_TOKENS_MAX
    return min(IMAGE_TOKENS_MAX, math.ceil(width * height / PATCH_PIXELS) + IMAGE_TOKENS_MARGIN)


def _image_head(image: object) -> bytes | None:
    """The first bytes of an image given as a list of byte values, base64 or a data URI."""
    if isinstance(image, list):
        values = image[:_HEADER_BYTES]  # pyright: ignore[reportUnknownVariableType]
        if all(isinstance(v, int) and 0 <= v < 256 for v in values):  # pyright: ignore[reportUnknownVariableType]
            return bytes(values)  # pyright: ignore[reportUnknownArgumentType]
        return None
    if not isinstance(image, str):
        return None
    encoded = image.partition(",")[2] if image.startswith("data:") else image
    chunk = encoded[: _HEADER_BYTES // 3 * 4]
    try:
        return base64.b64decode(chunk[: len(chunk) // 4 * 4], validate=False)
    except (binascii.Error, ValueError):
        return None
