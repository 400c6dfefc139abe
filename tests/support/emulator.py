"""Constants and small real media files shared by the emulator's tests (their fixtures: tests/emulator/conftest.py)."""

from __future__ import annotations

import io
import wave

from support.media import small_png
from workers_ai_mcp.emulator import EMULATOR_TOKEN

ACCOUNT = "/client/v4/accounts/test-account"
AI = f"{ACCOUNT}/ai"
AUTH = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}
make_png = small_png  # the emulator tests' name for the shared sample image

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def make_wav(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(int(seconds * rate) * 2))
    return out.getvalue()


def mp3_frames(data: bytes) -> list[int]:
    """Offsets of the MPEG audio frames after an optional ID3v2 tag; asserts that the frames tile the file."""
    offset = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        offset = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    bitrates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
    rates = [44100, 48000, 32000]
    frames: list[int] = []
    while offset < len(data):
        header = data[offset : offset + 4]
        assert header[0] == 0xFF and header[1] & 0xE0 == 0xE0, f"no frame sync at {offset}"
        assert header[1] & 0x1E == 0x1A, "not MPEG-1 Layer III"
        length = 144 * bitrates[header[2] >> 4] * 1000 // rates[(header[2] >> 2) & 3] + ((header[2] >> 1) & 1)
        frames.append(offset)
        offset += length
    assert offset == len(data), "last frame is cut short"
    return frames
