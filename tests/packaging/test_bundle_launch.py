"""The MCP Bundle as Claude Desktop uses it: unpacked into an empty folder, launched from the manifest's
`mcp_config` with `${__dirname}` and `${user_config.*}` substituted, on a system Python (not the
project's virtualenv), with no environment but the manifest's. Only tools/list: nothing leaves the machine.

Building takes about 30 s (vendoring wheels from uv's cache, then `mcpb pack`), hence `slow`;
scripts/check_packaging.sh runs it. Set PACKAGING_BUNDLE to a built .mcpb to test that file instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from support.repository import ROOT, load_script, read_manifest

pytestmark = pytest.mark.slow

_BUNDLE = os.environ.get("PACKAGING_BUNDLE")  # read at import: the autouse fixture cleans the environment
TEMPLATE = re.compile(r"\$\{([^}]+)\}")
FAKE_USER_CONFIG = {"api_token": "fake-token-for-launch-test-0123456789", "account_id": "0123456789abcdef"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if _BUNDLE:
        return Path(_BUNDLE).resolve()
    if shutil.which("npm") is None and not (ROOT / "node_modules" / ".bin" / "mcpb").exists():
        pytest.skip("building a bundle needs npm for the pinned mcpb CLI")
    builder = load_script("build_bundle")
    return builder.build(sys.executable, offline=True, dist=tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def unpacked(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("Claude Extensions") / "local.mcpb.workers-ai-mcp"
    folder.mkdir()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    return folder


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """mcpb's substitution: known `${...}` variables replaced, unknown ones left as they are."""
    if isinstance(value, str):
        return TEMPLATE.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value


def outside_virtualenvs() -> str:
    venvs = {str(ROOT / ".venv"), os.environ.get("VIRTUAL_ENV", str(ROOT / ".venv")), sys.prefix}
    return os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if not any(entry.startswith(v) for v in venvs)
    )


def system_python(command: str, version: tuple[int, int]) -> Iterator[str]:
    """Real interpreters named `command` (or python3.X) on PATH outside any virtualenv, of `version`."""
    seen: set[str] = set()
    for name in (command, f"python{version[0]}.{version[1]}"):
        found = shutil.which(name, path=outside_virtualenvs())
        if found is None:
            continue
        probe = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"
        lines = subprocess.run([found, "-I", "-c", probe], capture_output=True, text=True, check=True).stdout.split()
        executable, found_version = lines[0], lines[1]
        if found_version == f"{version[0]}.{version[1]}" and executable not in seen:
            seen.add(executable)
            yield executable


def built_for(manifest: dict[str, Any]) -> tuple[int, int]:
    match = re.fullmatch(r">=(\d+)\.(\d+) <\d+\.\d+", manifest["compatibility"]["runtimes"]["python"])
    assert match, manifest["compatibility"]
    return int(match.group(1)), int(match.group(2))


def test_the_bundle_carries_only_the_server_its_dependencies_and_a_narrowed_manifest(unpacked: Path) -> None:
    files = [path.relative_to(unpacked).as_posix() for path in unpacked.rglob("*") if path.is_file()]
    assert not [f for f in files if f.startswith(("tests/", "scripts/", ".venv/", "node_modules/", "bench/"))]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc") or "/.env" in f]
    assert "server/main.py" in files and "server/workers_ai_mcp/cli.py" in files
    assert any(f.startswith("server/lib/mcp/") for f in files)
    assert any(f.startswith("server/lib/pydantic_core/") for f in files)
    assert not any(f.startswith(("server/lib/pytest", "server/lib/ruff", "server/lib/pyright")) for f in files)
    manifest = read_manifest()
    bundled = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    assert bundled["compatibility"]["platforms"] == [sys.platform]
    assert built_for(bundled) == sys.version_info[:2]
    assert {k: v for k, v in bundled.items() if k != "compatibility"} == {
        k: v for k, v in manifest.items() if k != "compatibility"
    }


async def test_the_unpacked_bundle_starts_on_the_system_python_with_the_manifest_env_and_lists_its_tools(
    unpacked: Path, tmp_path: Path
) -> None:
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    config = manifest["server"]["mcp_config"]
    config = {**config, **config.get("platform_overrides", {}).get(sys.platform, {})}
    variables = {"__dirname": str(unpacked), "HOME": str(tmp_path), "/": os.sep, "pathSeparator": os.sep}
    variables |= {f"user_config.{key}": value for key, value in FAKE_USER_CONFIG.items()}
    command, args, env = config["command"], substitute(config["args"], variables), substitute(config["env"], variables)
    interpreters = list(system_python(command, built_for(manifest)))
    if not interpreters:
        pytest.skip(f"no {command} {built_for(manifest)} on PATH outside a virtualenv")
    python = interpreters[0]
    assert not python.startswith(str(ROOT)), python
    alone = subprocess.run([python, "-I", "-c", "import mcp"], capture_output=True, cwd=tmp_path)
    if alone.returncode == 0:
        pytest.skip(f"{python} has mcp installed itself, so it cannot show that the bundle is self-contained")
    assert env["CLOUDFLARE_AI_GATEWAY_ID"] == "${user_config.gateway_id}"  # left unset, as a host leaves it
    # Claude Desktop adds a few variables of its own (HOME, PATH); the SDK's stdio client does the same.
    params = StdioServerParameters(command=python, args=args, env={**env, "HOME": str(tmp_path)}, cwd=tmp_path)
    with (tmp_path / "stderr.log").open("w") as errlog:
        with anyio.fail_after(60):
            async with Client(stdio_client(params, errlog=errlog)) as client:
                tools = (await client.list_tools()).tools
    stderr = (tmp_path / "stderr.log").read_text()
    assert [tool.name for tool in tools] == [tool["name"] for tool in manifest["tools"]], stderr
    assert FAKE_USER_CONFIG["api_token"] not in stderr
    assert "Traceback" not in stderr
