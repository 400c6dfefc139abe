"""The local path sandbox: read a file only when it is a regular, visible file inside an input root.

A path may be absolute, `~`-relative, relative to the first input root, or a `file://` URI.
Symlinks are followed, and both the path as given and the path it resolves to must stay
inside one root and out of hidden files and folders (`.ssh`, `.aws`, `.env`, `.git`, ...).
A path outside the roots is refused the same way whether it exists or not, so the refusal
reveals nothing about the rest of the disk.

The file is opened without following a final symlink and checked again on the open
descriptor, so a swap between the checks and the read is caught; a swap of a parent folder
in that window is not (that needs a local attacker who can already write inside a root).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import NoReturn
from urllib.parse import unquote, urlsplit

from ..settings import Settings

_MEBIBYTE = 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class PathRefused(ValueError):
    """The path may not be read; the message says why and what to do."""


@dataclass(frozen=True)
class LocalFile:
    """A file read from inside an input root."""

    data: bytes
    path: Path


def read_local_file(value: str, settings: Settings) -> LocalFile:
    """Read the file `value` names, after every sandbox check; raise `PathRefused` otherwise."""
    shown = _clip(value)
    roots = [root.resolve() for root in settings.allowed_input_roots]
    given = _given_path(value, roots)
    try:
        resolved = given.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on Python 3.11
        _refuse_unresolvable(given, shown, roots, exc)
    root = _root_of(resolved, roots)
    if root is None:
        raise _outside(shown, roots)
    _refuse_hidden(given, resolved, root, shown, roots)

    info = resolved.stat()
    _check_regular(info, shown, settings.max_input_bytes)
    try:
        fd = os.open(resolved, _OPEN_FLAGS)
    except OSError as exc:
        raise PathRefused(f"The file {shown} cannot be opened ({exc.strerror or exc}).") from None
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            raise PathRefused(f"The file {shown} changed while it was being opened; try again.")
        _check_regular(opened, shown, settings.max_input_bytes)
        data = handle.read(opened.st_size + 1)
    if len(data) > settings.max_input_bytes:
        raise _too_large(shown, len(data), settings.max_input_bytes)
    if len(data) != opened.st_size:
        raise PathRefused(f"The file {shown} changed while it was being read; try again when it is complete.")
    return LocalFile(data=data, path=resolved)


def display_path(path: Path) -> str:
    """`path` with the home folder written as `~`."""
    home = Path.home()
    if path.is_relative_to(home):
        rest = path.relative_to(home)
        return "~" if rest == PurePath(".") else f"~/{rest.as_posix()}"
    return str(path)


def _given_path(value: str, roots: list[Path]) -> Path:
    text = value.strip()
    if "\x00" in text:
        raise PathRefused(f"The path {_clip(value)} contains a NUL character; pass a plain file path.")
    if text.lower().startswith("file:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise PathRefused(f"The file URI {_clip(value)} names another machine; pass a local file path.")
        text = unquote(parts.path)
    try:
        path = Path(text).expanduser()
    except RuntimeError:
        raise PathRefused(f"The path {_clip(value)} starts with ~ but the home folder is unknown.") from None
    return path if path.is_absolute() else roots[0] / path


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    return next((root for root in roots if path.is_relative_to(root)), None)


def _hidden_part(parts: tuple[str, ...]) -> str | None:
    return next((part for part in parts if part.startswith(".") and part not in (".", "..")), None)


def _given_parts_below(given: Path, root: Path) -> tuple[str, ...]:
    """Components of `given` below `root`, matching textually or else through resolved prefixes."""
    if given.is_relative_to(root):
        return given.relative_to(root).parts
    # The path reaches the root through a symlink (e.g. /tmp -> /private/tmp): find the
    # shortest prefix of it that resolves into the root, and judge what follows.
    parts = given.parts
    for index in range(1, len(parts) + 1):
        if Path(os.path.realpath(Path(*parts[:index]))).is_relative_to(root):
            return parts[index:]
    return parts


def _refuse_hidden(given: Path, resolved: Path, root: Path, shown: str, roots: list[Path]) -> None:
    hidden = _hidden_part(_given_parts_below(given, root)) or _hidden_part(resolved.relative_to(root).parts)
    if hidden is not None:
        raise PathRefused(
            f"The file {shown} is inside a hidden file or folder ({hidden}), which is never read; "
            "move or copy it to a visible folder."
        )


def _refuse_unresolvable(given: Path, shown: str, roots: list[Path], exc: BaseException) -> NoReturn:
    # Judge where the path would lead first, so nothing is revealed about files outside the roots.
    loose = Path(os.path.realpath(given))  # unlike Path.resolve, never raises on a symlink loop
    root = _root_of(loose, roots)
    if root is None:
        raise _outside(shown, roots) from None
    _refuse_hidden(given, loose, root, shown, roots)
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        raise PathRefused(
            f"There is no file at {shown}; check the path (relative paths start at {display_path(roots[0])})."
        ) from None
    if isinstance(exc, PermissionError):
        raise PathRefused(f"The file {shown} cannot be read (permission denied).") from None
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    raise PathRefused(f"The path {shown} cannot be resolved ({reason}).") from None


def _check_regular(info: os.stat_result, shown: str, limit: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise PathRefused(f"{shown} is a folder, not a file; pass the path of a file inside it.")
    if not stat.S_ISREG(info.st_mode):
        raise PathRefused(f"{shown} is not a regular file (a device, pipe or socket); pass an ordinary file.")
    if info.st_size > limit:
        raise _too_large(shown, info.st_size, limit)


def _outside(shown: str, roots: list[Path]) -> PathRefused:
    folders = ", ".join(display_path(root) for root in roots)
    return PathRefused(
        f"The file {shown} is outside the allowed folders ({folders}); set WORKERS_AI_MCP_INPUT_ROOTS to allow it."
    )


def _too_large(shown: str, size: int, limit: int) -> PathRefused:
    return PathRefused(
        f"The file {shown} is {size / _MEBIBYTE:.1f} MiB, more than the {limit / _MEBIBYTE:.1f} MiB limit "
        "(WORKERS_AI_MCP_MAX_INPUT_BYTES); pass a smaller file."
    )


def _clip(text: str, limit: int = 120) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
