"""What the reliability tests check on every result and on the output folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from support.results import text_of as text_of

# Bitrates (kbit/s) of MPEG-1 and MPEG-2/2.5 Layer III, by the header's 4-bit index.
_MPEG1_L3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_L3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_PNG_END = b"IEND\xaeB`\x82"
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frame_count(data: bytes) -> int:
    """Number of whole MPEG Layer III frames after an optional ID3v2 tag; ValueError if the file is cut or not MP3."""
    offset = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        offset = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    frames = 0
    while offset < len(data):
        header = data[offset : offset + 4]
        if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
            raise ValueError(f"no MPEG frame header at byte {offset}")
        version, layer = header[1] >> 3 & 0b11, header[1] >> 1 & 0b11
        bitrate_index, rate_index, padding = header[2] >> 4, header[2] >> 2 & 0b11, header[2] >> 1 & 1
        if layer != 0b01 or version == 1 or bitrate_index in (0, 15) or rate_index == 3:
            raise ValueError(f"not a Layer III frame at byte {offset}")
        kbps = (_MPEG1_L3_KBPS if version == 3 else _MPEG2_L3_KBPS)[bitrate_index]
        coefficient = 144 if version == 3 else 72
        length = coefficient * kbps * 1000 // _SAMPLE_RATES[version][rate_index] + padding
        if offset + length > len(data):
            raise ValueError(f"the frame at byte {offset} is cut off")
        offset += length
        frames += 1
    if frames == 0:
        raise ValueError("no MPEG frames")
    return frames


def assert_whole_file(path: Path) -> None:
    """A file in the output folder is complete and decodes as what its name says."""
    assert not path.name.startswith((".partial-", ".batches-")), f"half-written file left behind: {path.name}"
    data = path.read_bytes()
    match path.suffix:
        case ".png":
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # raises on a truncated image
                assert image.format == "PNG"
            assert data.endswith(_PNG_END), f"{path.name} does not end with the IEND chunk"
        case ".mp3":
            mp3_frame_count(data)
        case ".json":
            json.loads(data)
        case ".txt" | ".vtt":
            data.decode("utf-8")
        case _:
            raise AssertionError(f"unexpected file in the output folder: {path.name}")


def assert_whole_files(folder: Path) -> list[Path]:
    """Every file in the output folder is complete and decodes; no temporary file is left."""
    files = sorted(folder.iterdir()) if folder.exists() else []
    for path in files:
        assert_whole_file(path)
    return files
