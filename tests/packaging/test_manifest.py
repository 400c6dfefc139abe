"""manifest.json (MCP Bundle) agrees with the server: tools, versions, and user_config → env → Settings."""

from __future__ import annotations

import re

import pytest

import workers_ai_mcp
from support.repository import live_tools, load_script, read_manifest, read_pyproject, settings_env_names
from workers_ai_mcp.settings import load_settings

SYNC_HINT = "manifest.json is out of date: run `uv run python scripts/refresh.py` and commit it."
TEMPLATE = re.compile(r"\$\{user_config\.([A-Za-z0-9_]+)\}")


def env_of_manifest() -> dict[str, str]:
    env = read_manifest()["server"]["mcp_config"]["env"]
    assert isinstance(env, dict)
    return {str(name): str(value) for name, value in env.items()}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]


async def test_the_manifest_lists_exactly_the_servers_tools_with_their_first_sentences() -> None:
    sync = load_script("sync_manifest_tools")
    tools = await live_tools()
    expected = [{"name": tool.name, "description": sync.first_sentence(tool.description or "")} for tool in tools]
    declared = read_manifest()["tools"]
    assert [tool["name"] for tool in declared] == [tool.name for tool in tools], SYNC_HINT
    assert declared == expected, SYNC_HINT


def test_the_package_is_the_one_source_of_the_version_and_the_manifest_agrees() -> None:
    pyproject = read_pyproject()
    assert "version" not in pyproject["project"], "the version is written once, in server/workers_ai_mcp/__init__.py"
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "server/workers_ai_mcp/__init__.py"
    assert read_manifest()["version"] == workers_ai_mcp.__version__


def test_every_user_config_key_reaches_the_server_through_mcp_config_env() -> None:
    declared = set(read_manifest()["user_config"])
    used = {key for value in env_of_manifest().values() for key in TEMPLATE.findall(value)}
    assert declared == used, f"declared but unused: {declared - used}; used but undeclared: {used - declared}"


def test_every_env_name_in_the_manifest_is_one_settings_reads() -> None:
    unknown = set(env_of_manifest()) - settings_env_names()
    assert not unknown, f"Settings reads none of {sorted(unknown)}"


def test_the_token_is_masked_and_only_token_and_account_are_required() -> None:
    config = read_manifest()["user_config"]
    env = env_of_manifest()
    (token_key,) = TEMPLATE.findall(env["CLOUDFLARE_API_TOKEN"])
    (account_key,) = TEMPLATE.findall(env["CLOUDFLARE_ACCOUNT_ID"])
    assert config[token_key]["sensitive"] is True
    assert {key for key, option in config.items() if option.get("required")} == {token_key, account_key}


def test_the_python_requirement_is_a_semver_range_matching_pyproject() -> None:
    compatibility = read_manifest()["compatibility"]
    python = compatibility["runtimes"]["python"]
    assert "," not in python, "Claude Desktop wants space-separated semver ranges, not PEP 440 commas"
    assert python == read_pyproject()["project"]["requires-python"]
    assert sorted(compatibility["platforms"]) == ["darwin", "linux", "win32"]


def test_optional_values_the_host_leaves_unsubstituted_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Claude Desktop passes when only the required fields are filled in: literal `${user_config.x}`."""
    defaults = load_settings()  # the environment is clean here (tests/conftest.py)
    filled = {"CLOUDFLARE_API_TOKEN": "token-0123456789", "CLOUDFLARE_ACCOUNT_ID": "0123456789abcdef"}
    for name, value in env_of_manifest().items():
        monkeypatch.setenv(name, filled.get(name, value))
    settings = load_settings()
    assert settings.missing_credentials() == []
    assert settings.gateway_id is None
    assert settings.chat_model == defaults.chat_model
    assert settings.output_dir == defaults.output_dir


def test_optional_values_the_host_passes_as_empty_strings_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    filled = {"CLOUDFLARE_API_TOKEN": "token-0123456789", "CLOUDFLARE_ACCOUNT_ID": "0123456789abcdef"}
    for name in env_of_manifest():
        monkeypatch.setenv(name, filled.get(name, ""))
    settings = load_settings()
    assert settings.gateway_id is None
    assert settings.chat_model == defaults.chat_model
    assert settings.output_dir == defaults.output_dir
