"""Check a built wheel and sdist before they are published (what `twine check` would, and what PyPI and
the MCP Registry need from this project), with the standard library only.

    uv run --no-dev python scripts/check_dist.py dist/

- one wheel and one sdist, both of the package's version (server/workers_ai_mcp/__init__.py);
- wheel METADATA: name, version, summary (one line, at most 100 characters, the same as server.json's
  description), Requires-Python, licence, `text/markdown` long description that carries the
  `mcp-name:` line of server.json (the Registry's proof that the PyPI package is ours), project URLs;
- the console script `workers-ai-mcp` and the package data the server reads at run time;
- nothing in the wheel but the package and its .dist-info; the sdist has the files a rebuild needs.
"""

from __future__ import annotations

import email.parser
import json
import re
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
SDIST_NEEDS = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "server/workers_ai_mcp/__init__.py")
WHEEL_NEEDS = ("workers_ai_mcp/__init__.py", "workers_ai_mcp/py.typed", "workers_ai_mcp/emulator/catalog_snapshot.json")


def package_version() -> str:
    found = VERSION_LINE.search((ROOT / "server" / "workers_ai_mcp" / "__init__.py").read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit("No __version__ line in server/workers_ai_mcp/__init__.py.")
    return found.group(1)


def metadata_of(wheel: zipfile.ZipFile) -> tuple[Message, str]:
    (name,) = [n for n in wheel.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    message = email.parser.Parser().parsestr(wheel.read(name).decode("utf-8"))
    payload = message.get_payload()
    return message, payload if isinstance(payload, str) else ""


def check_wheel(path: Path, version: str, server: dict[str, object], problems: list[str]) -> None:
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        meta, description = metadata_of(wheel)
        entry_points = next((wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")), "")
    expect = {"Name": "workers-ai-mcp", "Version": version, "Requires-Python": ">=3.11", "License-Expression": "MIT"}
    for field, wanted in expect.items():
        if meta.get(field) != wanted:
            problems.append(f"{path.name}: METADATA {field} is {meta.get(field)!r}, expected {wanted!r}")
    summary = meta.get("Summary") or ""
    if "\n" in summary or not 0 < len(summary) <= 100 or summary != server["description"]:
        problems.append(f"{path.name}: Summary must be one line of at most 100 characters, server.json's description")
    if meta.get("Description-Content-Type") != "text/markdown":
        problems.append(f"{path.name}: Description-Content-Type is not text/markdown")
    if not re.search(rf"mcp-name: {re.escape(str(server['name']))}(\s|-->|<)", description):
        problems.append(f"{path.name}: the long description lacks `mcp-name: {server['name']}` (MCP Registry check)")
    if not meta.get_all("Project-URL"):
        problems.append(f"{path.name}: no Project-URL")
    if not re.search(r"^workers-ai-mcp = workers_ai_mcp\.cli:main$", entry_points, re.MULTILINE):
        problems.append(f"{path.name}: no `workers-ai-mcp` console script")
    problems.extend(f"{path.name}: {needed} is missing" for needed in WHEEL_NEEDS if needed not in names)
    strays = [n for n in names if not n.startswith(("workers_ai_mcp/", f"workers_ai_mcp-{version}.dist-info/"))]
    if strays:
        problems.append(f"{path.name}: unexpected files {strays[:5]}")


def check_sdist(path: Path, version: str, problems: list[str]) -> None:
    prefix = f"workers_ai_mcp-{version}/"
    with tarfile.open(path) as sdist:
        names = {name.removeprefix(prefix) for name in sdist.getnames()}
    problems.extend(f"{path.name}: {needed} is missing" for needed in SDIST_NEEDS if needed not in names)
    strays = sorted(n for n in names if n.startswith(("tests/", "bench/", "node_modules/", ".venv/", "scripts/")))
    if strays:
        problems.append(f"{path.name}: carries {strays[:5]}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    dist = Path(args[0] if args else ROOT / "dist")
    version = package_version()
    server = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    problems: list[str] = []
    if len(wheels) != 1 or len(sdists) != 1:
        problems.append(f"{dist} should hold one wheel and one sdist, not {[p.name for p in wheels + sdists]}")
    for wheel in wheels:
        if not wheel.name.startswith(f"workers_ai_mcp-{version}-"):
            problems.append(f"{wheel.name} is not version {version}")
        check_wheel(wheel, version, server, problems)
    for sdist in sdists:
        if sdist.name != f"workers_ai_mcp-{version}.tar.gz":
            problems.append(f"{sdist.name} is not version {version}")
        check_sdist(sdist, version, problems)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    if not problems:
        sys.stdout.write(f"dist ok: {', '.join(p.name for p in wheels + sdists)}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
