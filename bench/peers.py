"""Peers, one row each: cold start, idle memory and `tools/list` size beside ours.

Each peer that installs from PyPI without an account is put in its own throwaway venv under
/tmp/workers-ai-mcp-bench-peers (never into the project; created with `uv venv` + `uv pip install`
on first use, reused afterwards) and started with a dummy key, offline. `groq-mcp` is not on the
index this machine sees. Starts are interleaved with ours (plain, no credentials), same client.

`python bench/peers.py [--runs N]`
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import OURS, StdioServer, clean_env, rss_kib, summary, write_json

VENVS = Path("/tmp/workers-ai-mcp-bench-peers")


@dataclass
class Peer:
    package: str
    env: dict[str, str]
    command: list[str] = field(default_factory=lambda: list[str]())
    note: str = ""
    start_ms: list[float] = field(default_factory=lambda: list[float]())
    rss_mib: list[float] = field(default_factory=lambda: list[float]())
    tools: int = 0
    tools_list_bytes: int = 0
    stdout_junk_lines: int = 0
    mcp_version: str = ""


PEERS = (
    ("elevenlabs-mcp", {"ELEVENLABS_API_KEY": "dummy-key"}),
    ("minimax-mcp", {"MINIMAX_API_KEY": "dummy-key", "MINIMAX_API_HOST": "https://api.minimax.io"}),
)


def install(package: str) -> tuple[list[str], str]:
    """(command to start it, '') or ([], why not)."""
    uv = shutil.which("uv")
    if uv is None:
        return [], "uv not on PATH"
    venv = VENVS / package
    script = venv / "bin" / package
    if not script.exists():
        try:
            subprocess.run([uv, "venv", "-q", "--python", "3.11", str(venv)], check=True, capture_output=True)
            subprocess.run(
                [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), package],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            return [], f"install failed: {str(getattr(exc, 'stderr', b'') or exc)[-200:]}"
    if not script.exists():
        return [], f"{package} installs no `{package}` script"
    return [str(script)], ""


def mcp_version(peer: Peer) -> str:
    if not peer.command:
        return ""
    python = Path(peer.command[0]).parent / "python"
    answer = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('mcp'))"], capture_output=True, text=True
    )
    return answer.stdout.strip()


def one_start(peer: Peer) -> None:
    server = StdioServer(peer.command, env=clean_env(**peer.env), log_name=f"peer_{peer.package}")
    with server:
        server.initialize()
        listed = server.list_tools()
        peer.rss_mib.append(rss_kib(server.pid) / 1024)
        peer.start_ms.append((listed.received - server.started) * 1000)
        peer.tools = len(listed.body["result"]["tools"])
        peer.tools_list_bytes = listed.size
        peer.stdout_junk_lines = server.junk_lines


def run(runs: int = 5) -> dict[str, Any]:
    from importlib.metadata import version

    ours = Peer("workers-ai-mcp (ours)", {}, list(OURS), mcp_version=version("mcp"))
    peers = [ours]
    for package, env in PEERS:
        peer = Peer(package, env)
        peer.command, peer.note = install(package)
        peer.mcp_version = mcp_version(peer)
        peers.append(peer)
    for peer in peers:  # warm-up, and the check that it starts offline at all
        if peer.command:
            try:
                one_start(peer)
            except (RuntimeError, OSError) as exc:
                peer.note = f"did not start offline: {exc}"
                peer.command = []
            peer.start_ms.clear()
            peer.rss_mib.clear()
    for round_index in range(runs):
        shift = round_index % len(peers)
        for peer in peers[shift:] + peers[:shift]:
            if peer.command:
                one_start(peer)
    results: dict[str, Any] = {
        "runs": runs,
        "peers": [
            {
                "package": p.package,
                "mcp": p.mcp_version,
                "start_ms": summary(p.start_ms),
                "rss_mib": summary(p.rss_mib),
                "tools": p.tools,
                "tools_list_bytes": p.tools_list_bytes,
                "stdout_junk_lines": p.stdout_junk_lines,
                "note": p.note,
            }
            for p in peers
        ],
    }
    write_json("peers", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = [f"peers, {results['runs']} interleaved starts each:"]
    for p in results["peers"]:
        if not p["start_ms"].get("n"):
            lines.append(f"  {p['package']:24} {p['note']}")
            continue
        junk = f", {p['stdout_junk_lines']} non-JSON line(s) on stdout" if p["stdout_junk_lines"] else ""
        lines.append(
            f"  {p['package']:24} mcp {p['mcp']:7} start {p['start_ms']['median']:.0f} ms, "
            f"RSS {p['rss_mib']['median']:.1f} MiB, {p['tools']} tools, tools/list {p['tools_list_bytes']} B{junk}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.runs))))


if __name__ == "__main__":
    main()
