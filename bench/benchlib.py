"""What every benchmark shares: a raw stdlib JSON-RPC client over stdio, statistics, the machine, paths.

The client is deliberately stdlib only (subprocess + newline-delimited JSON), so neither the SDK's
client nor its import time appears in any figure. Receive times are `time.monotonic()` taken right
after a line is read, before it is parsed; on Linux that clock is CLOCK_MONOTONIC, shared by every
process on the machine, so it can be compared with timestamps taken inside the emulator process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

# The bench's own httpx2 client must not log each request (a server module may have set up logging).
logging.getLogger("httpx2").setLevel(logging.WARNING)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
LOGS = OUT / "logs"
PROTOCOL_VERSION = "2025-11-25"
# Our server, started the way a host starts it (the console script runs the same `cli.main`).
OURS = [sys.executable, "-m", "workers_ai_mcp"]
BARE = [sys.executable, str(BENCH / "bare_server.py")]

Json = dict[str, Any]


def out_dir() -> Path:
    LOGS.mkdir(parents=True, exist_ok=True)
    return OUT


def inputs_dir() -> Path:
    """Where benchmarks write the files they hand to tools; an input root of every server started here."""
    path = out_dir() / "inputs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus every Cloudflare / workers-ai-mcp setting, plus `extra`.

    Generated files go under bench/out, inputs are read from bench/out/inputs, and the working
    directory of every server is bench/out too, so no `.env` of the developer's is read.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLOUDFLARE_", "WORKERS_AI_", "LOG_LEVEL"))
    }
    env["WORKERS_AI_MCP_OUTPUT_DIR"] = str(out_dir() / "generated")
    env["WORKERS_AI_MCP_INPUT_ROOTS"] = str(inputs_dir())
    env["WORKERS_AI_MCP_STATE_DIR"] = str(out_dir() / "state")
    env.update(extra)
    return env


def emulator_env(base_url: str, **extra: str) -> dict[str, str]:
    """Environment that points our server at an emulator served on loopback."""
    return clean_env(
        WORKERS_AI_BASE_URL=f"{base_url}/client/v4",
        CLOUDFLARE_API_TOKEN="emulator-token",
        CLOUDFLARE_ACCOUNT_ID="bench",
        **extra,
    )


# ---- statistics ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, quartiles, p99, min, max and count; values in whatever unit they came in."""
    if not values:
        return {"n": 0}
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {
        "n": len(values),
        "median": statistics.median(values),
        "q1": quartiles[0],
        "q3": quartiles[2],
        "p99": percentile(values, 99),
        "min": min(values),
        "max": max(values),
    }


def fmt_spread(stats: Mapping[str, float], unit: str = "ms", digits: int = 0) -> str:
    """'812 ms (IQR 790–840, n=7)'."""
    if not stats.get("n"):
        return "n/a"
    f = f"{{:.{digits}f}}"
    return (
        f"{f.format(stats['median'])} {unit} (IQR {f.format(stats['q1'])}–{f.format(stats['q3'])}, n={int(stats['n'])})"
    )


def ratio_of_medians(ours: Sequence[float], base: Sequence[float]) -> float:
    return statistics.median(ours) / statistics.median(base)


