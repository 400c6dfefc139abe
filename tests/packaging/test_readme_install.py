"""The README's "Install for real use" section, as written: every host configuration shows the form that
works today (a clone or a wheel after `--from`) and the `uvx workers-ai-mcp` form for after the first
PyPI release; and (slow, run by scripts/check_release.sh with README_INSTALL_CLONE and
README_INSTALL_WHEEL set) each of today's commands, with the README's placeholders replaced by a fresh
clone and a built wheel, starts the server and answers tools/list.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from support.repository import ROOT

CLONE = os.environ.get("README_INSTALL_CLONE")  # read at import: the autouse fixture cleans the environment
WHEEL = os.environ.get("README_INSTALL_WHEEL")
CLONE_PLACEHOLDER = "/path/to/workers-ai-mcp"
UVX_PLACEHOLDER = "/Users/you/.local/bin/uvx"
HOSTS = ("### Claude Desktop", "### Claude Code", "### Cursor and VS Code")
# What a host's own environment supplies on this machine and the SDK's stdio client does not pass on:
# TLS roots, proxies and uv's index settings (uvx may fetch build requirements on a first launch).
MACHINE_ENV = re.compile(r"^(SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|(HTTPS?|NO|ALL)_PROXY|UV_[A-Z_]+)$", re.I)


def install_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Install for real use\n")
    return readme[start : readme.index("\n## ", start + 1)]


def host_sections() -> dict[str, str]:
    section = install_section()
    found: dict[str, str] = {}
    for host in HOSTS:
        start = section.index(host + "\n")
        end = section.find("\n### ", start + 1)
        found[host] = section[start : end if end != -1 else len(section)]
    return found


def json_entries(text: str) -> list[dict[str, Any]]:
    """Every server entry of every ```json block: {"command", "args", "env"}."""
    entries: list[dict[str, Any]] = []
    for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL):
        document = json.loads(block)
        for key in ("mcpServers", "servers"):
            entries.extend(document.get(key, {}).values())
    return entries


def claude_code_commands(text: str) -> list[list[str]]:
    return [shlex.split(line.split(" -- ", 1)[1]) for line in text.splitlines() if line.startswith("claude mcp add")]


def is_today(argv: list[str]) -> bool:
    return "--from" in argv and argv[argv.index("--from") + 1] == CLONE_PLACEHOLDER


def test_every_host_shows_todays_form_and_the_pypi_form_and_says_which_is_which() -> None:
    for host, text in host_sections().items():
        argvs = [[entry["command"], *entry["args"]] for entry in json_entries(text)] + claude_code_commands(text)
        assert any(is_today(argv[1:]) for argv in argvs), f"{host}: no `--from {CLONE_PLACEHOLDER}` form"
        after = '"args": ["workers-ai-mcp"]' in text or any(argv[1:] == ["workers-ai-mcp"] for argv in argvs)
        assert after, f"{host}: no `uvx workers-ai-mcp` form for after the release"
        assert "today" in text.lower() and "after the first pypi release" in text.lower(), host


def test_the_vs_code_entry_is_stdio_and_cursors_key_is_named() -> None:
    text = host_sections()["### Cursor and VS Code"]
    (entry,) = json_entries(text)
    assert entry["type"] == "stdio"
    assert "`mcpServers`" in text and "`servers`" in text


def test_the_install_section_names_the_registry_and_no_dev_tools() -> None:
    section = install_section()
    assert "mcp-name: io.github.workers-ai-mcp/workers-ai-mcp" in section
    assert "--no-dev" in section
    assert "Node.js" in section and "npm" in section


needs_artifacts = pytest.mark.skipif(
    not (CLONE and WHEEL), reason="set README_INSTALL_CLONE and README_INSTALL_WHEEL (scripts/check_release.sh)"
)


def substitute(argv: list[str]) -> list[str]:
    assert CLONE and WHEEL
    uvx = shutil.which("uvx")
    assert uvx, "uvx is not on PATH"
    out = [arg.replace(CLONE_PLACEHOLDER, CLONE) for arg in argv]
    return [uvx if arg in (UVX_PLACEHOLDER, "uvx") else arg for arg in out]


def todays_launches() -> list[tuple[str, list[str], dict[str, str]]]:
    launches: list[tuple[str, list[str], dict[str, str]]] = []
    for host, text in host_sections().items():
        for entry in json_entries(text):
            argv = [entry["command"], *entry["args"]]
            env = {k: re.sub(r"\$\{input:[^}]+\}", "fake-token-0123456789", v) for k, v in entry.get("env", {}).items()}
            if is_today(argv[1:]):
                launches.append((host, substitute(argv), env))
        launches.extend((host, substitute(argv), {}) for argv in claude_code_commands(text) if is_today(argv[1:]))
    return launches


@pytest.mark.slow
@needs_artifacts
async def test_each_host_configuration_of_today_starts_the_server(tmp_path: Path) -> None:
    launches = todays_launches()
    assert len(launches) >= 3
    machine = {k: v for k, v in os.environ.items() if MACHINE_ENV.match(k)}
    counts: dict[int, int] = {}

    async def launch(index: int, argv: list[str], env: dict[str, str]) -> None:
        state = tmp_path / str(index)
        env = {
            **machine,
            **env,
            "WORKERS_AI_MCP_OUTPUT_DIR": str(state / "outputs"),
            "WORKERS_AI_MCP_STATE_DIR": str(state),
        }
        params = StdioServerParameters(command=argv[0], args=[*argv[1:], "--emulator"], env=env, cwd=str(tmp_path))
        async with Client(params) as client:
            counts[index] = len((await client.list_tools()).tools)

    async with anyio.create_task_group() as group:  # concurrently: each launch is mostly waiting on uvx
        for index, (_, argv, env) in enumerate(launches):
            group.start_soon(launch, index, argv, env)
    for index, (host, argv, _) in enumerate(launches):
        assert counts.get(index, 0) > 10, (host, argv)


def run(argv: list[str], **env: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env={**os.environ, **env}, check=False)
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    return done.stdout


@pytest.mark.slow
@needs_artifacts
def test_the_tables_commands_of_today_run(tmp_path: Path) -> None:
    assert CLONE and WHEEL
    version_line = run(["uvx", "--from", CLONE, "workers-ai-mcp", "--version"]).strip()
    assert version_line.startswith("workers-ai-mcp ")
    assert run(["uvx", "--from", WHEEL, "workers-ai-mcp", "--version"]).strip() == version_line
    tools = {"UV_TOOL_DIR": str(tmp_path / "tools"), "UV_TOOL_BIN_DIR": str(tmp_path / "bin")}
    run(["uv", "tool", "install", "--quiet", WHEEL], **tools)
    assert run([str(tmp_path / "bin" / "workers-ai-mcp"), "--version"]).strip() == version_line


@pytest.mark.slow
@needs_artifacts
def test_uv_run_no_dev_from_the_clone_installs_no_dev_tools() -> None:
    assert CLONE
    out = run(["uv", "run", "--directory", CLONE, "--no-dev", "--quiet", "workers-ai-mcp", "--version"])
    assert out.startswith("workers-ai-mcp ")
    installed = {path.name.lower() for path in (Path(CLONE) / ".venv").rglob("*.dist-info")}
    assert not [name for name in installed if name.startswith(("pytest", "ruff", "pyright", "hypothesis"))], installed
