"""The reliability figures as budgets met or missed, as Markdown, and written into docs/reliability.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

START = "<!-- figures:start (written by bench/reliability/run.py --write-docs) -->"
END = "<!-- figures:end -->"
CONCURRENCY_BUDGET = 1.4
MEMORY_BUDGET_KIB = 10 * 1024


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget, the figure measured against it, and whether it was met (for the parts that ran)."""
    found: list[dict[str, Any]] = []
    if "tests" in results:
        found += _tests_verdicts(results["tests"])
    if "http" in results:
        found += _http_verdicts(results["http"])
    if "stdio" in results:
        found += _stdio_verdicts(results["stdio"])
    if "soak" in results:
        found += _soak_verdicts(results["soak"])
    return found


def _verdict(name: str, budget: str, figure: str, met: bool) -> dict[str, Any]:
    return {"name": name, "budget": budget, "figure": figure, "met": met}


def _tests_verdicts(tests: dict[str, Any]) -> list[dict[str, Any]]:
    counts = _total(tests["by_file"])
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return [
        _verdict(
            "Fault matrix and fuzzing", "every case passes (known bugs: strict xfail)", summary, tests["exit_code"] == 0
        )
    ]


def _http_verdicts(http: dict[str, Any]) -> list[dict[str, Any]]:
    clean, faulty = http["clean"], http["faults_10_percent"]
    injected = faulty["upstream"].get("faults_injected", 0) / max(faulty["upstream"].get("run_requests", 1), 1)
    return [
        _verdict(
            f"Streamable HTTP, {clean['calls']:,} calls from {clean['clients']} clients",
            "zero errors",
            f"{clean['succeeded']:,} answered, {clean['calls'] - clean['succeeded']} failed",
            clean["succeeded"] == clean["calls"],
        ),
        _verdict(
            f"Streamable HTTP, {injected:.1%} of upstream requests failing",
            "≥ 99 % succeed after retries, the rest clear errors",
            f"{faulty['success_rate']:.2%} succeeded, {faulty['clear_errors']} clear errors, "
            f"{faulty['unclear_failures']} unclear",
            faulty["success_rate"] >= 0.99 and faulty["unclear_failures"] == 0,
        ),
    ]


def _stdio_verdicts(stdio: dict[str, Any]) -> list[dict[str, Any]]:
    connections = stdio["connections"]
    return [
        _verdict(
            f"stdio, {stdio['in_flight']} calls in flight at {stdio['emulated_latency_ms']} ms",
            f"≤ {CONCURRENCY_BUDGET}× a bare MCPServer tool sleeping as long",
            f"{stdio['ratio']}× ({stdio['ours_median_s']} s vs {stdio['bare_median_s']} s; queued would be "
            f"{stdio['if_queued_s']} s)",
            stdio["ratio"] <= CONCURRENCY_BUDGET,
        ),
        _verdict(
            "Sequential calls",
            "reuse one pooled connection",
            f"{connections['sequential_fresh']} connection(s) fresh, {connections['sequential_after_bursts']} "
            "after bursts",
            connections["sequential_fresh"] == 1 and connections["sequential_after_bursts"] == 1,
        ),
    ]


def _soak_verdicts(soak: dict[str, Any]) -> list[dict[str, Any]]:
    growth, left = soak["growth_after_warmup"], soak["left_after_close"]
    from_start = soak["growth_from_session_start"]["rss_kib"] / 1024
    return [
        _verdict(
            f"Soak, {soak['calls']:,} calls in one process",
            "resident memory grows < 10 MB",
            f"{growth['rss_kib'] / 1024:+.1f} MB after warm-up ({from_start:+.1f} MB from session start)",
            growth["rss_kib"] < MEMORY_BUDGET_KIB,
        ),
        _verdict(
            "Soak: descriptors and tasks",
            "none leaked",
            f"fds {growth['fds']:+d}, tasks {growth['tasks']:+d} over the calls; fds {left['fds']:+d}, "
            f"tasks {left['tasks']:+d} once closed",
            growth["fds"] == growth["tasks"] == left["fds"] == left["tasks"] == 0,
        ),
    ]


def render(results: dict[str, Any]) -> str:
    """The figures block of docs/reliability.md."""
    m = results["machine"]
    lines = [
        START,
        f"Measured {m['date']} on {m['cores']} × {m['cpu']}, {m['memory']} RAM, {m['os']}, Python {m['python']}, "
        f"mcp {m['mcp']}; load average at start {', '.join(map(str, m['load_average_at_start']))}"
        + (" (quick sizes: not the published figures)" if results.get("quick") else "")
        + ".",
        "",
        "| check | budget | measured | met |",
        "| --- | --- | --- | --- |",
        *(
            f"| {v['name']} | {v['budget']} | {v['figure']} | {'yes' if v['met'] else '**no**'} |"
            for v in results["verdicts"]
        ),
    ]
    if "http" in results:
        lines += _http_table(results["http"])
    if "stdio" in results:
        stdio = results["stdio"]
        lines += [
            "",
            f"stdio rounds (s), ours: {stdio['ours_rounds_s']}; bare: {stdio['bare_rounds_s']}; connections: "
            f"{stdio['connections']}.",
        ]
    if "soak" in results:
        lines += _soak_table(results["soak"])
    if tests := results.get("tests"):
        files = "; ".join(f"{name}: {counts}" for name, counts in tests["by_file"].items())
        lines += ["", f"Tests: {files} ({tests['seconds']} s)."]
    lines.append(END)
    return "\n".join(lines)


def _http_table(http: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "| streamable HTTP | calls/s | p50 | p90 | p99 | max | upstream ai/run requests | 503s injected |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, run in (("no faults", http["clean"]), ("≈10 % faults", http["faults_10_percent"])):
        lat, up = run["latency"], run["upstream"]
        lines.append(
            f"| {label} | {run['calls_per_second']} | {lat['p50_ms']} ms | {lat['p90_ms']} ms | {lat['p99_ms']} ms "
            f"| {lat['max_ms']} ms | {up.get('run_requests', '?')} | {up.get('faults_injected', '?')} |"
        )
    return lines


def _soak_table(soak: dict[str, Any]) -> list[str]:
    counters = soak["counters"]
    stages = ("before_session", "after_warmup", "at_end", "after_close")
    return [
        "",
        "| soak counter | before session | after warm-up | at end | after close |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {key} | " + " | ".join(str(counters[stage][key]) for stage in stages) + " |"
            for key in ("rss_kib", "fds", "tasks", "objects")
        ),
        "",
        f"Soak: {soak['succeeded']:,} answered, {soak['errors']} failed as injected ({soak['faults_injected']}), "
        f"{soak['seconds']} s.",
    ]


def update_docs(path: Path, markdown: str) -> None:
    """Replace the figures block of `path` (between START and END) with `markdown`."""
    text = path.read_text()
    head, found, rest = text.partition(START)
    if not found:
        raise SystemExit(f"{path} has no figures block ({START})")
    _, found, tail = rest.partition(END)
    if not found:
        raise SystemExit(f"{path} has no end of the figures block ({END})")
    path.write_text(head + markdown + tail)


def _total(by_file: dict[str, dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in by_file.values():
        for outcome, number in counts.items():
            total[outcome] = total.get(outcome, 0) + number
    return total
