"""`workers-ai-mcp selftest`: launch the server over stdio, call every tool once, print a table.

With `--emulator` nothing leaves the machine. Without it the token and account are checked first
(free), the plan and its rough cost are printed, and the cheapest calls are made only with `--yes`;
media generation is left out unless `--all` is given. The table goes to stdout (this is a command,
not the server); the exit code is non-zero when anything failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp.types import CallToolResult

from ..redact import Redactor
from .samples import sample_arguments
from .viewer import DeclaresApps, viewer_problems

# Tools that generate media cost the most per call; a paid run skips them unless --all.
MEDIA_GENERATION = frozenset({"generate_image", "text_to_speech"})
STATUS_WIDTH = 60
VIEWER_ROW = "(viewer)"  # the row of the MCP Apps check, after the tools'


@dataclass
class Row:
    tool: str
    ok: bool
    detail: str
    latency_ms: float
    size: int


def add_selftest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--emulator", action="store_true", help="run against the built-in emulator (free, offline)")
    parser.add_argument("--yes", action="store_true", help="make the billed calls (needed without --emulator)")
    parser.add_argument("--all", action="store_true", help="also call the media generation tools on a real account")
    parser.add_argument("--tools", help="comma-separated tool names to call (default: every tool)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per call (default 60)")


def run_selftest(args: argparse.Namespace) -> int:
    return anyio.run(_selftest, args)


async def _selftest(args: argparse.Namespace) -> int:
    redact = Redactor()
    if not args.emulator:
        code = await _check_account(redact)
        if code:
            return code
    with tempfile.TemporaryDirectory(prefix="workers-ai-mcp-selftest-") as temp:
        workdir = Path(temp).resolve()
        log_path = workdir / "server.log"
        try:
            with log_path.open("w", encoding="utf-8") as log:
                return await _run(args, workdir, log, redact)
        except Exception as exc:
            _out(f"selftest: the server failed: {redact(_describe(exc))}\n")
            _out_server_log(log_path, redact)
            return 1


async def _check_account(redact: Redactor) -> int:
    """Check credentials against Cloudflare without spending anything; 0 when ready."""
    from ..client import WorkersAIClient, WorkersAIError, create_http_client
    from ..settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        _out(f"selftest: {exc}\n")
        return 2
    missing = settings.missing_credentials()
    if missing:
        _out(f"selftest: set {' and '.join(missing)} first, or run `workers-ai-mcp selftest --emulator`.\n")
        return 2
    redact.add(settings.api_token.get_secret_value() if settings.api_token else None)
    async with create_http_client(settings) as http:
        client = WorkersAIClient(settings, http, redactor=redact)
        try:
            token = await client.verify_token()
            page = await client.search_models(per_page=1)
        except WorkersAIError as exc:
            _out(f"selftest: the credentials do not work: {redact(str(exc))}\n")
            return 1
    _out(
        f"Token: {token.get('status', 'unknown')}. Account {settings.account_id}: Workers AI catalog reachable "
        f"({page.total_count if page.total_count is not None else 'some'} models).\n"
    )
    return 0


async def _run(args: argparse.Namespace, workdir: Path, log: TextIO, redact: Redactor) -> int:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "workers_ai_mcp", *(["--emulator"] if args.emulator else [])],
        env=child_environment(workdir),
    )
    transport = stdio_client(params, errlog=log)
    async with Client(transport, read_timeout_seconds=args.timeout, extensions=[DeclaresApps()]) as client:
        listed = await client.list_tools()
        tools = {tool.name: tool for tool in listed.tools}
        unknown = sorted(set(_wanted(args)) - set(tools))
        if unknown:
            _out(f"selftest: --tools names unknown tools: {', '.join(unknown)}. Available: {', '.join(tools)}.\n")
            return 2
        chosen = _choose(args, list(tools))
        if not args.emulator and not _announce(args, chosen, list(tools)):
            return 0
        rows: list[Row] = []
        earlier: dict[str, dict[str, Any]] = {}
        results: dict[str, CallToolResult] = {}
        for name in chosen:
            arguments = sample_arguments(name, dict(tools[name].input_schema), workdir, earlier)
            row, result = await _call(client, name, arguments, args.timeout)
            rows.append(row)
            if result is not None:
                results[name] = result
                if result.structured_content is not None:
                    earlier[name] = result.structured_content
        rows.append(await _check_viewer(client, tools, results))
    _out(format_table(rows, redact))
    called = [row for row in rows if row.tool != VIEWER_ROW]
    failed = [row for row in rows if not row.ok]
    _out(f"selftest: {len(called) - len([row for row in failed if row in called])} of {len(called)} tools ok\n")
    return 1 if failed or not called else 0


def child_environment(workdir: Path) -> dict[str, str]:
    """This process's environment, with media folders inside `workdir` and this package importable."""
    package_parent = Path(__file__).resolve().parents[2]  # server/, which holds workers_ai_mcp/
    paths = [str(package_parent)]
    bundled = package_parent / "lib"  # the MCP Bundle layout: server/workers_ai_mcp beside server/lib
    if bundled.is_dir():
        paths.append(str(bundled))
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    outputs = workdir / "outputs"
    outputs.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "WORKERS_AI_MCP_OUTPUT_DIR": str(outputs),
        "WORKERS_AI_MCP_INPUT_ROOTS": str(workdir),
    }


