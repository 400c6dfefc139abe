"""Build the MCP Bundle: dist/workers-ai-mcp-<version>-<platform>.mcpb for this OS, CPU and Python.

    uv run python scripts/build_bundle.py                  # for the interpreter running this script
    uv run python scripts/build_bundle.py --python python3.12
    uv run python scripts/build_bundle.py --offline        # wheels from uv's cache only (after `uv sync`)

Needs uv, and Node.js with npm: the pinned `mcpb` CLI (package-lock.json) is installed with `npm ci`
on first use.

The bundle is `server.type: "python"`: the runtime dependencies locked in uv.lock (no dev tools)
are vendored into server/lib with `uv pip install --target`. pydantic-core, Pillow, rpds-py and
cffi are compiled for one OS, CPU and Python minor version, so a bundle only runs there: the staged
manifest says so (`compatibility.platforms` and `runtimes.python` are narrowed to what was built)
and the file name carries the same tag. Build once per target you ship.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
MCPB = ROOT / "node_modules" / ".bin" / ("mcpb.cmd" if sys.platform == "win32" else "mcpb")
VERSION_FILE = ROOT / "server" / "workers_ai_mcp" / "__init__.py"  # the one place the version is written
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `command` from the project root, echoing it; raise on failure."""
    sys.stdout.write("+ " + " ".join(command) + "\n")
    sys.stdout.flush()
    return subprocess.run(command, cwd=ROOT, check=True, text=True, **kwargs)


def target_of(python: str) -> dict[str, Any]:
    """OS, CPU and version of the interpreter the bundle is built for."""
    probe = "import json, platform, sys; print(json.dumps([sys.platform, platform.machine(), sys.version_info[:2]]))"
    try:
        out = subprocess.run([python, "-I", "-c", probe], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit(
            f"No Python interpreter runs as {python!r}: install it, or pass --python with a path or name that does "
            "(the bundle is built for that interpreter's OS, CPU and version)."
        ) from None
    os_name, machine, (major, minor) = json.loads(out)
    return {"os": os_name, "machine": machine.lower(), "major": major, "minor": minor}


def platform_tag(target: dict[str, Any]) -> str:
    return f"{target['os']}-{target['machine']}-cp{target['major']}{target['minor']}"


def project_version() -> str:
    """`__version__` from the package (pyproject.toml's version is dynamic and read from there too)."""
    found = VERSION_LINE.search(VERSION_FILE.read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit(f'No `__version__ = "…"` line in {VERSION_FILE.relative_to(ROOT)}.')
    return found.group(1)


def staged_manifest(target: dict[str, Any]) -> dict[str, Any]:
    """The repository's manifest, narrowed to the one platform and Python the vendored wheels fit."""
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    major, minor = target["major"], target["minor"]
    compatibility = manifest.setdefault("compatibility", {})
    compatibility["platforms"] = [target["os"]]
    compatibility.setdefault("runtimes", {})["python"] = f">={major}.{minor} <{major}.{minor + 1}"
    return manifest


def vendor_dependencies(lib: Path, python: str, offline: bool, scratch: Path) -> None:
    """Install the locked runtime dependencies (not the project, not dev tools) into `lib`."""
    requirements = scratch / "requirements.txt"
    run(
        ["uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-header", "--format", "requirements.txt"]
        + ["--output-file", str(requirements)],
        stdout=subprocess.DEVNULL,
    )
    command = ["uv", "pip", "install", "--quiet", "--no-build", "--target", str(lib), "--python", python]
    run([*command, *(["--offline"] if offline else []), "-r", str(requirements)])
    shutil.rmtree(lib / "bin", ignore_errors=True)  # console scripts point at the build machine's paths


def copy_sources(server: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy2(ROOT / "server" / "main.py", server / "main.py")
    shutil.copytree(ROOT / "server" / "workers_ai_mcp", server / "workers_ai_mcp", ignore=ignore)


def ensure_mcpb() -> None:
    if MCPB.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "Building a bundle needs Node.js with npm (for the pinned mcpb CLI in package-lock.json): "
            "install Node.js 20 or newer from nodejs.org or your package manager, then run this again."
        )
    run([npm, "ci", "--no-audit", "--no-fund"])


def build(python: str, offline: bool, dist: Path = DIST) -> Path:
    version = project_version()
    target = target_of(python)
    manifest = staged_manifest(target)
    if manifest["version"] != version:
        raise SystemExit(
            f"manifest.json version {manifest['version']} differs from the package's {version} "
            "(server/workers_ai_mcp/__init__.py)."
        )
    ensure_mcpb()
    dist.mkdir(parents=True, exist_ok=True)
    bundle = dist / f"workers-ai-mcp-{version}-{platform_tag(target)}.mcpb"
    with tempfile.TemporaryDirectory(prefix="workers-ai-mcp-bundle-") as scratch:
        staging = Path(scratch) / "bundle"
        server = staging / "server"
        server.mkdir(parents=True)
        vendor_dependencies(server / "lib", python, offline, Path(scratch))
        copy_sources(server)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
        for name in (".mcpbignore", "LICENSE", "README.md", "icon.png"):
            shutil.copy2(ROOT / name, staging / name)
        bundle.unlink(missing_ok=True)
        run([str(MCPB), "pack", str(staging), str(bundle)], stdout=subprocess.DEVNULL)
    sys.stdout.write(f"built {bundle} ({bundle.stat().st_size / 1e6:.1f} MB)\n")
    return bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build dist/workers-ai-mcp-<version>-<platform>.mcpb.")
    parser.add_argument("--python", default=sys.executable, help="interpreter to build for (default: this one)")
    parser.add_argument("--offline", action="store_true", help="install wheels from uv's cache only")
    parser.add_argument("--dist", type=Path, default=DIST, help="folder for the .mcpb (default: dist/)")
    args = parser.parse_args(argv)
    build(args.python, args.offline, args.dist.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
