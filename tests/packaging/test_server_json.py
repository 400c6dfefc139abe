"""server.json (the MCP Registry entry) is valid against the Registry's published schema and agrees with
pyproject.toml, manifest.json, the package version, the README and the settings the server reads."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

import workers_ai_mcp
from support.repository import ROOT, load_script, read_manifest, read_pyproject, settings_env_names

SCHEMA = Path(__file__).parent / "registry" / "server.schema.json"
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"  # see registry/README.md
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
OWNER_REPO = "workers-ai-mcp/workers-ai-mcp"  # the GitHub owner/repository, everywhere the same
REPOSITORY = f"https://github.com/{OWNER_REPO}"


def read_server_json() -> dict[str, Any]:
    return json.loads((ROOT / "server.json").read_text(encoding="utf-8"))


def validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator().iter_errors(document)
    ]


def packages(kind: str) -> list[dict[str, Any]]:
    return [package for package in read_server_json()["packages"] if package["registryType"] == kind]


def test_the_vendored_schema_is_the_published_one() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA.read_text(encoding="utf-8"))["$id"] == SCHEMA_URL


def test_server_json_validates_against_the_registry_schema() -> None:
    document = read_server_json()
    assert document["$schema"] == SCHEMA_URL
    assert schema_errors(document) == []


def test_the_schema_check_is_not_vacuous() -> None:
    document = read_server_json()
    document["description"] = "x" * 101
    del document["packages"][0]["identifier"]
    document["packages"][1]["fileSha256"] = "not-a-hash"
    errors = schema_errors(document)
    assert len(errors) >= 3, errors


def test_the_name_is_the_github_namespace_and_the_readme_proves_it() -> None:
    name = read_server_json()["name"]
    assert name == f"io.github.{OWNER_REPO}"
    assert name.split("/")[1] == read_pyproject()["project"]["name"] == read_manifest()["name"]
    # The Registry finds `mcp-name: <name>` in the README as PyPI shows it, followed by a boundary.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"mcp-name: {re.escape(name)}(\s|-->|<)", readme)


def test_every_url_names_the_same_repository() -> None:
    document = read_server_json()
    assert document["repository"] == {"url": REPOSITORY, "source": "github"}
    assert read_manifest()["repository"]["url"] == REPOSITORY
    urls = read_pyproject()["project"]["urls"]
    assert all(url.startswith(REPOSITORY) for url in urls.values()), urls
    for icon in document["icons"]:
        assert icon["src"].startswith(f"https://raw.githubusercontent.com/{OWNER_REPO}/main/")


def test_versions_agree_with_the_package() -> None:
    version = workers_ai_mcp.__version__
    document = read_server_json()
    assert document["version"] == version
    for package in document["packages"]:
        assert package["version"] == version
    for bundle in packages("mcpb"):
        assert bundle["identifier"].startswith(f"{REPOSITORY}/releases/download/v{version}/workers-ai-mcp-{version}-")


def test_the_description_is_the_same_short_sentence_everywhere() -> None:
    description = read_server_json()["description"]
    assert len(description) <= 100
    assert description == read_pyproject()["project"]["description"] == read_manifest()["description"]


def test_the_pypi_package_is_the_project_run_by_uvx_over_stdio() -> None:
    (pypi,) = packages("pypi")
    assert pypi["identifier"] == read_pyproject()["project"]["name"]
    assert pypi["registryBaseUrl"] == "https://pypi.org"
    assert pypi["runtimeHint"] == "uvx"
    assert all(package["transport"] == {"type": "stdio"} for package in read_server_json()["packages"])


def test_mcpb_entries_carry_a_hash_and_a_registry_acceptable_url() -> None:
    bundles = packages("mcpb")
    assert bundles
    for bundle in bundles:
        assert re.fullmatch(r"[a-f0-9]{64}", bundle["fileSha256"])
        assert "mcp" in bundle["identifier"]  # the official Registry's rule for MCPB URLs


def test_environment_variables_are_settings_the_server_reads_and_the_readme_lists() -> None:
    (pypi,) = packages("pypi")
    variables = {variable["name"]: variable for variable in pypi["environmentVariables"]}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert set(variables) <= settings_env_names()
    for name, variable in variables.items():
        assert f"| `{name}`" in readme, f"{name} is not in the README's Configuration table"
        assert variable["description"].strip(), name
        assert variable["isSecret"] is name.endswith("_TOKEN"), name
    assert {name for name, variable in variables.items() if variable["isRequired"]} == {
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_ACCOUNT_ID",
    }


def test_the_bundle_settings_are_all_in_server_json_with_the_same_secrecy() -> None:
    manifest = read_manifest()
    env = manifest["server"]["mcp_config"]["env"]
    (pypi,) = packages("pypi")
    variables = {variable["name"]: variable for variable in pypi["environmentVariables"]}
    assert set(env) <= set(variables)
    for name, template in env.items():
        (key,) = re.findall(r"\$\{user_config\.([A-Za-z0-9_]+)\}", template)
        option = manifest["user_config"][key]
        assert bool(option.get("sensitive")) is variables[name]["isSecret"], name
        assert bool(option.get("required")) is variables[name]["isRequired"], name


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_icons_exist_where_manifest_and_server_json_say() -> None:
    manifest = read_manifest()
    assert png_size(ROOT / manifest["icon"]) == (512, 512)
    for icon in manifest["icons"]:
        width, height = png_size(ROOT / icon["src"])
        assert icon["size"] == f"{width}x{height}"
    for icon in read_server_json()["icons"]:
        local = ROOT / icon["src"].rsplit("/", 1)[1]
        assert local.is_file(), local
        if icon["mimeType"] == "image/png":
            width, height = png_size(local)
            assert icon["sizes"] == [f"{width}x{height}"]
        else:
            assert local.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_the_release_document_lists_each_bundle_with_its_hash_and_still_validates(tmp_path: Path) -> None:
    release = load_script("release_server_json")
    version = workers_ai_mcp.__version__
    bundles: list[Path] = []
    for target in ("linux-x86_64-cp311", "darwin-arm64-cp312", "win32-amd64-cp313"):
        bundle = tmp_path / f"workers-ai-mcp-{version}-{target}.mcpb"
        bundle.write_bytes(target.encode())
        bundles.append(bundle)
    template = copy.deepcopy(read_server_json())
    document = release.release_document(template, version, release.bundles_in(tmp_path, version))
    assert schema_errors(document) == []
    entries = [package for package in document["packages"] if package["registryType"] == "mcpb"]
    assert [entry["fileSha256"] for entry in entries] == [
        hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(bundles)
    ]
    assert all(entry["identifier"].endswith(path.name) for entry, path in zip(entries, sorted(bundles), strict=True))
    assert [package["registryType"] for package in document["packages"]] == ["pypi", "mcpb", "mcpb", "mcpb"]


def test_the_release_script_refuses_a_folder_without_bundles(tmp_path: Path) -> None:
    release = load_script("release_server_json")
    with pytest.raises(SystemExit, match="No .mcpb bundles"):
        release.bundles_in(tmp_path, workers_ai_mcp.__version__)
