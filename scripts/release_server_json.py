"""Write server.json for a release: the version everywhere, and one MCPB entry per built bundle with its SHA-256.

    uv run python scripts/release_server_json.py --bundles dist/bundles          # rewrites server.json
    uv run python scripts/release_server_json.py --bundles dist/bundles --output build/server.json

The committed server.json carries the PyPI package and one MCPB entry whose `fileSha256` is a placeholder
(64 zeros): a bundle's hash exists only once it is built. The release workflow builds the bundles,
then runs this script (which checks the result against the Registry's schema), so what reaches the
MCP Registry names every bundle attached to the GitHub release
(`https://github.com/<owner>/<repo>/releases/download/v<version>/<file>`) with the hash of that file.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER_JSON = ROOT / "server.json"
VERSION_FILE = ROOT / "server" / "workers_ai_mcp" / "__init__.py"
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
SCHEMA = ROOT / "tests" / "packaging" / "registry" / "server.schema.json"  # the Registry's, vendored
PLACEHOLDER_SHA256 = "0" * 64
BUNDLE_NAME = re.compile(r"^workers-ai-mcp-(?P<version>[^-]+)-(?P<target>[a-z0-9]+-[a-z0-9_]+-cp3\d+)\.mcpb$")


def package_version() -> str:
    found = VERSION_LINE.search(VERSION_FILE.read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit(f"No __version__ line in {VERSION_FILE}.")
    return found.group(1)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def release_url(repository_url: str, version: str, file_name: str) -> str:
    return f"{repository_url.rstrip('/')}/releases/download/v{version}/{file_name}"


def bundles_in(folder: Path, version: str) -> list[Path]:
    found: list[Path] = []
    for path in sorted(folder.rglob("*.mcpb")):
        match = BUNDLE_NAME.match(path.name)
        if match is None or match["version"] != version:
            raise SystemExit(f"{path.name} is not a workers-ai-mcp-{version}-<os>-<cpu>-cp3XX.mcpb bundle.")
        found.append(path)
    if not found:
        raise SystemExit(f"No .mcpb bundles under {folder}: build them first (scripts/build_bundle.py).")
    return found


def release_document(template: dict[str, Any], version: str, bundles: list[Path]) -> dict[str, Any]:
    """`template` with `version` set and its MCPB entry repeated once per bundle."""
    document = copy.deepcopy(template)
    document["version"] = version
    packages: list[dict[str, Any]] = document["packages"]
    mcpb_template = next(package for package in packages if package["registryType"] == "mcpb")
    others = [package for package in packages if package["registryType"] != "mcpb"]
    for package in others:
        package["version"] = version
    repository = str(document["repository"]["url"])
    entries: list[dict[str, Any]] = []
    for bundle in bundles:
        entry = copy.deepcopy(mcpb_template)
        entry["identifier"] = release_url(repository, version, bundle.name)
        entry["version"] = version
        entry["fileSha256"] = sha256_of(bundle)
        entries.append(entry)
    document["packages"] = others + entries
    return document


def schema_problems(document: dict[str, Any]) -> list[str]:
    """What the MCP Registry's published schema says is wrong with `document` (jsonschema is a dependency)."""
    from jsonschema import Draft7Validator

    validator = Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fill server.json in for a release.")
    parser.add_argument("--bundles", type=Path, required=True, help="folder holding the built .mcpb files")
    parser.add_argument("--output", type=Path, default=SERVER_JSON, help="where to write (default: server.json)")
    args = parser.parse_args(argv)
    version = package_version()
    template = json.loads(SERVER_JSON.read_text(encoding="utf-8"))
    document = release_document(template, version, bundles_in(args.bundles, version))
    problems = schema_problems(document)
    if PLACEHOLDER_SHA256 in json.dumps(document):
        problems.append("a placeholder fileSha256 is left")
    if problems:
        raise SystemExit("server.json for the release is not valid: " + "; ".join(problems))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    names = ", ".join(entry["identifier"].rsplit("/", 1)[1] for entry in document["packages"][1:])
    sys.stdout.write(f"wrote {args.output} for {version}: {names}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
