#!/usr/bin/env bash
# Host compatibility: `workers-ai-mcp --emulator` driven by clients nobody here wrote, as hosts in the
# field run them. The Python SDK at each pinned 1.x version, in a throwaway venv, over stdio, SSE and
# (from 1.8) streamable HTTP: every tool is called once, every result must parse in that client, media
# must arrive as something it can use, and advertised resources must list and read
# (scripts/host_compat_client.py). Then fastmcp 4.2's client, which negotiates protocol 2026-07-28, over
# stdio and streamable HTTP (scripts/host_compat_fastmcp.py). Then the MCP Inspector CLI
# (package-lock.json) lists and reads the resources. Offline except for PyPI, where uv fetches the pinned clients (cached after the first run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
# The oldest SDK lines hosts still ship (protocol 2024-11-05, 2025-03-26), the first with 2025-06-18,
# and the newest 1.x. Bump deliberately; the README lists these.
CLIENTS=(1.3.0 1.9.4 1.12.4 1.30.0)
# mcp 1.3 to 1.12 import a pydantic helper that later releases removed: pin the pydantic of their time.
declare -A WITH=([1.3.0]="pydantic==2.10.6" [1.9.4]="pydantic==2.11.7" [1.12.4]="pydantic==2.11.7")
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
WORK="$OUT/work"
mkdir -p "$WORK"
export PYTHONPATH="$ROOT/server${PYTHONPATH:+:$PYTHONPATH}"
export WORKERS_AI_MCP_STATE_DIR="$OUT/state"  # spending state of every server started here stays in the temp folder

# Every tool once with the selftest's sample arguments (tiny PNG/MP3 inputs written into $WORK), plus
# run_model on flux-1-schnell, whose JSON answer carries a base64 PNG.
"$PYTHON" - "$WORK" >"$OUT/calls.json" <<'PY'
import asyncio, json, sys
from pathlib import Path
from workers_ai_mcp.app import create_server
from workers_ai_mcp.selftest.samples import sample_arguments
from workers_ai_mcp.settings import Settings

work = Path(sys.argv[1])
server = create_server(Settings(emulator=True, output_dir=work / "outputs", input_roots=[work]))
tools = asyncio.run(server.list_tools())
calls = [{"name": t.name, "arguments": sample_arguments(t.name, t.input_schema, work)} for t in tools]
calls.sort(key=lambda call: call["name"] == "get_batch")  # after submit_batch, whose job it reads
flux = {"model": "@cf/black-forest-labs/flux-1-schnell", "input": {"prompt": "a red cube", "steps": 1}}
calls.append({"name": "run_model_flux", "tool": "run_model", "arguments": flux})
print(json.dumps(calls))
PY

for client in "${CLIENTS[@]}"; do
  venv="$OUT/mcp-$client"
  uv venv --quiet --python 3.11 "$venv"
  VIRTUAL_ENV="$venv" uv pip install --quiet "mcp==$client" ${WITH[$client]:-}
  transports=(stdio sse)
  if "$venv/bin/python" -c "import mcp.client.streamable_http" 2>/dev/null; then
    transports+=(streamable-http)
  fi
  for transport in "${transports[@]}"; do
    "$venv/bin/python" scripts/host_compat_client.py "$OUT/calls.json" "$WORK" "$transport" "$PYTHON"
  done
done

# A 2026-07-28 host: fastmcp 4.2's client negotiates it (and listens with subscriptions/listen), over
# stdio and streamable HTTP (scripts/host_compat_fastmcp.py). Bump deliberately; the README says which.
FASTMCP=(fastmcp==4.2.3 mcp==2.3.0)
venv="$OUT/fastmcp"
uv venv --quiet --python 3.11 "$venv"
VIRTUAL_ENV="$venv" uv pip install --quiet "${FASTMCP[@]}"
for transport in stdio streamable-http; do
  "$venv/bin/python" scripts/host_compat_fastmcp.py "$OUT/calls.json" "$WORK" "$transport" "$PYTHON"
done

if [ ! -x node_modules/.bin/inspector ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
INSPECTOR=(node_modules/.bin/inspector --cli -e "PYTHONPATH=$ROOT/server" -e "WORKERS_AI_MCP_INPUT_ROOTS=$WORK"
  -e "WORKERS_AI_MCP_OUTPUT_DIR=$WORK/outputs" -e "WORKERS_AI_MCP_STATE_DIR=$OUT/state"
  "$PYTHON" -m workers_ai_mcp --emulator)
"${INSPECTOR[@]}" --method resources/list >"$OUT/resources.json"
"${INSPECTOR[@]}" --method resources/templates/list >"$OUT/templates.json"
"$PYTHON" - "$OUT/resources.json" "$OUT/templates.json" "$WORK/outputs" <<'PY' >"$OUT/reads.txt"
import json, sys
from pathlib import Path
listed = [r["uri"] for r in json.load(open(sys.argv[1]))["resources"]]
templates = [t["uriTemplate"] for t in json.load(open(sys.argv[2]))["resourceTemplates"]]
outputs = sorted(p.name for p in Path(sys.argv[3]).iterdir() if p.suffix in (".png", ".mp3"))
print(f"   inspector: {len(listed)} resources, templates {', '.join(templates)}", file=sys.stderr)
for uri in listed[:5] + [f"workers-ai://outputs/{name}" for name in outputs[:2]]:
    print(uri)
PY
while read -r uri; do
  "${INSPECTOR[@]}" --method resources/read --uri "$uri" >"$OUT/read.json"
  "$PYTHON" - "$OUT/read.json" "$uri" <<'PY'
import json, sys
contents = json.load(open(sys.argv[1]))["contents"]
if not contents or not any(c.get("text") or c.get("blob") for c in contents):
    sys.exit(f"FAIL: inspector resources/read {sys.argv[2]} returned nothing")
print(f"   inspector: read {sys.argv[2]} ({contents[0].get('mimeType')})")
PY
done <"$OUT/reads.txt"

echo "host_compat: ok (mcp ${CLIENTS[*]} over stdio/SSE/streamable HTTP; ${FASTMCP[0]} at 2026-07-28 over stdio/streamable HTTP; Inspector resources/list and read)"
