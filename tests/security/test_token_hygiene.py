"""A token as users paste it: CR/LF around it is stripped with a warning, any other control character
is refused at startup, and an invalid header never reaches an error text with the token in it."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import anyio
import pytest
from pydantic import SecretStr

from support.loopback import serving
from support.session import open_session
from support.settings import EMULATOR_URL
from support.transports import server_command, server_env
from workers_ai_mcp.emulator import EMULATOR_TOKEN, create_emulator_app
from workers_ai_mcp.settings import load_settings

from .leaks import as_text

TRANSLATE = {"text": "hello", "target_lang": "fr"}


def _emulated(tmp_path: Path) -> dict[str, object]:
    return {
        "account_id": "test-account",
        "base_url": f"{EMULATOR_URL}/client/v4",
        "output_dir": tmp_path / "outputs",
        "state_dir": tmp_path / "state",
        "input_roots": [tmp_path],
    }


async def test_a_token_read_with_a_trailing_crlf_is_stripped_with_a_warning_and_calls_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", f"{EMULATOR_TOKEN}\r\n")
    with caplog.at_level(logging.WARNING, logger="workers_ai_mcp"):
        settings = load_settings(**_emulated(tmp_path))
    assert settings.api_token is not None and settings.api_token.get_secret_value() == EMULATOR_TOKEN
    assert "CLOUDFLARE_API_TOKEN had whitespace" in caplog.text
    assert EMULATOR_TOKEN not in caplog.text
    async with open_session(settings, upstream=create_emulator_app()) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("translate", TRANSLATE)
    assert not result.is_error, as_text(result)


def test_a_token_with_a_control_character_stops_the_server_at_startup_with_a_sentence_without_it(
    tmp_path: Path,
) -> None:
    token = "secret-token-\x07-value"
    env = server_env(tmp_path, CLOUDFLARE_API_TOKEN=token, CLOUDFLARE_ACCOUNT_ID="acct")
    done = subprocess.run(
        server_command(), env=env, cwd=tmp_path, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, stderr
    assert "CLOUDFLARE_API_TOKEN is invalid" in stderr and "control character" in stderr
    assert "secret-token" not in stderr
    assert "value is not shown" in stderr
    assert done.stdout == b""


async def test_a_header_http_refuses_becomes_a_sentence_that_never_shows_the_token(tmp_path: Path) -> None:
    settings = load_settings(api_token=SecretStr(EMULATOR_TOKEN), **_emulated(tmp_path))
    token = "leaky-token-\r-value"
    async with serving(create_emulator_app(token=None)) as base:
        settings.base_url = f"{base}/client/v4"
        settings.api_token = SecretStr(token)  # as if set past the settings' checks
        async with open_session(settings, raise_exceptions=False) as client:
            with anyio.fail_after(20):
                result = await client.call_tool("translate", TRANSLATE)
    text = as_text(result)
    assert result.is_error and "not valid HTTP" in text, text
    assert "leaky-token" not in text and "Bearer" not in text
