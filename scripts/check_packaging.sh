#!/usr/bin/env bash
# Packaging checks for CI (called by .ci/run): the MCP Bundle manifest validates with the pinned
# mcpb CLI and agrees with the live server (tools, versions, user_config → env); a bundle built for
# this machine unpacks and starts on the system Python, outside the project's virtualenv; and the
# MCP Inspector CLI drives the server end to end; older MCP hosts (Python SDK 1.x clients) read every
# tool result (scripts/host_compat.sh). Node tools come from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/mcpb ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci: the pinned @anthropic-ai/mcpb and @modelcontextprotocol/inspector (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "== mcpb validate manifest.json (@anthropic-ai/mcpb $(node_modules/.bin/mcpb --version))"
node_modules/.bin/mcpb validate manifest.json

echo "== manifest.json tools match the server's tools/list (scripts/sync_manifest_tools.py --check)"
uv run --frozen python scripts/sync_manifest_tools.py --check

echo "== packaging tests: manifest agreement; bundle build (~30 s) + launch on the system Python (slow)"
uv run --frozen pytest tests/packaging/test_manifest.py tests/packaging/test_bundle_launch.py -m "slow or not slow" -q

echo "== MCP Inspector CLI against the server (scripts/inspector_check.sh)"
bash scripts/inspector_check.sh

echo "== host compatibility: Python SDK 1.3 / 1.9 / 1.12 / newest 1.x and the Inspector (scripts/host_compat.sh)"
bash scripts/host_compat.sh
