"""A process under load for the reliability runs, on 127.0.0.1.

By default: our MCP server over streamable HTTP (stateless, JSON answers: what `--stateless
--json-response` serves) at `/mcp`, backed by the emulator in this process. Each `ai/run` request
is answered with a 503 (the emulator's `UNAVAILABLE_503` fault) with probability `fault_rate`,
drawn from a seeded generator. With `--emulator-only`: the emulator alone, for a server in
another process to call. Either way `GET /bench/stats` reports the upstream counts (requests,
faults, distinct client connections) and `POST /bench/control` with `{"fault_rate": x,
"latency": y}` changes the knobs and zeroes the counts. Prints the port on stdout once
listening; stops on SIGTERM or SIGINT.

`python bench/reliability/http_target.py --latency 0.05 --fault-rate 0.1 [--backoff 0.5] [--emulator-only]`
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from figures import bench_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from workers_ai_mcp.app import create_server
from workers_ai_mcp.client import retry
from workers_ai_mcp.emulator import EmulatorState, Fault, create_emulator_app
from workers_ai_mcp.transports.http.app import create_http_app
from workers_ai_mcp.transports.http.server import http_server


@dataclass
class Scatter:
    """Wraps the emulator: injects a 503 ahead of a share of the `ai/run` requests, and counts them."""

    app: ASGIApp
    state: EmulatorState
    fault_rate: float
    seed: int
    runs: int = 0
    faults: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/ai/run/" in scope["path"]:
            self.runs += 1
            if self.rng.random() < self.fault_rate:
                self.faults += 1
                self.state.inject(Fault.UNAVAILABLE_503)
        await self.app(scope, receive, send)

    def reset(self) -> None:
        self.runs = self.faults = 0
        self.state.reset_counters()
        self.state.faults.clear()
        self.rng = random.Random(self.seed)


def build(latency: float, fault_rate: float, seed: int, folder: Path, *, emulator_only: bool = False) -> Starlette:
    state = EmulatorState(latency=latency)
    scatter = Scatter(create_emulator_app(state), state, fault_rate, seed)
    if emulator_only:
        app = Starlette(routes=[Mount("/", app=scatter)])
    else:
        settings = bench_settings(folder)
        server = create_server(settings, transport=httpx2.ASGITransport(app=scatter))
        app = create_http_app(server, settings, transport="streamable-http", stateless=True, json_response=True)

    async def stats(_: Request) -> JSONResponse:
        return JSONResponse(
            {
                "upstream_requests": state.request_count,
                "run_requests": scatter.runs,
                "faults_injected": scatter.faults,
                "faults_unconsumed": len(state.faults),
                "connections": len(state.connections),
            }
        )

    async def control(request: Request) -> JSONResponse:
        knobs = json.loads(await request.body() or b"{}")
        scatter.fault_rate = float(knobs.get("fault_rate", scatter.fault_rate))
        state.latency = float(knobs.get("latency", state.latency))
        scatter.reset()
        return JSONResponse({"fault_rate": scatter.fault_rate, "latency": state.latency})

    app.router.routes.insert(0, Route("/bench/stats", stats, methods=["GET"]))
    app.router.routes.insert(0, Route("/bench/control", control, methods=["POST"]))
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the emulator adds to every answer")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of ai/run requests answered 503")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backoff", type=float, default=retry.INITIAL_DELAY, help="first retry delay, seconds")
    parser.add_argument("--emulator-only", action="store_true", help="serve the emulator alone")
    args = parser.parse_args()
    retry.INITIAL_DELAY = args.backoff
    with tempfile.TemporaryDirectory(prefix="reliability-http-") as folder:
        app = build(args.latency, args.fault_rate, args.seed, Path(folder), emulator_only=args.emulator_only)
        sock = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )  # asyncio sets TCP_NODELAY only then
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        port = sock.getsockname()[1]
        server = http_server(app, host="127.0.0.1", port=port, log_level="ERROR")
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        server.run(sockets=[sock])


if __name__ == "__main__":
    main()
