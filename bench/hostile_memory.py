"""Peak memory of one server process under hostile input (budget: under 1 GB each).

Two figures, each from a fresh server process pointed at the emulator on loopback (a separate
process, so its memory is not in the figure); the figure is the server's VmHWM (peak resident set
since it started) read from /proc after the round:

- **Decompression bombs**: 16 concurrent calls of `describe_image` (the LLaVA model, whose input is
  the array form) and then of `detect_objects`, over stdio, each with a 150-megapixel image of a
  few KB made here (PNG, GIF and TIFF in turn, by path from the input folder, and one PNG as a data
  URI). Each answer must be a tool error that says something after the SDK's "Error executing
  tool <name>:" prefix, in one or more sentences (not a bare crash).
- **Parse amplification**: eight concurrent 35 MB HTTP bodies of `[{},{},...]` POSTed to `/mcp` on
  one streamable-HTTP session, each from its own loopback address (127.0.0.2-9, so only the global
  large-body cap holds them, not the per-client one); each answer must be an HTTP error with a
  JSON-RPC error sentence.
- **Large media bodies**: the same with eight 35 MB `describe_image` calls carrying a data URI (a
  150-megapixel PNG padded to 26 MB): bodies the server must parse before a tool can refuse them.

`python bench/hostile_memory.py [--only bombs|bodies]` writes bench/out/hostile_memory.json.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

from benchlib import OURS, Emulator, Json, StdioServer, emulator_env, inputs_dir, out_dir, tool_error_text, write_json

BUDGET_MB = 1024.0
SIDE = 12_248  # 12,248² = 150.0 megapixels
CONCURRENT_BOMBS = 16
CONCURRENT_BODIES = 8
BODY_BYTES = 35_000_000
LLAVA = "@cf/llava-hf/llava-1.5-7b-hf"
PROTOCOL_VERSION = "2025-11-25"


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had, in MB (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def make_bombs() -> dict[str, Path]:
    """150-megapixel images that compress to a few KB: one bit per pixel (PNG, TIFF), or a palette (GIF)."""
    from PIL import Image

    folder = inputs_dir() / "bombs"
    folder.mkdir(exist_ok=True)
    paths = {kind: folder / f"bomb-150mp.{kind}" for kind in ("png", "gif", "tiff")}
    if not paths["png"].exists():
        Image.new("1", (SIDE, SIDE)).save(paths["png"], optimize=True)
    if not paths["tiff"].exists():
        Image.new("1", (SIDE, SIDE)).save(paths["tiff"], compression="group4")
    if not paths["gif"].exists():
        with Image.new("P", (SIDE, SIDE)) as image:
            image.save(paths["gif"])
    return paths


def _answer_text(answer: Json) -> str:
    result = cast(Json, answer.get("result", {}))
    blocks = cast(list[Json], result.get("content", []))
    return " ".join(str(block.get("text", "")) for block in blocks)


def bombs_round(server: StdioServer, tool: str, images: list[str]) -> list[dict[str, Any]]:
    arguments: Json = {"model": LLAVA} if tool == "describe_image" else {}
    ids = [server.send_call(tool, {**arguments, "image": images[i % len(images)]}) for i in range(CONCURRENT_BOMBS)]
    outcomes: list[dict[str, Any]] = []
    for request_id in ids:
        answer = server.wait_for(request_id)
        error = tool_error_text(answer)
        text = _answer_text(answer.body)
        said = text.split(f"Error executing tool {tool}:", 1)[-1].strip()  # the SDK's prefix, then our sentence
        sentence = error is not None and len(said) > 20 and said.endswith(".")
        outcomes.append({"refused_with_a_sentence": sentence, "text": text[:300]})
    return outcomes


def run_bombs() -> dict[str, Any]:
    paths = make_bombs()
    images = [str(path) for path in paths.values()]
    images.append("data:image/png;base64," + base64.b64encode(paths["png"].read_bytes()).decode())
    with (
        Emulator() as emulator,
        StdioServer(OURS, env=emulator_env(emulator.base_url), log_name="hostile_memory") as ours,
    ):
        ours.initialize()
        started = peak_rss_mb(ours.pid)
        rounds: dict[str, Any] = {}
        for tool in ("describe_image", "detect_objects"):
            outcomes = bombs_round(ours, tool, images)
            rounds[tool] = {
                "calls": len(outcomes),
                "refused_with_a_sentence": sum(o["refused_with_a_sentence"] for o in outcomes),
                "example": outcomes[0]["text"],
                "peak_rss_mb_after": round(peak_rss_mb(ours.pid), 1),
            }
        peak = peak_rss_mb(ours.pid)
        sent = int(emulator.state().get("request_count", -1))
    return {
        "image_bytes": {kind: path.stat().st_size for kind, path in paths.items()},
        "megapixels": round(SIDE * SIDE / 1e6, 1),
        "peak_rss_mb_at_start": round(started, 1),
        "peak_rss_mb": round(peak, 1),
        "within_budget": peak < BUDGET_MB,
        "requests_sent_to_the_emulator": sent,
        "rounds": rounds,
    }


# ---- HTTP bodies --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(
    port: int, body: bytes, headers: dict[str, str], source: str = "127.0.0.1"
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300, source_address=(source, 0))
    try:
        connection.request("POST", "/mcp", body=body, headers={"Host": f"127.0.0.1:{port}", **headers})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _wait_for_health(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the HTTP server exited (see bench/out/logs/hostile_memory_http.log)")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health", headers={"Host": f"127.0.0.1:{port}"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the HTTP server did not answer /health within 60 s")


def items_body() -> bytes:
    return b"[" + b"{}," * ((BODY_BYTES - 4) // 3) + b"{}]"


def media_body() -> bytes:
    """A `describe_image` call of 35 MB: a 150-megapixel PNG padded after its end to 25.5 MB, as a data URI."""
    bomb = make_bombs()["png"].read_bytes()
    padded = bomb + b"\0" * (BODY_BYTES * 3 // 4 - 1500 - len(bomb))
    image = "data:image/png;base64," + base64.b64encode(padded).decode()
    call: Json = {"name": "describe_image", "arguments": {"image": image, "model": LLAVA}}
    return json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}).encode()


def run_bodies(kind: str) -> dict[str, Any]:
    body = items_body() if kind == "items" else media_body()
    port = _free_port()
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with Emulator() as emulator, (out_dir() / "logs" / "hostile_memory_http.log").open("ab") as log:
        command = [*OURS, "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(command, env=emulator_env(emulator.base_url), stderr=log, cwd=out_dir())
        try:
            _wait_for_health(port, proc)
            initialize: Json = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "workers-ai-mcp-bench", "version": "0"},
                },
            }
            _, headers, _ = _post(port, json.dumps(initialize).encode(), accept)
            session = {**accept, "Mcp-Session-Id": headers["mcp-session-id"], "Mcp-Protocol-Version": PROTOCOL_VERSION}
            started = peak_rss_mb(proc.pid)
            with concurrent.futures.ThreadPoolExecutor(CONCURRENT_BODIES) as pool:
                sources = [f"127.0.0.{i + 2}" for i in range(CONCURRENT_BODIES)]
                answers = list(
                    pool.map(lambda i: _post(port, _with_id(body, i), session, sources[i]), range(len(sources)))
                )
            peak = peak_rss_mb(proc.pid)
            alive = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(30)
    outcomes = [{"status": status, "message": _message(raw)[:300]} for status, _, raw in answers]
    return {
        "body_bytes": len(body),
        "concurrent": CONCURRENT_BODIES,
        "peak_rss_mb_at_start": round(started, 1),
        "peak_rss_mb": round(peak, 1),
        "within_budget": peak < BUDGET_MB,
        "server_alive_after": alive,
        "statuses": sorted(o["status"] for o in outcomes),
        "example": outcomes[0]["message"],
    }


def _with_id(body: bytes, index: int) -> bytes:
    """`body` with its request id made unique (ids in flight on one session must differ)."""
    return body.replace(b'"id": 2,', f'"id": {100 + index},'.encode(), 1)


def _message(raw: bytes) -> str:
    """The error sentence of a JSON or SSE answer (a tool error's text, or a JSON-RPC error's message)."""
    text = raw.decode(errors="replace")
    lines = [line[5:] for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
    for candidate in [*lines, text]:
        try:
            answer = json.loads(candidate)
        except ValueError:
            continue
        if "error" in answer:
            return str(answer["error"]["message"])
        if "result" in answer:
            return _answer_text(answer)
    return text[:200]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=["bombs", "bodies", "media-bodies"])
    options = parser.parse_args()
    figures: dict[str, Any] = {"budget_mb": BUDGET_MB}
    if options.only in (None, "bombs"):
        figures["bombs"] = run_bombs()
    if options.only in (None, "bodies"):
        figures["bodies"] = run_bodies("items")
    if options.only in (None, "media-bodies"):
        figures["media_bodies"] = run_bodies("media")
    path = write_json("hostile_memory", figures)
    print(json.dumps(figures, indent=2))
    print(f"written to {path}", file=sys.stderr)
    return 0 if all(part.get("within_budget", True) for part in figures.values() if isinstance(part, dict)) else 1


if __name__ == "__main__":
    sys.exit(main())
