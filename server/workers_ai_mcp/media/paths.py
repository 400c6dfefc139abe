"""The local path sandbox: read a file only when it is a regular, visible file inside an input root.

A path may be absolute, `~`-relative, relative to the first input root, or a `file://` URI.
Symlinks are followed, and both the path as given and the path it resolves to must stay
inside one root and out of hidden files and folders (`.ssh`, `.aws`, `.env`, `.git`, ...).
A path outside the roots is refused the same way whether it exists or not, so the refusal
reveals nothing about the rest of the disk.

The checked path is then opened one component at a time from a descriptor of its root,
refusing a symlink at every step (`O_NOFOLLOW`, `O_DIRECTORY`, `dir_fd`), so a file or a parent
folder swapped for a symlink after the checks is refused instead of followed. Where the
platform lacks `dir_fd` (Windows), the file is opened by its full path without following a
final symlink and compared with what was checked. Reads stop at the size cap plus one byte.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import NoReturn
from urllib.parse import unquote, urlsplit

from ..settings import Settings

_MEBIBYTE = 1024 * 1024
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_DIR_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_DIRECTORY", 0)
# Component-by-component opening needs all three; without them the fallback below applies.
WALKS_BY_DESCRIPTOR = os.open in os.supports_dir_fd and bool(_NOFOLLOW) and hasattr(os, "O_DIRECTORY")
# What a symlink met by O_NOFOLLOW (or a file where a folder was) raises.
_SWAPPED = frozenset({errno.ELOOP, errno.ENOTDIR, getattr(errno, "EMLINK", errno.ELOOP)})


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
    try:
        return _read_local_file(value, shown, settings)
    except PathRefused:
        raise
    except (OSError, ValueError) as exc:  # nothing unforeseen may escape as a traceback
        raise PathRefused(f"The file {shown} cannot be read ({_reason(exc)}).") from None


def _read_local_file(value: str, shown: str, settings: Settings) -> LocalFile:
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
    parts = resolved.relative_to(root).parts
    if not parts:
        raise PathRefused(f"{shown} is a folder, not a file; pass the path of a file inside it.")
    try:
        fd = open_below(root, parts)
    except OSError as exc:
        raise _open_refusal(exc, shown, roots) from None
    return LocalFile(data=read_open_file(fd, shown, settings.max_input_bytes), path=resolved)


def open_below(root: Path, parts: Sequence[str]) -> int:
    """A read descriptor for `root/parts...`, never following a symlink below `root`; raises OSError."""
    if not WALKS_BY_DESCRIPTOR:
        return _open_by_path(root.joinpath(*parts))
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
        return os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)


def _open_by_path(path: Path) -> int:
    checked = path.lstat()
    if stat.S_ISLNK(checked.st_mode):
        raise OSError(errno.ELOOP, "the file is a symbolic link")
    fd = os.open(path, _FILE_FLAGS)
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
        os.close(fd)
        raise OSError(errno.ELOOP, "the file changed while it was being opened")
    return fd


def read_open_file(fd: int, shown: str, limit: int) -> bytes:
    """All bytes of the regular file open on `fd` (which is closed), at most `limit` of them."""
    try:
        opened = os.fstat(fd)
        _check_regular(opened, shown, limit)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(opened.st_size + 1)
        except OSError as exc:
            raise PathRefused(
                f"The file {shown} could not be read ({_reason(exc)}); check the disk, "
                "or copy the file and pass the copy."
            ) from None
    if len(data) > limit:
        raise _too_large(shown, len(data), limit)
    if len(data) != opened.st_size:
        raise PathRefused(f"The file {shown} changed while it was being read; try again when it is complete.")
    return data


def display_path(path: Path) -> str:
    """`path` with the home folder written as `~`."""
    home = Path.home()
    if path.is_relative_to(home):
        rest = path.relative_to(home)
        return "~" if rest == PurePath(".") else f"~/{rest.as_posix()}"
    return str(path)


def _given_path(value: str, roots: list[Path]) -> Path:
    text = value.strip()
    if text.lower().startswith("file:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise PathRefused(f"The file URI {_clip(value)} names another machine; pass a local file path.")
        text = unquote(parts.path)
    if "\x00" in text:  # checked after percent-decoding, so %00 is caught too
        raise PathRefused(f"The path {_clip(value)} contains a NUL character; pass a plain file path.")
    try:
        os.fsencode(text)
    except UnicodeError:
        raise PathRefused(
            f"The path {_clip(value)} contains characters no file name can hold; pass a plain file path."
        ) from None
    try:
        path = Path(text).expanduser()
    except RuntimeError:
        raise PathRefused(f"The path {_clip(value)} starts with ~ but the home folder is unknown.") from None
    return path if path.is_absolute() else roots[0] / path


def _root_of(path: Path, roots: list[Path]) -> Path | None:
    return next((root for root in roots if path.is_relative_to(root)), None)


def hidden_part(parts: Sequence[str]) -> str | None:
    """The first hidden component (`.name`) of `parts`, if any."""
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
    hidden = hidden_part(_given_parts_below(given, root)) or hidden_part(resolved.relative_to(root).parts)
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
        raise _missing(shown, roots) from None
    if isinstance(exc, PermissionError):
        raise PathRefused(f"The file {shown} cannot be read (permission denied).") from None
    raise PathRefused(f"The path {shown} cannot be resolved ({_reason(exc)}).") from None


def _open_refusal(exc: OSError, shown: str, roots: list[Path]) -> PathRefused:
    if isinstance(exc, FileNotFoundError):
        return _missing(shown, roots)
    if isinstance(exc, PermissionError):
        return PathRefused(f"The file {shown} cannot be read (permission denied).")
    if exc.errno in _SWAPPED:
        return PathRefused(
            f"The file {shown} changed while it was being opened (a folder or file on its path became a "
            "symbolic link); try again."
        )
    return PathRefused(f"The file {shown} cannot be opened ({_reason(exc)}).")


def _check_regular(info: os.stat_result, shown: str, limit: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise PathRefused(f"{shown} is a folder, not a file; pass the path of a file inside it.")
    if not stat.S_ISREG(info.st_mode):
        raise PathRefused(f"{shown} is not a regular file (a device, pipe or socket); pass an ordinary file.")
    if info.st_size > limit:
        raise _too_large(shown, info.st_size, limit)


def _missing(shown: str, roots: list[Path]) -> PathRefused:
    return PathRefused(
        f"There is no file at {shown}; check the path (relative paths start at {display_path(roots[0])})."
    )


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


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc))[:120] or type(exc).__name__


def _clip(text: str, limit: int = 120) -> str:
    text = text.strip().encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates made visible
    return text if len(text) <= limit else text[: limit - 1] + "…"
