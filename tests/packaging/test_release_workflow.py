"""The release workflow does what CHANGELOG.md and the README promise, and runs the same checks as .ci/run."""

from __future__ import annotations

import re

from support.repository import ROOT, read_pyproject

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def job(name: str) -> str:
    text = WORKFLOW.read_text(encoding="utf-8")
    start = text.index(f"\n  {name}:\n")
    following = re.search(r"\n  [a-z-]+:\n", text[start + 1 :])
    return text[start : start + 1 + following.start()] if following else text[start:]


def test_it_runs_on_version_tags_and_the_ci_script_runs_the_same_checks() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert 'tags: ["v*.*.*"]' in text
    assert "bash scripts/check_release.sh" in job("dist")
    assert "bash scripts/check_release.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_pypi_is_published_by_trusted_publishing_only() -> None:
    pypi = job("pypi")
    assert "pypa/gh-action-pypi-publish@release/v1" in pypi
    assert "id-token: write" in pypi
    assert "password" not in pypi and "secrets." not in WORKFLOW.read_text(encoding="utf-8")


def test_bundles_are_built_for_every_os_and_each_supported_python() -> None:
    bundles = job("bundles")
    assert "[ubuntu-latest, macos-latest, windows-latest]" in bundles
    minimum = read_pyproject()["project"]["requires-python"].removeprefix(">=")
    pythons = re.search(r"python: \[(.*?)\]", bundles)
    assert pythons is not None
    assert [p.strip(' "') for p in pythons.group(1).split(",")][0] == minimum
    assert "scripts/build_bundle.py" in bundles


def test_the_registry_gets_server_json_with_real_hashes_after_pypi_and_the_release() -> None:
    registry = job("registry")
    assert "needs: [release]" in registry and "needs: [pypi]" in job("release")
    assert "scripts/release_server_json.py" in registry
    assert "mcp-publisher login github-oidc" in registry and "id-token: write" in registry
    assert ".mcpb" in job("release")
