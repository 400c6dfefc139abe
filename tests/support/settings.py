"""Settings for tests: our server pointed at an in-process emulator, its folders under the test's tmp_path."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from workers_ai_mcp.emulator import EMULATOR_TOKEN
from workers_ai_mcp.settings import Settings

EMULATOR_URL = "http://emulator.test"
# Cloudflare's published model files, beside the checkout (never in the project).
SHARED_MODELS = Path(__file__).resolve().parents[3] / "shared" / "workers-ai-models"


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings whose Workers AI and AI Gateway are the emulator at `EMULATOR_URL`; overrides win."""
    values: dict[str, object] = {
        "api_token": SecretStr(EMULATOR_TOKEN),
        "account_id": "test-account",
        "base_url": f"{EMULATOR_URL}/client/v4",
        "gateway_url": f"{EMULATOR_URL}/v1",
        "output_dir": tmp_path / "outputs",
        "state_dir": tmp_path / "state",
        "input_roots": [tmp_path],
        "timeout": 10.0,
    }
    values.update(overrides)
    return Settings(**values)  # pyright: ignore[reportArgumentType]
