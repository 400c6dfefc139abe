"""Generated media that real decoders accept: PNG gradients and silent MP3s."""

from __future__ import annotations

import functools
import io
import math

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from .generate_text import stable_hash

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo, no CRC: 144 * 128000 / 44100 = 417 bytes
# per unpadded frame, 1152 samples (about 26 ms) each. All-zero side info decodes as silence.
MP3_FRAME_HEADER = bytes.fromhex("FFFB9064")
MP3_FRAME_BYTES = 417
MP3_FRAME_SECONDS = 1152 / 44100
_SPEECH_SECONDS_PER_CHAR = 0.06


@functools.lru_cache(maxsize=16)
def png_image(prompt: str, width: int, height: int, seed: int = 0) -> bytes:
    """A width x height PNG: a four-corner gradient whose colours come from the prompt, labelled as emulated."""
    corners = [stable_hash(prompt, seed, corner).to_bytes(8, "big")[:3] for corner in range(4)]
    small = Image.frombytes("RGB", (2, 2), b"".join(corners))
    image = small.resize((width, height), Image.Resampling.BILINEAR)  # pyright: ignore[reportUnknownMemberType]
    ImageDraw.Draw(image).text((8, 8), "workers-ai emulator", fill=(255, 255, 255))
    info = PngInfo()
    info.add_text("Software", "workers-ai-mcp emulator (not a real model)")
    info.add_text("Description", prompt[:200])
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _id3_title(title: str) -> bytes:
    """A minimal ID3v2.3 tag with one TIT2 (title) frame."""
    text = b"\x00" + title.encode("latin-1", "replace")
    frame = b"TIT2" + len(text).to_bytes(4, "big") + b"\x00\x00" + text
    size = len(frame)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + frame


def mp3_silence(seconds: float, title: str = "[emulator] synthetic speech") -> bytes:
    frames = max(4, math.ceil(seconds / MP3_FRAME_SECONDS))
    frame = MP3_FRAME_HEADER + bytes(MP3_FRAME_BYTES - len(MP3_FRAME_HEADER))
    return _id3_title(title) + frame * frames


def speech_for(text: str) -> bytes:
    """Silent MP3 whose length grows with the text, as speech would."""
    return mp3_silence(max(0.5, len(text) * _SPEECH_SECONDS_PER_CHAR))
