"""Settings come from the environment, with readable errors and template detection."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from workers_ai_mcp.settings import SettingsError, load_settings


def test_defaults_need_a_token_and_an_account_before_any_call() -> None:
    settings = load_settings()
    assert settings.missing_credentials() == ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]
    assert settings.timeout == 50.0 and settings.max_retries == 2
    assert settings.chat_model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def test_the_emulator_needs_no_credentials() -> None:
    assert load_settings(emulator=True).missing_credentials() == []


def test_environment_variables_fill_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "tok-123456")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "abc123")
    monkeypatch.setenv("WORKERS_AI_MCP_TOOLS", "chat, embed")
    monkeypatch.setenv("WORKERS_AI_MCP_INPUT_ROOTS", f"{tmp_path},{tmp_path / 'b'}")
    monkeypatch.setenv("WORKERS_AI_MCP_OUTPUT_DIR", str(tmp_path / "out"))
    settings = load_settings()
    assert settings.missing_credentials() == []
    assert settings.tools == ["chat", "embed"]
    assert settings.input_roots == [tmp_path.resolve(), (tmp_path / "b").resolve()]
    assert settings.allowed_input_roots[-1] == (tmp_path / "out").resolve()


def test_command_line_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS_AI_MCP_TIMEOUT", "20")
    assert load_settings(timeout=5).timeout == 5
    assert load_settings(timeout=None).timeout == 20


@pytest.mark.parametrize("template", ["${user_config.api_token}", "{{api_token}}", " ${HOME_X} "])
def test_unsubstituted_templates_count_as_unset_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, template: str
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", template)
    with caplog.at_level(logging.WARNING):
        settings = load_settings()
    assert settings.api_token is None
    assert "CLOUDFLARE_API_TOKEN looks like an unsubstituted template" in caplog.text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WORKERS_AI_MCP_TIMEOUT", "soon", "WORKERS_AI_MCP_TIMEOUT is invalid"),
        ("WORKERS_AI_MCP_MAX_RETRIES", "-1", "WORKERS_AI_MCP_MAX_RETRIES is invalid"),
        ("CLOUDFLARE_ACCOUNT_ID", "a/../b", "CLOUDFLARE_ACCOUNT_ID is invalid"),
        ("WORKERS_AI_BASE_URL", "ftp://x", "WORKERS_AI_BASE_URL is invalid"),
        ("WORKERS_AI_MCP_MEDIA_MODE", "inline", "WORKERS_AI_MCP_MEDIA_MODE is invalid"),
    ],
)
def test_an_invalid_value_fails_with_one_sentence_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings()
    assert "Traceback" not in str(caught.value) and "pydantic" not in str(caught.value)


def test_the_token_never_appears_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cfut_supersecretvalue0123456789")
    settings = load_settings()
    assert "supersecret" not in repr(settings) and "supersecret" not in str(settings.model_dump())


def test_empty_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_ID", "")
    monkeypatch.setenv("WORKERS_AI_MCP_OUTPUT_DIR", "")
    monkeypatch.setenv("WORKERS_AI_MCP_CHAT_MODEL", "")
    settings = load_settings()
    assert settings.gateway_id is None
    assert settings.output_dir == (Path.home() / "workers-ai-mcp").resolve()
    assert settings.chat_model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def test_the_read_caps_come_from_the_environment_and_refuse_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    assert defaults.max_media_answer_bytes is None  # the media cap (max_input_bytes) applies
    assert defaults.max_error_body_bytes == 16 * 1024
    monkeypatch.setenv("WORKERS_AI_MCP_MAX_ANSWER_BYTES", "2097152")
    monkeypatch.setenv("WORKERS_AI_MCP_MAX_MEDIA_ANSWER_BYTES", "1048576")
    monkeypatch.setenv("WORKERS_AI_MCP_MAX_STREAM_LINE_BYTES", "65536")
    monkeypatch.setenv("WORKERS_AI_MCP_MAX_STREAM_BYTES", "8388608")
    settings = load_settings()
    assert (settings.max_answer_bytes, settings.max_media_answer_bytes) == (2_097_152, 1_048_576)
    assert (settings.max_stream_line_bytes, settings.max_stream_bytes) == (65_536, 8_388_608)
    monkeypatch.setenv("WORKERS_AI_MCP_MAX_ERROR_BODY_BYTES", "10")
    with pytest.raises(SettingsError, match="WORKERS_AI_MCP_MAX_ERROR_BODY_BYTES is invalid"):
        load_settings()
