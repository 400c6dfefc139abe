"""`workers-ai-mcp selftest`: the server as a stdio subprocess, every tool called once, a table on stdout.

Paid runs are exercised against the emulator on a loopback socket (WORKERS_AI_BASE_URL), so the
parent's token check and the child's calls both go over real HTTP, and the emulator's record
shows what reached the API.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from support.repository import live_tools, loopback_emulator
from workers_ai_mcp import cli
from workers_ai_mcp.emulator import EMULATOR_TOKEN, EmulatorState
from workers_ai_mcp.selftest.run import VIEWER_ROW

MEDIA_GENERATION = {"generate_image", "text_to_speech"}


def table_rows(output: str) -> dict[str, str]:
    """tool -> result column, from the table selftest printed."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("tool ")) + 2
    rows: dict[str, str] = {}
    for line in lines[start:]:
        if line.startswith("selftest:") or ":" in line.split("  ")[0]:
            break
        name, rest = line.split(maxsplit=1)
        rows[name] = rest.rsplit(maxsplit=2)[0].strip()
    return rows


def paid_environment(monkeypatch: pytest.MonkeyPatch, base_url: str, token: str = EMULATOR_TOKEN) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("WORKERS_AI_BASE_URL", base_url)
    monkeypatch.setenv("WORKERS_AI_MCP_MAX_RETRIES", "0")


def model_paths(state: EmulatorState) -> list[str]:
    return [request.path for request in state.requests if "/ai/run/" in request.path or "/ai/v1/" in request.path]


async def test_selftest_with_the_emulator_calls_every_tool_and_lists_each_as_ok(
    capsys: pytest.CaptureFixture[str],
) -> None:
    expected = {tool.name for tool in await live_tools()}
    code = await anyio.to_thread.run_sync(cli.main, ["selftest", "--emulator"])
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert code == 0, out
    assert set(rows) == expected | {VIEWER_ROW}
    assert set(rows.values()) == {"ok"}, out
    assert f"selftest: {len(expected)} of {len(expected)} tools ok" in out


async def test_selftest_checks_the_viewer_as_a_host_that_renders_apps_would_use_it() -> None:
    from mcp import Client
    from mcp.types import CallToolResult, ResourceLink, TextContent

    from support.settings import make_settings
    from workers_ai_mcp.app import create_server
    from workers_ai_mcp.selftest.viewer import DeclaresApps, viewer_problems

    server = create_server(make_settings(Path("/nonexistent"), emulator=True))
    async with Client(server, extensions=[DeclaresApps()]) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert await viewer_problems(client, tools, {}) == []
        unlinked = {**tools, "usage": tools["usage"].model_copy(update={"meta": None})}
        missing = ResourceLink(type="resource_link", name="gone.png", uri="workers-ai://outputs/gone.png")
        broken = CallToolResult(content=[TextContent(type="text", text="made"), missing])
        problems = await viewer_problems(client, unlinked, {"generate_image": broken})
    assert problems[0] == "usage has no viewer link"
    assert problems[1].startswith("generate_image's workers-ai://outputs/gone.png cannot be read: ")
    assert len(problems) == 2


def test_selftest_without_credentials_says_what_to_set_and_launches_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["selftest"])
    out = capsys.readouterr().out
    assert code == 2
    assert "CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID" in out
    assert "--emulator" in out
    assert "tool " not in out


async def test_a_paid_selftest_without_yes_checks_the_account_prints_the_plan_and_runs_no_model(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator_state: EmulatorState,
) -> None:
    async with loopback_emulator(emulator_state) as base_url:
        paid_environment(monkeypatch, base_url)
        code = await anyio.to_thread.run_sync(cli.main, ["selftest"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Token: active" in out
    assert "Skipped: generate_image, text_to_speech (media generation; add --all)" in out
    assert "Dry run: no tool was called" in out
    assert "neurons" in out
    assert model_paths(emulator_state) == []
    assert any(request.path.endswith("/tokens/verify") for request in emulator_state.requests)


async def test_a_paid_selftest_with_yes_calls_every_tool_except_media_generation(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator_state: EmulatorState,
) -> None:
    expected = {tool.name for tool in await live_tools()} - MEDIA_GENERATION
    async with loopback_emulator(emulator_state) as base_url:
        paid_environment(monkeypatch, base_url)
        code = await anyio.to_thread.run_sync(cli.main, ["selftest", "--yes"])
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert code == 0, out
    assert set(rows) == expected | {VIEWER_ROW}
    assert set(rows.values()) == {"ok"}, out
    models = {request.model for request in emulator_state.requests}
    assert "@cf/black-forest-labs/flux-1-schnell" not in models
    assert "@cf/myshell-ai/melotts" not in models
    assert model_paths(emulator_state)


async def test_a_paid_selftest_with_all_also_generates_media(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], emulator_state: EmulatorState
) -> None:
    async with loopback_emulator(emulator_state) as base_url:
        paid_environment(monkeypatch, base_url)
        code = await anyio.to_thread.run_sync(cli.main, ["selftest", "--yes", "--all"])
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert code == 0, out
    assert set(rows) >= MEDIA_GENERATION
    assert "Skipped" not in out
    models = {request.model for request in emulator_state.requests}
    assert {"@cf/black-forest-labs/flux-1-schnell", "@cf/myshell-ai/melotts"} <= models


async def test_a_failing_tool_is_shown_with_its_error_and_makes_the_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKERS_AI_MCP_TRANSLATE_MODEL", "@cf/nobody/no-such-model")
    code = await anyio.to_thread.run_sync(cli.main, ["selftest", "--emulator", "--tools", "translate,classify_text"])
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert code == 1, out
    assert rows["classify_text"] == "ok"
    assert "no-such-model" in rows["translate"]
    assert "selftest: 1 of 2 tools ok" in out


async def test_a_rejected_token_stops_the_run_without_echoing_the_token(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator_state: EmulatorState,
) -> None:
    token = "not-the-right-token-7f3a9c2e5b1d"
    async with loopback_emulator(emulator_state) as base_url:
        paid_environment(monkeypatch, base_url, token=token)
        code = await anyio.to_thread.run_sync(cli.main, ["selftest", "--yes"])
    captured = capsys.readouterr()
    assert code == 1
    assert "the credentials do not work" in captured.out
    assert token not in captured.out + captured.err
    assert model_paths(emulator_state) == []


async def test_unknown_tool_names_are_refused_before_anything_is_called(capsys: pytest.CaptureFixture[str]) -> None:
    code = await anyio.to_thread.run_sync(cli.main, ["selftest", "--emulator", "--tools", "translate,nope"])
    out = capsys.readouterr().out
    assert code == 2
    assert "--tools names unknown tools: nope" in out


async def test_a_server_that_cannot_start_is_reported_with_its_own_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKERS_AI_MCP_TIMEOUT", "soon")
    code = await anyio.to_thread.run_sync(cli.main, ["selftest", "--emulator"])
    captured = capsys.readouterr()
    assert code == 1
    assert "selftest: the server failed" in captured.out
    assert "WORKERS_AI_MCP_TIMEOUT is invalid" in captured.err
