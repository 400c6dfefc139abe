"""Without the `postgres` extra, a PostgreSQL state URL is one sentence saying what to install, not a traceback.

psycopg is an optional dependency (only a deployment that sets WORKERS_AI_MCP_STATE_URL needs it), so the
server is started here as a user would run it, in a subprocess whose interpreter cannot import it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.transports import server_env

PASSWORD = "driver-test-secret-0123456789"
URL = f"postgresql://workers_ai_mcp:{PASSWORD}@127.0.0.1:5432/workers_ai_mcp"
WITHOUT_PSYCOPG = (
    "import sys\n"
    "sys.modules['psycopg'] = None  # import psycopg now fails as it does where the extra is not installed\n"
    "from workers_ai_mcp.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("args", [["--emulator"], ["--transport", "streamable-http", "--emulator"]])
def test_a_postgresql_state_url_without_the_driver_says_in_one_sentence_to_install_the_postgres_extra(
    tmp_path: Path, args: list[str]
) -> None:
    env = server_env(tmp_path, WORKERS_AI_MCP_STATE_URL=URL)
    started = subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = started.stderr.strip().splitlines()
    assert started.returncode == 2, started.stderr
    assert len(lines) == 1 and "Traceback" not in started.stderr
    assert lines[0].startswith("workers-ai-mcp: WORKERS_AI_MCP_STATE_URL names a PostgreSQL database")
    assert "install workers-ai-mcp[postgres]" in lines[0]
    assert PASSWORD not in started.stderr + started.stdout
