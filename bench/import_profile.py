"""Where our start-up time goes: the imports we add to the SDK's, and the phases of start-up.

1. Imports. Both servers run under `python -X importtime` through initialize and tools/list (so
   lazy imports done while serving count too); the modules ours loads that the bare server does
   not are our additions. Each module's self time is the median of the rounds; third-party
   modules are charged to the module of ours that first imported them. A list of heavy modules
   says, for each, whether the SDK already loads it (then it costs us nothing) or we do.
2. Phases, in-process, in a fresh interpreter each round: `import mcp.server` (the SDK, which the
   bare server pays too), our CLI/app/transports imports, `load_settings()`, `create_server()`
   (tool registration: the SDK builds a pydantic model and JSON schemas per tool), `list_tools()`.
   The bare server's own `MCPServer(...)` + one tool is timed beside it.

`python bench/import_profile.py [--runs N]`
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import BARE, LOGS, OURS, StdioServer, clean_env, out_dir, write_json

HEAVY = (
    "PIL",
    "jsonschema",
    "workers_ai_mcp.emulator",
    "uvicorn",
    "starlette",
    "sse_starlette",
    "httpx2",
    "pydantic_settings",
    "dotenv",
    "numpy",
)
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

PHASES_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
from mcp.server import MCPServer
t1 = time.perf_counter()
import anyio
bare = MCPServer("bare")
async def echo(text: str) -> str:
    return text
bare.add_tool(echo)
t2 = time.perf_counter()
import workers_ai_mcp.cli
from workers_ai_mcp.app import create_server
from workers_ai_mcp.transports.serve import run_transport
t3 = time.perf_counter()
from workers_ai_mcp.settings import load_settings
settings = load_settings()
t4 = time.perf_counter()
server = create_server(settings)
t5 = time.perf_counter()
tools = anyio.run(server.list_tools)
t6 = time.perf_counter()
async def lifespan():
    async with server.settings.lifespan(server):
        pass
anyio.run(lifespan)
t7 = time.perf_counter()
print(json.dumps({
    "import mcp.server (SDK, both pay it)": t1 - t0,
    "bare: MCPServer() + 1 tool": t2 - t1,
    "ours: import cli, app, transports": t3 - t2,
    "ours: load_settings()": t4 - t3,
    "ours: create_server() (tool registration)": t5 - t4,
    "ours: list_tools()": t6 - t5,
    "ours: lifespan (HTTP client, state)": t7 - t6,
}))
"""


