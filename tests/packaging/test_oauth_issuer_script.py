"""scripts/oauth_issuer.py, the issuer process scripts/inspector_auth_check.sh hands the MCP Inspector tokens from:
its tokens are the ones the check says they are, judged by the server's own verifier against the keys it
serves, it keeps them in a private file, and it stops cleanly when the check's cleanup signals it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.oauth_issuer import INVOKE, READ
from workers_ai_mcp.transports.http.oauth import JwksCache, JwtVerifier, OAuthConfig

ROOT = Path(__file__).resolve().parents[2]
AUDIENCE = "http://127.0.0.1:8000/mcp"


@pytest.fixture
def issuer_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, Any], Path]]:
    out = tmp_path / "issuer.json"
    process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "oauth_issuer.py"), AUDIENCE, str(out)])
    try:
        for _ in range(300):  # start-up wait, not a timing assertion
            if out.exists() or process.poll() is not None:
                break
            time.sleep(0.05)
        assert out.exists(), f"the issuer wrote nothing (exit {process.poll()})"
        yield process, json.loads(out.read_text()), out
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


async def test_the_issuer_process_mints_the_tokens_the_inspector_check_expects(
    issuer_process: tuple[subprocess.Popen[bytes], dict[str, Any], Path],
) -> None:
    _, document, _ = issuer_process
    config = OAuthConfig(document["issuer"], AUDIENCE, None, READ, INVOKE, allow_http_loopback=True)
    verifier = JwtVerifier(config, JwksCache(config))  # the keys come from the process's own JWKS
    tokens = document["tokens"]
    invoke = await verifier.verify_token(tokens["invoke"])
    assert invoke is not None
    assert sorted(invoke.scopes) == sorted([READ, INVOKE])
    read_only = await verifier.verify_token(tokens["read_only"])
    assert read_only is not None
    assert read_only.scopes == [READ]
    assert await verifier.verify_token(tokens["wrong_audience"]) is None
    assert await verifier.verify_token(tokens["expired"]) is None


def test_the_tokens_file_is_private_and_sigterm_stops_the_issuer_cleanly(
    issuer_process: tuple[subprocess.Popen[bytes], dict[str, Any], Path],
) -> None:
    process, _, out = issuer_process
    assert out.stat().st_mode & 0o777 == 0o600
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0


def test_the_issuer_script_without_its_arguments_says_how_to_call_it() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "oauth_issuer.py")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr == "usage: oauth_issuer.py AUDIENCE OUT_JSON\n"
