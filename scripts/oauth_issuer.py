"""The OAuth tests' local issuer (tests/support/oauth_issuer.py) as a process, for scripts/inspector_auth_check.sh.

    uv run --frozen python scripts/oauth_issuer.py AUDIENCE OUT_JSON

Serves RFC 8414 metadata and a JWKS on an ephemeral 127.0.0.1 port, mints the access tokens the check
hands to the MCP Inspector, writes {"issuer": URL, "tokens": {case: token}} to OUT_JSON (mode 0600,
written whole and renamed, so the script never reads half a file), and serves until SIGTERM or SIGINT.
Tokens: "invoke" (both scopes, for AUDIENCE), "read_only" (read scope only), "wrong_audience" (both
scopes, for another resource), "expired" (both scopes, expired two minutes ago).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "server")]

from support.oauth_issuer import READ, Issuer, running_issuer  # noqa: E402


def tokens(issuer: Issuer) -> dict[str, str]:
    now = int(time.time())
    return {
        "invoke": issuer.token(),
        "read_only": issuer.token(scope=READ),
        "wrong_audience": issuer.token(aud=issuer.audience + "/elsewhere"),
        "expired": issuer.token(iat=now - 900, exp=now - 120),
    }


def write_private(path: Path, document: dict[str, object]) -> None:
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(document, file)
    partial.replace(path)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit("usage: oauth_issuer.py AUDIENCE OUT_JSON")
    audience, out = argv[0], Path(argv[1])
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with running_issuer(audience) as issuer:
        write_private(out, {"issuer": issuer.url, "tokens": tokens(issuer)})
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
