"""Drive `workers-ai-mcp --emulator` as a 2026-07-28 host would: the fastmcp 4.2 client, which negotiates it.

Run by scripts/host_compat.sh with the python of a throwaway venv holding the pinned `fastmcp`; it
imports nothing from this project. Usage:
    host_compat_fastmcp.py CALLS_JSON WORKDIR TRANSPORT SERVER_PYTHON
TRANSPORT is stdio or streamable-http. The connection must negotiate 2026-07-28; every call must
parse in this client; media must reach it as a block or a saved file that exists; the resources must
list and read; a model id must complete; and a `subscriptions/listen` stream must hear of the file a
tool generates. Exits 1 with the first failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
from mcp.client.subscriptions import listen

CALL_TIMEOUT = 30
MODERN = "2026-07-28"
MEDIA = {"generate_image": "image", "detect_objects": "image", "text_to_speech": "audio", "run_model_flux": "image"}


def fail(message: str) -> None:
    sys.stderr.write(f"FAIL [fastmcp {version('fastmcp')}]: {message}\n")
    sys.exit(1)


def server_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "WORKERS_AI_"))}
    env.update({"WORKERS_AI_MCP_INPUT_ROOTS": str(workdir), "WORKERS_AI_MCP_OUTPUT_DIR": str(workdir / "outputs")})
    env["WORKERS_AI_MCP_STATE_DIR"] = str(workdir / "state")
    return env


@asynccontextmanager
async def connect(transport: str, python: str, workdir: Path) -> AsyncIterator[Client[Any]]:
    command = [python, "-m", "workers_ai_mcp", "--emulator"]
    if transport == "stdio":
        async with Client(StdioTransport(command[0], command[1:], env=server_env(workdir))) as client:
            yield client
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(workdir / f"server-fastmcp-{transport}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [*command, "--transport", transport, "--port", str(port)], env=server_env(workdir), stdout=log, stderr=log
    )
    try:
        wait_healthy(port, process)
        async with Client(StreamableHttpTransport(f"http://127.0.0.1:{port}/mcp")) as client:
            yield client
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


def texts(content: list[Any]) -> str:
    return "\n".join(block.text for block in content if isinstance(block, types.TextContent))


def media_of(name: str, kind: str, content: list[Any], workdir: Path) -> str:
    inline = [block for block in content if getattr(block, "type", None) == kind]
    links = [block for block in content if getattr(block, "type", None) == "resource_link"]
    files = [link for link in links if (workdir / "outputs" / str(link.uri).rsplit("/", 1)[-1]).is_file()]
    if not inline and not files:
        fail(f"{name}: neither an {kind} block nor a saved file this host could open: {texts(content)[:300]}")
    return f"{kind} block" if inline else "file link"


async def call_all(client: Client[Any], calls: list[dict[str, Any]], workdir: Path) -> tuple[set[str], dict[str, str]]:
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
                result = await client.call_tool(tool, arguments, raise_on_error=False)
        except Exception as exc:  # any failure to parse is what this check reports
            fail(f"{name} raised {type(exc).__name__}: {exc}"[:1500])
        if result.is_error:
            fail(f"{name} answered an error: {texts(result.content)[:300]}")
        kinds |= {block.type for block in result.content}
        if name in MEDIA:
            media[name] = media_of(name, MEDIA[name], result.content, workdir)
        if tool == "submit_batch":
            job_id = (result.structured_content or {}).get("job_id") or job_id
    return kinds, media


async def check_surface(client: Client[Any]) -> str:
    """resources list and read, a model id completes, the prompts list."""
    listed = await client.list_resources()
    for resource in listed[:5]:
        contents = await client.read_resource(str(resource.uri))
        if not contents:
            fail(f"resources/read {resource.uri} returned nothing")
    ref = types.ResourceTemplateReference(type="ref/resource", uri="workers-ai://models/{+model}")
    completion = await client.complete(ref, {"name": "model", "value": "bge-base"})
    if "@cf/baai/bge-base-en-v1.5" not in completion.values:
        fail(f"completion/complete of a model id gave {completion.values[:5]}")
    prompts = await client.list_prompts()
    return f"resources: {len(listed)} listed, 5 read; completion ok; {len(prompts)} prompts"


async def hears_generated_files(client: Client[Any]) -> None:
    """A subscriptions/listen stream hears of the file generate_image saves."""
    with anyio.fail_after(CALL_TIMEOUT):
        async with listen(client.session, resources_list_changed=True) as subscription:
            await client.call_tool("generate_image", {"prompt": "a red cube"})
            async for _event in subscription:
                return


async def run(calls: list[dict[str, Any]], workdir: Path, transport: str, python: str) -> None:
    async with connect(transport, python, workdir) as client:
        negotiated = client.protocol_version
        if negotiated != MODERN:
            fail(f"the connection negotiated {negotiated}, not {MODERN}")
        listed = {tool.name for tool in await client.list_tools()}
        expected = {call.get("tool", call["name"]) for call in calls}
        if listed != expected:
            fail(f"tools/list gave {sorted(listed)}, expected {sorted(expected)}")
        kinds, media = await call_all(client, calls, workdir)
        surface = await check_surface(client)
        await hears_generated_files(client)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(media.items()))
    sys.stdout.write(
        f"   fastmcp {version('fastmcp')} {transport:<15} protocol {negotiated}: {len(calls)} calls parsed; "
        f"blocks {', '.join(sorted(kinds))}; media: {shown}; {surface}; listen heard list_changed\n"
    )


def main() -> None:
    calls_file, workdir, transport, python = sys.argv[1:5]
    calls = json.loads(Path(calls_file).read_text())
    anyio.run(run, calls, Path(workdir), transport, python)


if __name__ == "__main__":
    main()
