"""Run the emulator on a socket with uvicorn (`workers-ai-mcp emulator`). Logs go to stderr only."""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections.abc import Iterable
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from .app import EMULATOR_TOKEN, create_emulator_app
from .state import EmulatorState, Fault

ENV_LATENCY = "WORKERS_AI_EMULATOR_LATENCY"
ENV_TOKEN_DELAY = "WORKERS_AI_EMULATOR_TOKEN_DELAY"
ENV_FAULTS = "WORKERS_AI_EMULATOR_FAULTS"


def _stderr_logging() -> dict[str, Any]:
    """uvicorn's logging config with the access log moved from stdout to stderr."""
    config = copy.deepcopy(LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    return config


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    token: str | None = EMULATOR_TOKEN,
    latency: float = 0.0,
    token_delay: float = 0.0,
    faults: Iterable[Fault] = (),
) -> None:
    """Serve until interrupted. `token=None` accepts any bearer token."""
    state = EmulatorState(latency=latency, token_delay=token_delay)
    state.inject(*faults)
    app = create_emulator_app(state, token=token)
    accepted = "any bearer token" if token is None else f"bearer token {token!r}"
    sys.stderr.write(
        f"workers-ai-mcp emulator: a local test double of the Workers AI REST API (not Cloudflare)\n"
        f"  base URL   http://{host}:{port}/client/v4   (AI Gateway base: http://{host}:{port}, /v1 optional)\n"
        f"  accepts    {accepted}; any account id\n"
    )
    uvicorn.run(app, host=host, port=port, log_config=_stderr_logging(), server_header=False)


def _env_float(name: str) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else 0.0
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, got {raw!r}") from None


def _fault(name: str) -> Fault:
    try:
        return Fault.parse(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `workers-ai-mcp emulator`; unset numbers and faults fall back to the WORKERS_AI_EMULATOR_* env."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to bind (default 8787)")
    parser.add_argument(
        "--token",
        default=EMULATOR_TOKEN,
        help=f"bearer token to accept (default {EMULATOR_TOKEN!r}; an empty string accepts any token)",
    )
    parser.add_argument(
        "--latency", type=float, default=None, help=f"seconds added to every answer (env {ENV_LATENCY})"
    )
    parser.add_argument(
        "--token-delay", type=float, default=None, help=f"seconds between streamed chunks (env {ENV_TOKEN_DELAY})"
    )
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=None,
        metavar="NAME",
        help=f"inject a fault for the next /ai request; repeatable, consumed in order (env {ENV_FAULTS}, "
        f"comma-separated). Names: {', '.join(f.name for f in Fault)}",
    )


def run_from_args(args: argparse.Namespace) -> None:
    faults: list[Fault] | None = args.fault
    if faults is None:
        try:
            faults = [Fault.parse(n) for n in os.environ.get(ENV_FAULTS, "").split(",") if n.strip()]
        except ValueError as exc:
            raise SystemExit(f"{ENV_FAULTS}: {exc}") from None
    serve(
        host=args.host,
        port=args.port,
        token=args.token or None,
        latency=args.latency if args.latency is not None else _env_float(ENV_LATENCY),
        token_delay=args.token_delay if args.token_delay is not None else _env_float(ENV_TOKEN_DELAY),
        faults=faults,
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m workers_ai_mcp.emulator.serve`, for use before the project CLI exists."""
    parser = argparse.ArgumentParser(prog="workers-ai-mcp emulator", description=__doc__)
    add_arguments(parser)
    run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    main()
