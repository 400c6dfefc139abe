"""`tools/list` size, per tool, and the size of each tool's typical result.

Reads the live `tools/list` of `python -m workers_ai_mcp --emulator` (no tool names are hard-coded):
the wire size of the whole answer line, and per tool the bytes of its compact JSON entry, split
into input schema, output schema, description and the rest (name, title, annotations). Tools are
grouped by the module that registers them (`selftest.registered.tool_families`); the "text tools"
figure is the families of `tools.host.budgets.TEXT_FAMILIES`. The budgets are those of
`tools/host/budgets.py`, the same the tools/list test holds the list to (compact JSON of the
`tools/list` result; the wire line, with the JSON-RPC envelope, is reported beside it).

Then each tool is called once against the in-process emulator with
`workers_ai_mcp.selftest.samples.sample_arguments(...)`, in tools/list order, and the size of its
answer line, its content blocks by type and its structured content are recorded.

`python bench/tools_size.py`
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from benchlib import OURS, Json, StdioServer, clean_env, inputs_dir, tool_error_text, write_json

from workers_ai_mcp.tools.host.budgets import TEXT_FAMILIES, TEXT_TOOLS_BYTES, TOOLS_LIST_BYTES


def compact_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def tool_modules() -> dict[str, str]:
    """Tool name → the short name of the module whose `register` adds it."""
    from workers_ai_mcp.selftest.registered import tool_families

    return dict(tool_families())


def breakdown(tool: Json) -> dict[str, Any]:
    total = compact_size(tool)
    input_schema = compact_size(tool.get("inputSchema", {}))
    output_schema = compact_size(tool["outputSchema"]) if "outputSchema" in tool else 0
    description = compact_size(tool.get("description", ""))
    return {
        "name": tool["name"],
        "bytes": total,
        "input_schema": input_schema,
        "output_schema": output_schema,
        "description": description,
        "rest": total - input_schema - output_schema - description,
    }


def result_shape(answer: Json) -> dict[str, Any]:
    result = cast(Json, answer.get("result", {}))
    blocks: dict[str, int] = defaultdict(int)
    for block in cast(list[Json], result.get("content", [])):
        blocks[str(block.get("type"))] += compact_size(block)
    return {
        "content_bytes_by_type": dict(blocks),
        "structured_bytes": compact_size(result["structuredContent"]) if "structuredContent" in result else 0,
    }


def typical_results(tools: list[Json]) -> list[dict[str, Any]]:
    from workers_ai_mcp.selftest.samples import sample_arguments

    workdir = inputs_dir()
    earlier: dict[str, Json] = {}
    rows: list[dict[str, Any]] = []
    with StdioServer([*OURS, "--emulator"], env=clean_env(), log_name="tools_size") as server:
        server.initialize()
        for tool in tools:
            name = str(tool["name"])
            arguments = sample_arguments(name, cast(Json, tool.get("inputSchema", {})), workdir, earlier)
            answer = server.call(name, arguments)
            result = cast(Json, answer.body.get("result", {}))
            if isinstance(result.get("structuredContent"), dict):
                earlier[name] = cast(Json, result["structuredContent"])
            rows.append(
                {
                    "name": name,
                    "result_bytes": answer.size,
                    "error": tool_error_text(answer),
                    **result_shape(answer.body),
                }
            )
    return rows


def run() -> dict[str, Any]:
    with StdioServer([*OURS, "--emulator"], env=clean_env(), log_name="tools_size") as server:
        server.initialize()
        listed = server.list_tools()
    tools = cast(list[Json], listed.body["result"]["tools"])
    owners = tool_modules()
    rows: list[dict[str, Any]] = [breakdown(tool) | {"module": owners.get(str(tool["name"]), "?")} for tool in tools]
    by_module: dict[str, int] = defaultdict(int)
    for row in rows:
        by_module[row["module"]] += row["bytes"]
    text_bytes = compact_size([tool for tool in tools if owners.get(str(tool["name"])) in TEXT_FAMILIES])
    results: dict[str, Any] = {
        "tools": len(tools),
        "wire_bytes": listed.size,
        "tools_array_bytes": compact_size(tools),
        "result_bytes": compact_size({"tools": tools}),
        "text_tools_bytes": text_bytes,
        "text_tools": [row["name"] for row in rows if row["module"] in TEXT_FAMILIES],
        "by_module": dict(by_module),
        "per_tool": sorted(rows, key=lambda row: -row["bytes"]),
        "totals": {
            key: sum(row[key] for row in rows) for key in ("input_schema", "output_schema", "description", "rest")
        },
        "budget_all": TOOLS_LIST_BYTES,
        "budget_text": TEXT_TOOLS_BYTES,
        "results": typical_results(tools),
    }
    write_json("tools_size", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = [
        f"tools/list: {results['tools']} tools, {results['result_bytes']} B (budget {results['budget_all']} B; "
        f"{results['wire_bytes']} B on the wire); text tools {results['text_tools_bytes']} B "
        f"(budget {results['budget_text']} B)",
        "  totals: " + ", ".join(f"{k} {v} B" for k, v in results["totals"].items()),
        f"  {'tool':18} {'module':11} {'bytes':>6} {'input':>6} {'output':>6} {'descr':>6} {'rest':>5}",
    ]
    lines += [
        f"  {row['name']:18} {row['module']:11} {row['bytes']:6} {row['input_schema']:6} "
        f"{row['output_schema']:6} {row['description']:6} {row['rest']:5}"
        for row in results["per_tool"]
    ]
    lines.append("  typical results (one call each, --emulator, samples.sample_arguments):")
    for row in results["results"]:
        blocks = ", ".join(f"{k} {v} B" for k, v in row["content_bytes_by_type"].items())
        error = f"  ERROR: {row['error']}" if row["error"] else ""
        lines.append(
            f"    {row['name']:18} {row['result_bytes']:7} B  [{blocks}; structured {row['structured_bytes']} B]{error}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0]).parse_args(argv)
    print("\n".join(report(run())))


if __name__ == "__main__":
    main()