# ---- machine ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Date, nproc, CPU model, Python and SDK versions, load average at the start."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "mcp": version("mcp"),
        "loadavg": os.getloadavg(),
    }


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (clock-tick resolution, usually 10 ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the stdio client ------------------------------------------------------------------------


@dataclass
class Message:
    """One line from the server, parsed, with the monotonic time it was read and its size in bytes."""

    body: Json
    received: float
    size: int


@dataclass
class StdioServer:
    """A server subprocess spoken to in newline-delimited JSON-RPC."""

    command: Sequence[str]
    env: Mapping[str, str] | None = None
    log_name: str = "server"
    started: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    notifications: list[Message] = field(default_factory=lambda: list[Message]())
    answers: dict[int, Message] = field(default_factory=lambda: dict[int, Message]())
    junk_lines: int = 0
    _next_id: int = 0
    _log: IO[bytes] | None = None

    def start(self) -> StdioServer:
        self._log = (out_dir() / "logs" / f"{self.log_name}.log").open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            list(self.command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=dict(self.env) if self.env is not None else None,
            cwd=out_dir(),
            bufsize=0,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def send(self, message: Json) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def read(self) -> Message:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            received = time.monotonic()
            if not line:
                raise RuntimeError(f"{self.log_name} closed stdout (see {LOGS / self.log_name}.log)")
            try:
                body: object = json.loads(line)
            except ValueError:
                body = None
            if isinstance(body, dict):
                return Message(cast(Json, body), received, len(line))
            self.junk_lines += 1  # not JSON-RPC: a server printing to stdout (hosts skip or choke on it)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def send_request(self, method: str, params: Json | None = None) -> int:
        request_id = self.new_id()
        message: Json = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return request_id

    def wait_for(self, request_id: int) -> Message:
        """Read until the answer to `request_id`; other answers and notifications on the way are kept."""
        while True:
            message = self.answers.pop(request_id, None) or self.read()
            body = message.body
            if "method" not in body and body.get("id") == request_id:
                if "error" in body:
                    raise RuntimeError(f"{self.log_name}: {body['error']}")
                return message
            if "method" not in body:
                self.answers[int(body["id"])] = message
            elif "id" in body:  # a server request (roots, sampling): we have none
                self.send({"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601, "message": "no"}})
            else:
                self.notifications.append(message)

    def request(self, method: str, params: Json | None = None) -> Message:
        return self.wait_for(self.send_request(method, params))

    def initialize(self) -> Message:
        answer = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "workers-ai-mcp-bench", "version": "0"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return answer

    def list_tools(self) -> Message:
        return self.request("tools/list")

    def call(self, name: str, arguments: Json, *, progress_token: str | int | None = None) -> Message:
        return self.wait_for(self.send_call(name, arguments, progress_token=progress_token))

    def send_call(self, name: str, arguments: Json, *, progress_token: str | int | None = None) -> int:
        params: Json = {"name": name, "arguments": arguments}
        if progress_token is not None:
            params["_meta"] = {"progressToken": progress_token}
        return self.send_request("tools/call", params)

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if self._log is not None:
            self._log.close()
        self.proc = None

    def __enter__(self) -> StdioServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *_: object) -> None:
        self.close()


def tool_error_text(answer: Message) -> str | None:
    """The text of a tool result with isError, else None."""
    result = cast(Json, answer.body.get("result", {}))
    if not result.get("isError"):
        return None
    blocks = cast(list[Json], result.get("content", []))
    return " ".join(str(block.get("text", "")) for block in blocks)[:300]


def write_json(name: str, data: Any) -> Path:
    path = out_dir() / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def now() -> float:
    return time.monotonic()


# ---- the emulator on loopback ----------------------------------------------------------------


@dataclass
class Emulator:
    """`bench/emulator_host.py` in a subprocess: the project's emulator served by uvicorn on 127.0.0.1."""

    latency: float = 0.0
    token_delay: float = 0.0
    base_url: str = ""
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self) -> Emulator:
        self._log = (out_dir() / "logs" / "emulator.log").open("ab")
        command = [sys.executable, str(BENCH / "emulator_host.py")]
        command += ["--latency", str(self.latency), "--token-delay", str(self.token_delay)]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, cwd=out_dir())
        assert self.proc.stdout is not None
        port = int(self.proc.stdout.readline())
        self.base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                self.state()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _door(self, path: str, method: str = "GET") -> Json:
        from urllib.request import Request, urlopen

        with urlopen(Request(f"{self.base_url}/__bench/{path}", method=method), timeout=30) as answer:
            return cast(Json, json.loads(answer.read()))

    def state(self) -> Json:
        return self._door("state")

    def reset(self) -> None:
        self._door("reset", "POST")

    def configure(self, *, latency: float | None = None, token_delay: float | None = None) -> None:
        query = "&".join(
            f"{name}={value}"
            for name, value in (("latency", latency), ("token_delay", token_delay))
            if value is not None
        )
        self._door(f"config?{query}", "POST")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Emulator:
        return self.start() if self.proc is None else self

    def __exit__(self, *_: object) -> None:
        self.close()
