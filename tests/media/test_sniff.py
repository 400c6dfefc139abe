"""`sniff` names formats from their first bytes: real files written by Pillow and `wave`, and real headers."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from support.media_inputs import make_png, make_wav
from workers_ai_mcp.media.sniff import sniff


def _pillow(format: str, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (8, 6), (10, 200, 30) if mode == "RGB" else 7).save(out, format)
    return out.getvalue()


@pytest.mark.parametrize(
    ("format", "media_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_images_written_by_pillow_are_named_by_their_format(format: str, media_type: str) -> None:
    assert sniff(_pillow(format)) == media_type


def test_a_png_built_by_hand_and_a_wav_written_by_the_wave_module_are_recognised() -> None:
    assert sniff(make_png()) == "image/png"
    assert sniff(make_wav()) == "audio/wav"


OGG_PAGE = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13"


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x21TIT2", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 60, "audio/mpeg"),  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
        (b"\xff\xf3\x48\xc4" + b"\x00" * 60, "audio/mpeg"),  # MPEG-2 layer III
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", "audio/aac"),  # ADTS
        (OGG_PAGE + b"OpusHead\x01\x02", "audio/ogg"),
        (OGG_PAGE + b"\x01vorbis\x00\x00", "audio/ogg"),
        (OGG_PAGE + b"\x80theora\x03", "video/ogg"),
        (b"fLaC\x00\x00\x00\x22\x10\x00", "audio/flac"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42", "audio/mp4"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41", "video/mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/quicktime"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "image/avif"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm\x42\x87", "video/webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska\x42\x87", "video/x-matroska"),
    ],
)
def test_audio_and_video_containers_are_named_from_their_headers(head: bytes, media_type: str) -> None:
    assert sniff(head) == media_type


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"just some notes\nwith two lines\n", "text/plain"),
        ("caf\u00e9 cr\u00e8me".encode(), "text/plain"),
        (b"BM is how this sentence starts, not a bitmap", "text/plain"),
        (b"ID3 tags are metadata, this is prose", "text/plain"),
        (b"  <!DOCTYPE html><html><body>nope</body></html>", "text/html"),
        (b'{"image": "not really"}', "application/json"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "application/pdf"),
        (b"PK\x03\x04\x14\x00\x00\x00", "application/zip"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "application/gzip"),
    ],
)
def test_common_non_media_data_is_named_so_a_refusal_can_say_what_it_was(data: bytes, media_type: str) -> None:
    assert sniff(data) == media_type


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG",  # a cut signature
        b"\x00\x01\x02\x03\x04\x05",
        b"\xff\xfb\xf0\x64" + b"\x00" * 8,  # MPEG sync with the forbidden bitrate index 1111
        b"\xff\xfa\x9c\x64" + b"\x00" * 8,  # MPEG sync with the reserved sample rate 11
        b"RIFF\x24\x00\x00\x00AVI LIST",
        bytes(range(256)),
    ],
)
def test_unknown_or_truncated_binary_data_is_not_named(data: bytes) -> None:
    assert sniff(data) is None


def test_text_cut_in_the_middle_of_a_multibyte_character_still_reads_as_text() -> None:
    text = ("\u00e9" * 5000).encode()  # 10,000 bytes; the 4 KiB head ends inside a character or not
    assert sniff(text) == "text/plain"
    assert sniff(text[:4095]) == "text/plain"
