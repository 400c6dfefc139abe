"""The local path sandbox: what `read_local_file` reads, and how it refuses everything else."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from workers_ai_mcp.media.paths import PathRefused, read_local_file
from workers_ai_mcp.settings import Settings

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def settings(media_settings: SettingsFactory) -> Settings:
    return media_settings()


@pytest.fixture
def cat(root: Path, png: bytes) -> Path:
    path = root / "cat.png"
    path.write_bytes(png)
    return path


def test_a_file_inside_the_root_is_read_by_absolute_or_relative_path(cat: Path, settings: Settings) -> None:
    by_absolute = read_local_file(str(cat), settings)
    by_relative = read_local_file("cat.png", settings)
    assert by_absolute.data == by_relative.data == cat.read_bytes()
    assert by_absolute.path == by_relative.path == cat.resolve()


def test_a_file_uri_is_read_like_its_path(root: Path, png: bytes, settings: Settings) -> None:
    (root / "two words.png").write_bytes(png)
    result = read_local_file((root / "two words.png").as_uri(), settings)
    assert result.data == png


def test_a_file_uri_naming_another_machine_is_refused(settings: Settings) -> None:
    with pytest.raises(PathRefused, match="names another machine"):
        read_local_file("file://fileserver/share/cat.png", settings)


def test_a_tilde_path_expands_to_the_home_folder(
    tmp_path: Path, png: bytes, media_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "Pictures").mkdir(parents=True)
    (home / "Pictures" / "cat.png").write_bytes(png)
    monkeypatch.setenv("HOME", str(home))
    result = read_local_file("~/Pictures/cat.png", media_settings(input_roots=[home]))
    assert result.data == png
    assert result.path == (home / "Pictures" / "cat.png").resolve()


def test_a_file_in_the_output_folder_is_readable_so_outputs_can_feed_the_next_tool(
    tmp_path: Path, png: bytes, settings: Settings
) -> None:
    settings.output_dir.mkdir(parents=True)
    (settings.output_dir / "generated.png").write_bytes(png)
    assert read_local_file(str(settings.output_dir / "generated.png"), settings).data == png


def test_dot_dot_traversal_out_of_the_root_is_refused_and_names_the_setting(
    tmp_path: Path, png: bytes, settings: Settings
) -> None:
    (tmp_path / "secret.png").write_bytes(png)
    with pytest.raises(PathRefused) as refused:
        read_local_file("../secret.png", settings)
    message = str(refused.value)
    assert "is outside the allowed folders" in message
    assert "WORKERS_AI_MCP_INPUT_ROOTS" in message
    assert str(settings.input_roots[0]) in message


def test_a_missing_file_outside_the_roots_gets_the_same_refusal_as_an_existing_one(
    tmp_path: Path, png: bytes, settings: Settings
) -> None:
    (tmp_path / "exists.png").write_bytes(png)
    messages: list[str] = []
    for name in ("exists.png", "does-not-exist.png"):
        with pytest.raises(PathRefused) as refused:
            read_local_file(str(tmp_path / name), settings)
        messages.append(str(refused.value).replace(name, "NAME"))
    assert messages[0] == messages[1]
    assert "outside the allowed folders" in messages[0]


def test_a_symlink_inside_the_root_pointing_outside_is_refused(
    tmp_path: Path, root: Path, png: bytes, settings: Settings
) -> None:
    (tmp_path / "elsewhere.png").write_bytes(png)
    (root / "innocent.png").symlink_to(tmp_path / "elsewhere.png")
    with pytest.raises(PathRefused, match="outside the allowed folders"):
        read_local_file("innocent.png", settings)


def test_a_symlinked_folder_inside_the_root_pointing_outside_is_refused(
    tmp_path: Path, root: Path, png: bytes, settings: Settings
) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "cat.png").write_bytes(png)
    (root / "shortcut").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(PathRefused, match="outside the allowed folders"):
        read_local_file("shortcut/cat.png", settings)


def test_a_file_in_a_hidden_folder_is_refused_by_name(root: Path, png: bytes, settings: Settings) -> None:
    (root / ".ssh").mkdir()
    (root / ".ssh" / "id_rsa.png").write_bytes(png)
    with pytest.raises(PathRefused, match=r"hidden file or folder \(\.ssh\)"):
        read_local_file(str(root / ".ssh" / "id_rsa.png"), settings)


def test_a_hidden_file_is_refused(root: Path, png: bytes, settings: Settings) -> None:
    (root / ".env.png").write_bytes(png)
    with pytest.raises(PathRefused, match=r"hidden file or folder \(\.env\.png\)"):
        read_local_file(".env.png", settings)


def test_a_visible_symlink_to_a_hidden_file_is_refused(root: Path, png: bytes, settings: Settings) -> None:
    (root / ".aws").mkdir()
    (root / ".aws" / "credentials.png").write_bytes(png)
    (root / "harmless.png").symlink_to(root / ".aws" / "credentials.png")
    with pytest.raises(PathRefused, match=r"hidden file or folder \(\.aws\)"):
        read_local_file("harmless.png", settings)


def test_a_path_through_a_hidden_folder_is_refused_even_when_it_leads_to_a_visible_file(
    root: Path, png: bytes, cat: Path, settings: Settings
) -> None:
    (root / ".git").mkdir()
    (root / ".git" / "back").symlink_to(root, target_is_directory=True)
    for value in (".git/../cat.png", ".git/back/cat.png"):
        with pytest.raises(PathRefused, match=r"hidden file or folder \(\.git\)"):
            read_local_file(value, settings)


def test_a_root_reached_through_a_symlinked_parent_is_judged_below_the_root(
    tmp_path: Path, png: bytes, media_settings: SettingsFactory
) -> None:
    real = tmp_path / "real"
    (real / ".cache").mkdir(parents=True)
    (real / "cat.png").write_bytes(png)
    (real / ".cache" / "cat.png").write_bytes(png)
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    settings = media_settings(input_roots=[real])
    assert read_local_file(str(tmp_path / "alias" / "cat.png"), settings).data == png
    with pytest.raises(PathRefused, match=r"hidden file or folder \(\.cache\)"):
        read_local_file(str(tmp_path / "alias" / ".cache" / "cat.png"), settings)


def test_a_root_inside_a_hidden_folder_still_serves_its_visible_files(
    tmp_path: Path, png: bytes, media_settings: SettingsFactory
) -> None:
    nested = tmp_path / ".local" / "media"
    nested.mkdir(parents=True)
    (nested / "cat.png").write_bytes(png)
    assert read_local_file(str(nested / "cat.png"), media_settings(input_roots=[nested])).data == png


def test_a_directory_is_refused_as_a_folder(root: Path, settings: Settings) -> None:
    (root / "album").mkdir()
    with pytest.raises(PathRefused, match="is a folder, not a file"):
        read_local_file("album", settings)


def test_a_missing_file_inside_the_root_is_reported_as_missing(settings: Settings) -> None:
    with pytest.raises(PathRefused, match="There is no file at nothing-here.png"):
        read_local_file("nothing-here.png", settings)


def test_a_named_pipe_is_refused_without_blocking(root: Path, settings: Settings) -> None:
    os.mkfifo(root / "pipe.png")
    with pytest.raises(PathRefused, match="not a regular file"):
        read_local_file("pipe.png", settings)


def test_a_symlink_loop_is_refused(root: Path, settings: Settings) -> None:
    (root / "a.png").symlink_to(root / "b.png")
    (root / "b.png").symlink_to(root / "a.png")
    with pytest.raises(PathRefused, match="cannot be resolved"):
        read_local_file("a.png", settings)


def test_a_file_larger_than_the_limit_is_refused_from_its_size(
    root: Path, png: bytes, media_settings: SettingsFactory
) -> None:
    with (root / "big.png").open("wb") as handle:
        handle.write(png)
        handle.truncate(10 * 1024 * 1024)  # sparse: costs no disk
    with pytest.raises(PathRefused, match=r"is 10\.0 MiB, more than the 0\.1 MiB limit"):
        read_local_file("big.png", media_settings(max_input_bytes=100 * 1024))


def test_a_path_with_a_nul_character_is_refused(settings: Settings) -> None:
    with pytest.raises(PathRefused, match="NUL character"):
        read_local_file("cat.png\x00.txt", settings)
