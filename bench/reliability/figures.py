"""What the reliability runs share: the machine, percentiles, process counters, clean settings."""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from workers_ai_mcp.emulator import EMULATOR_TOKEN
from workers_ai_mcp.settings import Settings

HERE = Path(__file__).resolve().parent
EMULATOR_HOST = "http://emulator.bench"


def machine() -> dict[str, Any]:
    """Date, CPU, cores, memory, Python and SDK versions, and the load average when the run started."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")), "?"
    )
    memory = next((line.split(":", 1)[1].strip() for line in _lines("/proc/meminfo") if "MemTotal" in line), "?")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "mcp": version("mcp"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (0..1) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean, in milliseconds."""
    if not seconds:
        return {}
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 1),
        "p90_ms": round(percentile(seconds, 0.90) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 1),
    }


@dataclass(frozen=True)
class ProcessCounters:
    """Resident memory, open file descriptors, asyncio tasks and live Python objects of this process."""

    rss_kib: int
    fds: int
    tasks: int
    objects: int

    @classmethod
    def now(cls) -> ProcessCounters:
        gc.collect()
        rss = next((int(line.split()[1]) for line in _lines("/proc/self/status") if line.startswith("VmRSS:")), 0)
        return cls(rss, len(os.listdir("/proc/self/fd")), len(asyncio.all_tasks()), len(gc.get_objects()))


def bench_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings for a run against an emulator at EMULATOR_HOST (or `base_url`), files under `folder`."""
    values: dict[str, Any] = {
        "api_token": SecretStr(EMULATOR_TOKEN),
        "account_id": "bench",
        "base_url": f"{EMULATOR_HOST}/client/v4",
        "gateway_url": f"{EMULATOR_HOST}/v1",
        "output_dir": folder / "outputs",
        "state_dir": folder / "state",
        "input_roots": [folder],
        "timeout": 30.0,
        "tools": None,
        "log_level": "ERROR",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # pyright: ignore[reportCallIssue]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Cloudflare or workers-ai-mcp setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "WORKERS_AI_", "LOG_LEVEL"))}
    return env | extra
