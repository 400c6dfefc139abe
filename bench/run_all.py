"""Run every benchmark, write bench/out/*.json and the results section of bench/README.md.

`uv run python bench/run_all.py [--quick] [--only NAME ...] [--no-readme]`

About five minutes on a 2-core machine (the first run also installs the peers into throwaway venvs
under /tmp). `--quick` cuts the repetitions (for checking the scripts, not for figures). Only the
part of the README between the results markers is rewritten; the analysis below it is by hand.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import cold_start
import concurrency
import import_profile
import latency
import memory_growth
import peers
import profile_calls
import streaming
import tools_size
import wire
from benchlib import BENCH, machine, write_json

START = "<!-- results:start -->"
END = "<!-- results:end -->"

Bench = tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], list[str]]]


def benches(quick: bool) -> dict[str, Bench]:
    return {
        "cold_start": (lambda: cold_start.run(3 if quick else 9), cold_start.report),
        "import_profile": (lambda: import_profile.run(1 if quick else 3), import_profile.report),
        "tools_size": (tools_size.run, tools_size.report),
        "latency": (lambda: latency.run(60 if quick else 300), latency.report),
        "concurrency": (lambda: concurrency.run(2 if quick else 9), concurrency.report),
        "streaming": (lambda: streaming.run(3 if quick else 12), streaming.report),
        "wire": (wire.run, wire.report),
        "memory_growth": (lambda: memory_growth.run(1000 if quick else 5000), memory_growth.report),
        "profile_calls": (lambda: profile_calls.run(100 if quick else 300, 2 if quick else 5), profile_calls.report),
        "peers": (lambda: peers.run(2 if quick else 5), peers.report),
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def summary_table(r: dict[str, Any]) -> list[str]:
    rows = ["| measure | figure | budget | status |", "| --- | --- | --- | --- |"]
    if c := r.get("cold_start"):
        v = c["variants"]
        bare, plain, emu = (v[name] for name in (name for name, _ in cold_start.VARIANTS))
        rows.append(
            f"| cold start, stdio spawn → tools/list (plain, no credentials) | {plain['start_ms']['median']:.0f} ms vs "
            f"bare {bare['start_ms']['median']:.0f} ms = **{c['cold_ratio']:.2f}×** "
            f"(+{c['cold_extra_ms']['median']:.0f} ms"
            f"; IQR of bare {bare['start_ms']['q1']:.0f}–{bare['start_ms']['q3']:.0f}) | ≤ {c['cold_budget']}× | "
            f"{verdict(c['cold_ratio'] <= c['cold_budget'])} |"
        )
        rows.append(
            f"| cold start with `--emulator` | {emu['start_ms']['median']:.0f} ms = {c['cold_ratio_emulator']:.2f}× | "
            "(not budgeted) | |"
        )
        rows.append(
            f"| idle RSS after tools/list | {plain['rss_mib']['median']:.1f} MiB vs bare "
            f"{bare['rss_mib']['median']:.1f} MiB = **{c['memory_ratio']:.2f}×** "
            f"(`--emulator`: {c['memory_ratio_emulator']:.2f}×) | ≤ {c['memory_budget']}× | "
            f"{verdict(c['memory_ratio'] <= c['memory_budget'])} |"
        )
    if t := r.get("tools_size"):
        rows.append(
            f"| tools/list, all {t['tools']} tools | **{t['wire_bytes']:,} B** on the wire | ≤ {t['budget_all']:,} B | "
            f"{verdict(t['wire_bytes'] <= t['budget_all'])} |"
        )
        rows.append(
            f"| tools/list, text tools ({', '.join(t['text_tools'])}) | **{t['text_tools_bytes']:,} B** | "
            f"≤ {t['budget_text']:,} B | {verdict(t['text_tools_bytes'] <= t['budget_text'])} |"
        )
    if lat := r.get("latency"):
        s = lat["stats_ms"]
        rows.append(
            f"| per call over stdio, `translate` vs echo + direct HTTP | ours p50 **{s['ours']['median']:.2f} ms** "
            f"(p99 {s['ours']['p99']:.2f}); echo {s['echo']['median']:.2f} (p99 {s['echo']['p99']:.2f}); direct "
            f"{s['direct']['median']:.2f} (p99 {s['direct']['p99']:.2f}); "
            f"overhead {lat['overhead_median_ms']:+.2f} ms; "
            f"ours − bare+http {lat['ours_minus_bare_http_ms']:+.2f} ms | "
            f"p50 ≤ {lat['allowed_median_ms']:.2f} ms (echo + direct + 1) | {verdict(lat['met'])} |"
        )
    if con := r.get("concurrency"):
        s = con["stats_ms"]
        rows.append(
            f"| {con['in_flight']} calls in flight, 200 ms latency | ours {s['ours']['median']:.0f} ms vs bare sleep "
            f"{s['bare']['median']:.0f} ms = **{con['ratio']:.2f}×**; CPU/call ours "
            f"{con['cpu_ms_per_call']['ours']:.2f} ms, bare {con['cpu_ms_per_call']['bare']:.2f} ms, emulator "
            f"{con['cpu_ms_per_call']['emulator']:.2f} ms; vs bare+http {con['ratio_vs_bare_http']:.2f}× | "
            f"≤ {con['budget']}× | "
            f"{verdict(con['met'])} |"
        )
        first = ", ".join(f"{v} {k}" for k, v in con["first_burst_requests"].items())
        few = sum(con["first_burst_requests"].values()) <= con["in_flight"] + 10
        rows.append(
            f"| requests for a fresh server's first {con['in_flight']} concurrent calls | {first} | "
            f"(not budgeted; ideal: {con['in_flight']} run + one catalog read) | {'' if few else 'stampede'} |"
        )
        seq = [v for k, v in con["connections"].items() if "sequential" in k]
        rows.append(
            f"| TCP connections, sequential calls | {' / '.join(str(n) for n in seq)} (fresh / after bursts) | 1 | "
            f"{verdict(all(n == 1 for n in seq))} |"
        )
    if st := r.get("streaming"):
        d = st["delay_ms"]
        rows.append(
            f"| streaming: token emitted → progress notification read | p50 {d['median']:.2f} ms, "
            f"p99 {d['p99']:.2f} ms "
            f"(n={d['n']}) | (not budgeted) | |"
        )
    if w := r.get("wire"):
        for case in w["cases"]:
            if "ratio" in case:
                budget = f"≤ {case['budget']}×" if case["budget"] else "(not budgeted)"
                status = verdict(case["ratio"] <= case["budget"]) if case["budget"] else ""
                rows.append(
                    f"| request body, 1 MiB file: {case['case']} | {case['body_bytes']:,} B = **{case['ratio']:.3f}×** "
                    f"({case['content_type']}) | {budget} | {status} |"
                )
    if m := r.get("memory_growth"):
        rows.append(
            f"| memory growth over {m['calls']:,} calls | **{m['growth_mb']:.1f} MB** ({m['rss_before_mib']:.1f} → "
            f"{m['rss_after_mib']:.1f} MiB) | ≤ {m['budget_mb']:.0f} MB | {verdict(m['met'])} |"
        )
    return rows


def peers_table(r: dict[str, Any]) -> list[str]:
    p = r.get("peers")
    if not p:
        return []
    rows = [
        "| server | mcp | cold start | idle RSS | tools | tools/list | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for peer in p["peers"]:
        if not peer["start_ms"].get("n"):
            rows.append(f"| {peer['package']} | {peer['mcp']} | – | – | – | – | {peer['note']} |")
            continue
        junk = f"prints {peer['stdout_junk_lines']} non-JSON line(s) on stdout" if peer["stdout_junk_lines"] else ""
        rows.append(
            f"| {peer['package']} | {peer['mcp']} | {peer['start_ms']['median']:.0f} ms | "
            f"{peer['rss_mib']['median']:.1f} MiB "
            f"| {peer['tools']} | {peer['tools_list_bytes']:,} B | {junk} |"
        )
    return rows


def tools_table(r: dict[str, Any]) -> list[str]:
    t = r.get("tools_size")
    if not t:
        return []
    typical = {row["name"]: row for row in t["results"]}
    rows = [
        "| tool | module | entry B | input schema | output schema | description | rest | typical result B |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in t["per_tool"]:
        result = typical.get(row["name"], {})
        size = f"{result.get('result_bytes', 0):,}" + (" (error)" if result.get("error") else "")
        rows.append(
            f"| {row['name']} | {row['module']} | {row['bytes']:,} | {row['input_schema']:,} | "
            f"{row['output_schema']:,} | "
            f"{row['description']:,} | {row['rest']:,} | {size} |"
        )
    totals = t["totals"]
    rows.append(
        f"| **all** | | **{t['tools_array_bytes']:,}** | {totals['input_schema']:,} | {totals['output_schema']:,} | "
        f"{totals['description']:,} | {totals['rest']:,} | |"
    )
    return rows


def results_section(r: dict[str, Any], reports: dict[str, list[str]], seconds: float) -> str:
    m = r["machine"]
    lines = [
        START,
        "",
        f"Latest run: **{m['date']}**, {m['nproc']} × {m['cpu']}, Python {m['python']}, mcp {m['mcp']}, "
        f"load average at start {m['loadavg'][0]:.2f}; `run_all.py` took {seconds:.0f} s. "
        "Raw figures: `bench/out/*.json`.",
        "",
        *summary_table(r),
        "",
        "### Peers",
        "",
        *peers_table(r),
        "",
        "### tools/list per tool (compact JSON bytes) and typical result size",
        "",
        *tools_table(r),
        "",
        "### Every benchmark's own report",
        "",
        "```text",
    ]
    for name, report_lines in reports.items():
        lines += [f"[{name}]", *report_lines, ""]
    lines += ["```", "", END]
    return "\n".join(lines)


def write_readme(section: str) -> None:
    path = BENCH / "README.md"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(before + section + after)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: checks the scripts, not the figures")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine()}
    reports: dict[str, list[str]] = {}
    for name, (run, report) in benches(args.quick).items():
        if args.only and name not in args.only:
            continue
        began = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            results[name] = run()
            reports[name] = report(results[name])
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            reports[name] = [f"FAILED: {type(exc).__name__}: {exc}"]
        print("\n".join(reports[name]), f"({time.monotonic() - began:.0f} s)", sep="\n", flush=True)
    seconds = time.monotonic() - started
    write_json("results", results)
    if not args.no_readme and not args.only:
        write_readme(results_section(results, reports, seconds))
        print(f"wrote {BENCH / 'README.md'}")
    print(f"total {seconds:.0f} s")
    print(json.dumps({"machine": results["machine"]}, default=str))


if __name__ == "__main__":
    main()
