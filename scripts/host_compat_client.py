"""Drive `workers-ai-mcp --emulator` as an older MCP host would: the Python SDK 1.x client, whichever is installed.

Run by scripts/host_compat.sh with the python of a throwaway venv holding one pinned `mcp` 1.x; it
imports nothing from this project. Usage:
    host_compat_client.py CALLS_JSON WORKDIR TRANSPORT SERVER_PYTHON
CALLS_JSON lists {"name", "arguments"} (every tool once, made by the project's samples module);
TRANSPORT is stdio, sse or streamable-http. Every call must parse in this client (pydantic validation
of the result is the client's own), each media result must reach the client as something it can use
(an image/audio block or a line naming a saved file that exists), and the resources the server
advertises must list and read. Exits 1 with the first failure.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from pydantic import AnyUrl

CALL_TIMEOUT = 30
SAVED_FILE = re.compile(r"(/[^\s,;()\[\]]+\.(png|jpg|mp3|wav|json|txt|vtt))")
OUTPUT_URI = re.compile(r"workers-ai://outputs/[A-Za-z0-9._-]+")
JOB_ID = re.compile(r'"job_id":\s*"([^"]+)"')
# Tools whose answer is media: what the host must be able to use.
MEDIA = {"generate_image": "image", "detect_objects": "image", "text_to_speech": "audio", "run_model_flux": "image"}


def fail(message: str) -> None:
    sys.stderr.write(f"FAIL [mcp {version('mcp')}]: {message}\n")
    sys.exit(1)


def server_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "WORKERS_AI_"))}
    env.update({"WORKERS_AI_MCP_INPUT_ROOTS": str(workdir), "WORKERS_AI_MCP_OUTPUT_DIR": str(workdir / "outputs")})
    env["WORKERS_AI_MCP_STATE_DIR"] = str(workdir / "state")
    return env


@asynccontextmanager
async def connect(transport: str, python: str, workdir: Path):  # type: ignore[no-untyped-def]
    command = [python, "-m", "workers_ai_mcp", "--emulator"]
    if transport == "stdio":
        params = StdioServerParameters(command=command[0], args=command[1:], env=server_env(workdir))
        async with stdio_client(params) as (read, write):
            yield read, write
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(workdir / f"server-{transport}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [*command, "--transport", transport, "--port", str(port)], env=server_env(workdir), stdout=log, stderr=log
    )
    try:
        wait_healthy(port, process)
        if transport == "sse":
            from mcp.client.sse import sse_client

            async with sse_client(f"http://127.0.0.1:{port}/sse") as (read, write):
                yield read, write
        else:
            from mcp.client.streamable_http import streamablehttp_client

            async with streamablehttp_client(f"http://127.0.0.1:{port}/mcp") as (read, write, _):
                yield read, write
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"the server exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    fail("the server did not answer /health within 30 s")


def texts(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def check_media(label: str, kind: str, result: types.CallToolResult) -> str:
    """How the host gets the media: an inline block of its kind, else a line naming a saved file that exists."""
    inline = [block for block in result.content if getattr(block, "type", None) == kind]
    files = [match[0] for match in SAVED_FILE.findall(texts(result)) if Path(match[0]).is_file()]
    if not inline and not files:
        fail(f"{label}: neither an {kind} block nor a saved file this host could open: {texts(result)[:300]}")
    return f"{kind} block" if inline else "file line"


async def run(calls: list[dict[str, Any]], workdir: Path, transport: str, python: str) -> None:
    async with connect(transport, python, workdir) as (read, write), ClientSession(read, write) as session:
        with anyio.fail_after(CALL_TIMEOUT):
            init = await session.initialize()
        negotiated = init.protocolVersion
        listed = {tool.name for tool in (await session.list_tools()).tools}
        expected = {call.get("tool", call["name"]) for call in calls}
        if listed != expected:
            fail(f"tools/list gave {sorted(listed)}, expected {sorted(expected)}")
        seen_uris: set[str] = set()
        kinds: set[str] = set()
        media: dict[str, str] = {}
        job_id = None
        for call in calls:
            name, arguments = call["name"], dict(call["arguments"])
            tool = call.get("tool", name)
            if tool == "get_batch":
                if job_id is None:
                    fail("submit_batch gave no job_id for get_batch to read")
                arguments["job_id"] = job_id
            try:
                with anyio.fail_after(CALL_TIMEOUT):
                    result = await session.call_tool(tool, arguments)
            except Exception as exc:  # any failure to parse is what this check reports
                fail(f"{name} over {transport} (protocol {negotiated}) raised {type(exc).__name__}: {exc}"[:1500])
            if result.isError:
                fail(f"{name} answered an error: {texts(result)[:300]}")
            kinds |= {block.type for block in result.content}
            text = texts(result)
            seen_uris |= set(OUTPUT_URI.findall(text))
            seen_uris |= {str(block.uri) for block in result.content if getattr(block, "type", "") == "resource_link"}
            if name in MEDIA:
                media[name] = check_media(name, MEDIA[name], result)
            if name == "run_model_flux" and len(text.encode()) > 8_000:
                fail(f"run_model on flux-1-schnell returned {len(text.encode())} bytes of text")
            if tool == "submit_batch" and (found := JOB_ID.search(text)):
                job_id = found.group(1)
        resources = await check_resources(init, session, seen_uris)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(media.items()))
    sys.stdout.write(
        f"   mcp {version('mcp'):<7} {transport:<15} protocol {negotiated}: {len(calls)} calls parsed; "
        f"blocks {', '.join(sorted(kinds))}; media: {shown}; {resources}\n"
    )


async def check_resources(init: types.InitializeResult, session: ClientSession, seen: set[str]) -> str:
    """resources/list and resources/read, when the server advertises resources."""
    if init.capabilities.resources is None:
        return "resources not advertised"
    listed = (await session.list_resources()).resources
    templates = (await session.list_resource_templates()).resourceTemplates
    uris = [str(resource.uri) for resource in listed][:10] + sorted(seen)[:5]
    for uri in uris:
        try:
            contents = (await session.read_resource(AnyUrl(uri))).contents
        except Exception as exc:  # reported as the check's failure
            fail(f"resources/read {uri} raised {type(exc).__name__}: {exc}"[:1500])
        if not contents or not any(getattr(c, "text", None) or getattr(c, "blob", None) for c in contents):
            fail(f"resources/read {uri} returned nothing")
    return f"resources: {len(listed)} listed, {len(templates)} templates, {len(uris)} read"


def main() -> None:
    calls_file, workdir, transport, python = sys.argv[1:5]
    calls = json.loads(Path(calls_file).read_text())
    anyio.run(run, calls, Path(workdir), transport, python)


if __name__ == "__main__":
    main()
