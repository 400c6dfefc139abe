"""What a blob of bytes is, from its first bytes alone (stdlib only, no decoding).

`sniff` names the image and audio formats Workers AI models read, plus a few common
non-media types (text, PDF, ZIP, SVG) so that a refusal can say what the data looked like.
"""

from __future__ import annotations

import codecs

_HEAD = 4096

_FTYP_BRANDS = {
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"M4P ": "audio/mp4",
    b"F4A ": "audio/mp4",
    b"F4B ": "audio/mp4",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"qt  ": "video/quicktime",
}

_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}


def sniff(data: bytes) -> str | None:
    """The MIME type `data` starts like, or None when it is not recognised."""
    head = data[:_HEAD]
    return _image(head) or _audio_video(head) or _other(head)


def _image(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    # "BM" alone starts plenty of text; also require a known DIB header size.
    if len(head) >= 18 and head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "image/bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    return None


def _audio_video(head: bytes) -> str | None:
    if _id3_tag(head) or _mpeg_frame(head):
        return "audio/mpeg"
    if _adts_frame(head):
        return "audio/aac"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "video/ogg" if b"\x80theora" in head[:512] else "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"3gp"):
            return "video/3gpp"
        return _FTYP_BRANDS.get(brand, "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM, named by its DocType
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    return None


def _id3_tag(head: bytes) -> bool:
    """An ID3v2 tag, which starts most MP3 files: "ID3", version 2-4, a revision below 0xFF."""
    return len(head) >= 10 and head.startswith(b"ID3") and head[3] in (2, 3, 4) and head[4] != 0xFF


def _mpeg_frame(head: bytes) -> bool:
    """An MPEG audio frame header (MP3 without ID3 tag): sync bits plus valid fields."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate not in (0b0000, 0b1111) and sample_rate != 0b11


def _adts_frame(head: bytes) -> bool:
    """An AAC ADTS frame header: 12 sync bits, layer 00, a valid sampling index."""
    return len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0 and ((head[2] >> 2) & 0x0F) < 13


def _other(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    text = _as_text(head)
    if text is None:
        return None
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<svg") or (start.startswith("<?xml") and "<svg" in start):
        return "image/svg+xml"
    if start.startswith(("<!doctype html", "<html")):
        return "text/html"
    if start.startswith(("{", "[")):
        return "application/json"
    return "text/plain"


def _as_text(head: bytes) -> str | None:
    """`head` decoded as UTF-8 when it reads as text (no NUL or stray control bytes), else None."""
    if not head:
        return None
    try:
        # Not final: the head may end in the middle of a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if any(ord(char) < 32 and char not in "\t\n\r\f\x1b" for char in text):
        return None
    return text