def parse_importtime(text: str) -> list[tuple[str, int, int, int]]:
    """(module, self µs, cumulative µs, depth) per line of `-X importtime` output, in order."""
    rows: list[tuple[str, int, int, int]] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            rows.append((match.group(4), int(match.group(1)), int(match.group(2)), len(match.group(3)) // 2))
    return rows


def owner_map(rows: list[tuple[str, int, int, int]]) -> dict[str, str]:
    """Module → nearest workers_ai_mcp ancestor in the import tree ('' for none), via a depth stack."""
    # Build the tree: each line's children are the preceding unattached lines with depth = its depth + 1.
    parent: dict[int, int] = {}
    stack: list[int] = []  # indices awaiting a parent
    for index, (_m, _s, _c, depth) in enumerate(rows):
        while stack and rows[stack[-1]][3] > depth:
            parent[stack.pop()] = index
        stack.append(index)
    result: dict[str, str] = {}
    for index, (module, _s, _c, _d) in enumerate(rows):
        up = parent.get(index)
        found = ""
        while up is not None:
            name = rows[up][0]
            if name.startswith("workers_ai_mcp"):
                found = name
                break
            up = parent.get(up)
        result[module] = found
    return result


def importtime_of(command: list[str], name: str) -> list[tuple[str, int, int, int]]:
    log = LOGS / f"importtime_{name}.log"
    log.unlink(missing_ok=True)
    server = StdioServer([command[0], "-X", "importtime", *command[1:]], env=clean_env(), log_name=f"importtime_{name}")
    with server:
        server.initialize()
        server.list_tools()
    return parse_importtime(Path(log).read_text())


def imports(runs: int) -> dict[str, Any]:
    ours_rounds: list[list[tuple[str, int, int, int]]] = []
    bare_rounds: list[list[tuple[str, int, int, int]]] = []
    for _ in range(runs):
        bare_rounds.append(importtime_of(BARE, "bare"))
        ours_rounds.append(importtime_of(OURS, "ours"))
    bare_modules = {row[0] for rows in bare_rounds for row in rows}
    self_times: dict[str, list[int]] = defaultdict(list)
    for rows in ours_rounds:
        for module, self_us, _cum, _depth in rows:
            self_times[module].append(self_us)
    added = {m: statistics.median(v) / 1000 for m, v in self_times.items() if m not in bare_modules}
    owners = owner_map(ours_rounds[-1])
    by_owner: dict[str, float] = defaultdict(float)
    for module, ms in added.items():
        key = module if module.startswith("workers_ai_mcp") else (owners.get(module) or "(other)")
        by_owner[key] += ms
    third_party: dict[str, float] = defaultdict(float)
    for module, ms in added.items():
        if not module.startswith("workers_ai_mcp"):
            third_party[module.split(".")[0]] += ms
    ours_modules = set(self_times)
    heavy = {
        name: {
            "sdk_loads_it": any(m == name or m.startswith(name + ".") for m in bare_modules),
            "ours_loads_it": any(m == name or m.startswith(name + ".") for m in ours_modules),
        }
        for name in HEAVY
    }
    return {
        "runs": runs,
        "added_total_ms": sum(added.values()),
        "added_modules": len(added),
        "own_modules_ms": sum(ms for m, ms in added.items() if m.startswith("workers_ai_mcp")),
        "third_party_added_ms": dict(sorted(third_party.items(), key=lambda kv: -kv[1])),
        "by_importer_ms": dict(sorted(by_owner.items(), key=lambda kv: -kv[1])),
        "top_added_modules_ms": dict(sorted(added.items(), key=lambda kv: -kv[1])[:25]),
        "heavy": heavy,
    }


def phases(runs: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        answer = subprocess.run(
            [sys.executable, "-c", PHASES_SCRIPT],
            env=clean_env(),
            cwd=out_dir(),
            capture_output=True,
            text=True,
            check=True,
        )
        for name, seconds in json.loads(answer.stdout.splitlines()[-1]).items():
            samples[name].append(seconds * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def registration_profile(top: int = 12) -> list[tuple[str, float]]:
    """cProfile of `create_server`: the SDK functions where tool registration spends its time."""
    script = (
        "import cProfile, pstats, io\n"
        "from workers_ai_mcp.app import create_server\n"
        "from workers_ai_mcp.settings import load_settings\n"
        "s = load_settings(); p = cProfile.Profile(); p.enable(); create_server(s); p.disable()\n"
        "st = pstats.Stats(p); st.sort_stats('cumulative')\n"
        "import json\n"
        'rows = [(f\'{k[0].split("site-packages/")[-1].split("/server/")[-1]}:{k[2]}\', v[3]) '
        "for k, v in st.stats.items()]\n"  # pyright: ignore
        "print(json.dumps(sorted(rows, key=lambda r: -r[1])[:60]))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script], env=clean_env(), cwd=out_dir(), capture_output=True, text=True, check=True
    )
    rows: list[tuple[str, float]] = [(name, sec * 1000) for name, sec in json.loads(answer.stdout.splitlines()[-1])]
    wanted = ("func_metadata", "get_type_hints", "find_context_parameter", "json_schema.py:404", "create_model")
    picked = [row for row in rows if any(w in row[0] for w in wanted)]
    return (rows[:4] + picked)[:top]


def run(runs: int = 3) -> dict[str, Any]:
    results = {
        "imports": imports(runs),
        "phases_ms": phases(max(runs, 3)),
        "registration_profile_ms": registration_profile(),
    }
    write_json("import_profile", results)
    return results


def _who_loads(heavy: dict[str, bool]) -> str:
    if heavy["sdk_loads_it"]:
        return "SDK loads it"
    return "WE load it" if heavy["ours_loads_it"] else "not loaded"


def report(results: dict[str, Any]) -> list[str]:
    imp = results["imports"]
    lines = [
        f"imports ours adds to the SDK's: {imp['added_total_ms']:.0f} ms self time in {imp['added_modules']} modules "
        f"(our own modules {imp['own_modules_ms']:.0f} ms)",
        "  third-party packages we add: "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in list(imp["third_party_added_ms"].items())[:8]),
        "  charged to the module of ours that imported them (top 8): "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in list(imp["by_importer_ms"].items())[:8]),
        "  heavy modules: " + ", ".join(f"{name} ({_who_loads(h)})" for name, h in imp["heavy"].items()),
        "phases (in-process, median): " + ", ".join(f"{k} {v:.0f} ms" for k, v in results["phases_ms"].items()),
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.runs))))


if __name__ == "__main__":
    main()
