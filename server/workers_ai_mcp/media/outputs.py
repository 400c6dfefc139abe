"""The output folder: generated files written whole, named uniquely, read back and listed by name.

Reading back obeys the same sandbox as media inputs: a plain, visible file name directly in the
output folder, of a type this server writes (image, audio, JSON, text), a regular file opened
without following any symlink, no larger than the media cap. Anything else is "not found".
"""

from __future__ import annotations

import errno
import heapq
import mimetypes
import os
import re
import stat
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..client.errors import InvalidRequestError, WorkersAIError
from .paths import PathRefused, open_below, read_open_file

OUTPUT_URI_PREFIX = "workers-ai://outputs/"
DEFAULT_READ_LIMIT = 25 * 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
# The kinds of file the tools write, and so the only kinds served back.
SERVED_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".json": "application/json",
    ".txt": "text/plain",
    ".vtt": "text/vtt",
    ".md": "text/markdown",
}
_EXTRA_TYPES = {
    ".mp3": "audio/mpeg", ".vtt": "text/vtt", ".json": "application/json", ".webp": "image/webp",
    ".md": "text/markdown",
}  # fmt: skip
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


class OutputNotSaved(WorkersAIError):
    """The model answered (so the call is billed) but its result could not be kept; the message says so."""


class OutputFolderUnusable(InvalidRequestError):
    """The output folder cannot hold a file, found before anything was sent."""


def _write(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


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
        self.saved = 0  # files written by this process: the server tells clients when it grows

    def save(self, data: bytes, *, stem: str, extension: str) -> SavedFile:
        """Write `data` as `<time>-<stem>-<id>.<extension>` and return where it went."""
        slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "output"
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{uuid.uuid4().hex[:8]}.{extension.lstrip('.')}"
        path = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
        except OSError as exc:
            raise self._not_saved(exc) from None
        try:
            _write(fd, data)
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._not_saved(exc) from None
            raise
        self.saved += 1
        return SavedFile(path=path, name=name, media_type=media_type_of(name), size=len(data))

    def check_usable(self) -> None:
        """Refuse, before a model is run, a folder no result can be saved in: not a folder, or not writable.

        The test is the real one (create the folder if missing, then create and remove a temporary file),
        so permissions, read-only mounts and a file in the folder's place all count."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
        except OSError as exc:
            reason = "it is a file, not a folder" if self.folder.is_file() else (exc.strerror or type(exc).__name__)
            raise OutputFolderUnusable(
                f"The output folder {self.folder} cannot hold the result ({reason}); set WORKERS_AI_MCP_OUTPUT_DIR "
                "to a folder you can write to. Nothing was sent to Workers AI."
            ) from None
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)

    def _not_saved(self, exc: OSError) -> OutputNotSaved:
        reason = "no space left on device" if exc.errno == errno.ENOSPC else (exc.strerror or type(exc).__name__)
        return OutputNotSaved(
            f"Workers AI answered and the call was billed, but its result could not be saved in {self.folder} "
            f"({reason}); nothing was kept (the partial file was removed). Free some space or set "
            "WORKERS_AI_MCP_OUTPUT_DIR to another folder, then call again."
        )

    def read(self, name: str, *, limit: int = DEFAULT_READ_LIMIT) -> tuple[bytes, str]:
        """Bytes and media type of an output file; `OutputNotFound` for anything the sandbox refuses."""
        media_type = served_type(name)
        shown = repr(name[:80])
        if media_type is None:
            raise OutputNotFound(
                f"{shown} is not the name of a generated file (a visible image, audio, JSON or text file)."
            )
        try:
            fd = open_below(self.folder.resolve(), [name])
        except FileNotFoundError:
            raise OutputNotFound(f"There is no generated file named {shown} in the output folder.") from None
        except OSError as exc:
            reason = "it is a symbolic link" if exc.errno in SYMLINK_ERRORS else (exc.strerror or "it cannot be opened")
            raise OutputNotFound(f"The output {shown} is not served ({reason}).") from None
        try:
            return read_open_file(fd, f"output {shown}", limit), media_type
        except PathRefused as exc:
            raise OutputNotFound(str(exc)) from None

    def newest(self, count: int, *, limit: int = DEFAULT_READ_LIMIT) -> list[SavedFile]:
        """The `count` newest files `read` would serve, newest first (one directory scan, no reads)."""
        found: list[tuple[float, SavedFile]] = []
        try:
            entries = os.scandir(self.folder)
        except OSError:
            return []
        with entries:
            for entry in entries:
                media_type = served_type(entry.name)
                if media_type is None:
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode) and info.st_size <= limit:
                    saved = SavedFile(Path(entry.path), entry.name, media_type, info.st_size)
                    found.append((info.st_mtime, saved))
        return [saved for _, saved in heapq.nlargest(count, found, key=lambda pair: (pair[0], pair[1].name))]


class OutputNotFound(InvalidRequestError):
    """The name does not lead to a file the output store serves; the message says why."""


# What opening a symlink with O_NOFOLLOW raises (ELOOP; EMLINK on FreeBSD).
SYMLINK_ERRORS = frozenset({errno.ELOOP, errno.EMLINK})


def served_type(name: str) -> str | None:
    """The MIME type of an output the store serves by this name, None when it serves none."""
    if not _NAME.fullmatch(name) or ".." in name:
        return None
    return SERVED_TYPES.get(Path(name).suffix.lower())


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
