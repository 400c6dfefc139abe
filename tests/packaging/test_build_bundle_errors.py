"""scripts/build_bundle.py answers a missing interpreter or a missing npm with one sentence, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import workers_ai_mcp
from support.repository import ROOT, load_script


def run_builder(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "scripts" / "build_bundle.py"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)


@pytest.mark.parametrize("python", ["python3.99", "/nonexistent/bin/python3"])
def test_a_missing_interpreter_is_one_sentence(python: str) -> None:
    done = run_builder("--python", python)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"No Python interpreter runs as '{python}'")
    assert not (ROOT / "dist" / "None").exists()


def test_missing_npm_is_one_sentence_naming_node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    builder = load_script("build_bundle")
    monkeypatch.setattr(builder, "MCPB", tmp_path / "no-mcpb")
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    with pytest.raises(SystemExit) as stopped:
        builder.ensure_mcpb()
    message = str(stopped.value)
    assert "Node.js" in message and "npm" in message
    assert "\n" not in message


def test_the_version_comes_from_the_package() -> None:
    assert load_script("build_bundle").project_version() == workers_ai_mcp.__version__
