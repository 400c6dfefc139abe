"""The output folder: generated files written whole, named uniquely, read back by name."""

from __future__ import annotations

import mimetypes
import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from mcp.types import ResourceLink

from ..client.errors import InvalidRequestError

OUTPUT_URI_PREFIX = "workers-ai://outputs/"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
_EXTRA_TYPES = {".mp3": "audio/mpeg", ".vtt": "text/vtt", ".json": "application/json", ".webp": "image/webp"}
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
}


@dataclass(frozen=True)
class SavedFile:
    """A file in the output folder."""

    path: Path
    name: str
    media_type: str
    size: int

    @property
    def uri(self) -> str:
        return OUTPUT_URI_PREFIX + self.name


class OutputStore:
    """Writes generated files atomically (temp file, then rename) so none is ever left half-written."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, data: bytes, *, stem: str, extension: str) -> SavedFile:
        """Write `data` as `<time>-<stem>-<id>.<extension>` and return where it went."""
        self.folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "output"
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{uuid.uuid4().hex[:8]}.{extension.lstrip('.')}"
        path = self.folder / name
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return SavedFile(path=path, name=name, media_type=media_type_of(name), size=len(data))

    def read(self, name: str) -> tuple[bytes, str]:
        """Bytes and media type of an output file; refuses names that are not plain file names."""
        if not _NAME.fullmatch(name) or ".." in name:
            raise InvalidRequestError(f"'{name[:80]}' is not the name of a generated file.")
        path = self.folder / name
        if not path.is_file():
            raise InvalidRequestError(f"There is no generated file named '{name}' in the output folder.")
        return path.read_bytes(), media_type_of(name)


def media_type_of(name: str) -> str:
    """MIME type from a file name's extension."""
    extension = Path(name).suffix.lower()
    return _EXTRA_TYPES.get(extension) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def extension_for(media_type: str) -> str:
    """File extension (without the dot) for a media type; `bin` when unknown."""
    known = _EXTENSIONS.get(media_type)
    if known:
        return known
    guessed = mimetypes.guess_extension(media_type)
    return guessed.lstrip(".") if guessed else "bin"


def resource_link(saved: SavedFile, description: str | None = None) -> ResourceLink:
    """A `resource_link` content block to a saved file (readable through `workers-ai://outputs/`)."""
    return ResourceLink(
        type="resource_link",
        uri=saved.uri,
        name=saved.name,
        mime_type=saved.media_type,
        size=saved.size,
        description=description,
    )
