"""The store never follows a symbolic link: a linked `state.sqlite3` (to another application's database,
or dangling) or a linked state folder is refused with one warning, spending is kept in memory, and
the link's target is left untouched."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette

from support.session import open_session
from support.settings import make_settings

TRANSLATE = {"text": "hello", "target_lang": "fr"}


async def _call_with_state_in(state: Path, tmp_path: Path, emulator_app: Starlette) -> None:
    async with open_session(make_settings(tmp_path, state_dir=state), upstream=emulator_app) as client:
        with anyio.fail_after(20):
            result = await client.call_tool("translate", TRANSLATE)
            assert not result.is_error
            usage = await client.call_tool("usage", {})
    assert not usage.is_error  # spending is still counted (in memory)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "state store" in r.getMessage()]


async def test_a_store_file_linked_to_another_database_is_refused_and_the_database_left_alone(
    tmp_path: Path, emulator_app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    other = tmp_path / "other-app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = other.read_bytes()
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.sqlite3").symlink_to(other)
    await _call_with_state_in(state, tmp_path, emulator_app)
    assert other.read_bytes() == before
    assert not (tmp_path / "other-app.db-wal").exists()
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "symbolic link" in warnings[0], warnings


async def test_a_dangling_store_link_creates_nothing_where_it_points(
    tmp_path: Path, emulator_app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.sqlite3").symlink_to(tmp_path / "elsewhere.db")
    await _call_with_state_in(state, tmp_path, emulator_app)
    assert not (tmp_path / "elsewhere.db").exists()
    assert len(_warnings(caplog)) == 1


async def test_a_state_folder_that_is_a_link_is_refused_and_its_target_left_empty(
    tmp_path: Path, emulator_app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "real-folder"
    target.mkdir()
    linked = tmp_path / "state-link"
    linked.symlink_to(target, target_is_directory=True)
    await _call_with_state_in(linked, tmp_path, emulator_app)
    assert list(target.iterdir()) == []
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "symbolic link" in warnings[0], warnings