def _wanted(args: argparse.Namespace) -> list[str]:
    return [name.strip() for name in str(args.tools or "").split(",") if name.strip()]


def _choose(args: argparse.Namespace, available: list[str]) -> list[str]:
    """The tools to call, in the server's order: --tools, or all (a paid run skips media generation)."""
    wanted = _wanted(args)
    if wanted:
        return [name for name in available if name in wanted]
    if args.emulator or args.all:
        return available
    return [name for name in available if name not in MEDIA_GENERATION]


def _announce(args: argparse.Namespace, chosen: list[str], available: list[str]) -> bool:
    """Print the plan of a paid run; True when the calls may be made (`--yes`)."""
    skipped = [name for name in available if name not in chosen]
    _out(f"Plan: one call each to {len(chosen)} tools: {', '.join(chosen)}.\n")
    if skipped:
        reason = "media generation; add --all" if set(skipped) <= MEDIA_GENERATION else "not selected"
        _out(f"Skipped: {', '.join(skipped)} ({reason}).\n")
    _out(
        "Cost: every call uses a few tokens or a tiny input, well under 1,000 neurons in all "
        "(under $0.011 at $0.011 per 1,000 neurons), normally inside the free 10,000 neurons a day.\n"
    )
    if not args.yes:
        _out("Dry run: no tool was called. Add --yes to make these calls on your account.\n")
        return False
    return True


async def _check_viewer(client: Any, tools: dict[str, Any], results: dict[str, CallToolResult]) -> Row:
    """The row of the MCP Apps viewer (`viewer.py`)."""
    started = time.perf_counter()
    try:
        problems = await viewer_problems(client, tools, results)
    except Exception as exc:
        problems = [_describe(exc)]
    return Row(VIEWER_ROW, not problems, "; ".join(problems) or "ok", _since(started), 0)


async def _call(client: Any, name: str, arguments: dict[str, Any], timeout: float) -> tuple[Row, CallToolResult | None]:
    """One call's row, and its result when it succeeded (later samples may use its structured content)."""
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout):
            result = await client.call_tool(name, arguments)
    except TimeoutError:
        return Row(name, False, f"no answer within {timeout:g} s", _since(started), 0), None
    except Exception as exc:
        return Row(name, False, _describe(exc), _since(started), 0), None
    elapsed = _since(started)
    size = len(result.model_dump_json(by_alias=True, exclude_none=True).encode())
    if result.is_error:
        texts = [block.text for block in result.content if getattr(block, "type", "") == "text"]
        text = " ".join(texts).removeprefix(f"Error executing tool {name}: ")
        return Row(name, False, text or "error without text", elapsed, size), None
    return Row(name, True, "ok", elapsed, size), result


def format_table(rows: list[Row], redact: Redactor) -> str:
    """The result table: tool, ok or the error (cut to fit; full text below), latency, result size."""
    header = ("tool", "result", "ms", "bytes")
    cells = [(row.tool, _cut(redact(row.detail)), f"{row.latency_ms:.0f}", str(row.size)) for row in rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(4)]

    def line(values: tuple[str, str, str, str]) -> str:
        return f"{values[0]:<{widths[0]}}  {values[1]:<{widths[1]}}  {values[2]:>{widths[2]}}  {values[3]:>{widths[3]}}"

    lines = [line(header), line(("-" * widths[0], "-" * widths[1], "-" * widths[2], "-" * widths[3]))]
    lines += [line(cell) for cell in cells]
    for row in rows:
        if not row.ok and len(row.detail) > STATUS_WIDTH:
            lines.append(f"{row.tool}: {redact(row.detail)}")
    return "\n".join(lines) + "\n"


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= STATUS_WIDTH else text[: STATUS_WIDTH - 1] + "…"


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        inner: list[BaseException] = list(exc.exceptions)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        return "; ".join(_describe(e) for e in inner)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _out_server_log(path: Path, redact: Redactor) -> None:
    try:
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    except OSError:
        return
    if tail:
        sys.stderr.write("Last lines of the server's stderr:\n" + redact("\n".join(tail)) + "\n")
