"""Set the release version: server/workers_ai_mcp/__init__.py (the source), and manifest.json and
server.json, which must say the same (tests/packaging checks it).

    uv run --no-dev python scripts/set_version.py 0.2.0
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INIT = ROOT / "server" / "workers_ai_mcp" / "__init__.py"
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")


def set_version(version: str, root: Path = ROOT) -> None:
    init = root / INIT.relative_to(ROOT)
    text = init.read_text(encoding="utf-8")
    text, count = re.subn(r'^__version__ = "[^"]+"$', f'__version__ = "{version}"', text, flags=re.MULTILINE)
    if count != 1:
        raise SystemExit(f"{init} has no single __version__ line.")
    init.write_text(text, encoding="utf-8")
    manifest_path = root / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["version"] = version
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    server_path = root / "server.json"
    server = json.loads(server_path.read_text(encoding="utf-8"))
    old = server["version"]
    server["version"] = version
    for package in server["packages"]:
        package["version"] = version
        if package["registryType"] == "mcpb":
            package["identifier"] = package["identifier"].replace(f"/v{old}/", f"/v{version}/")
            package["identifier"] = package["identifier"].replace(f"-{old}-", f"-{version}-")
    server_path.write_text(json.dumps(server, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not SEMVER.match(args[0]):
        raise SystemExit("usage: set_version.py X.Y.Z (a semantic version such as 0.2.0 or 1.0.0-rc.1)")
    set_version(args[0])
    sys.stdout.write(f"version {args[0]}: __init__.py, manifest.json, server.json\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
