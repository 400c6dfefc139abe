#!/usr/bin/env bash
# End to end through a third-party client: the MCP Inspector CLI (pinned in package.json) launches
# `python -m workers_ai_mcp --emulator` over stdio, lists the tools, calls translate, calls every
# tool once with the selftest's sample arguments, and calls a tool that must fail. Each step's exit code and output are checked. Offline: the emulator answers.
# Then scripts/inspector_auth_check.sh: the same Inspector over streamable HTTP with the static bearer token
# and with OAuth (a local issuer's tokens), the refusals included, and no token in any log or output.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if [ ! -x node_modules/.bin/inspector ]; then
  echo "== npm ci (pinned @modelcontextprotocol/inspector and @anthropic-ai/mcpb)"
  npm ci --no-audit --no-fund --loglevel=error
fi
WORK="$OUT/work"
mkdir -p "$WORK"
INSPECTOR=(node_modules/.bin/inspector --cli -e "PYTHONPATH=$ROOT/server"
  -e "WORKERS_AI_MCP_INPUT_ROOTS=$WORK" -e "WORKERS_AI_MCP_OUTPUT_DIR=$WORK/outputs"
  -e "WORKERS_AI_MCP_STATE_DIR=$WORK/state")
SERVER=("$PYTHON" -m workers_ai_mcp --emulator)

# step NAME EXPECTED_EXIT -- INSPECTOR_ARGS...: run one Inspector call, keep stdout/stderr, check the exit code.
step() {
  local name=$1 expected=$2
  shift 3
  local code=0
  echo "== $name"
  echo "+ inspector --cli ${SERVER[*]} $*"
  "${INSPECTOR[@]}" "${SERVER[@]}" "$@" >"$OUT/$name.json" 2>"$OUT/$name.err" </dev/null || code=$?
  if [ "$code" != "$expected" ]; then
    echo "FAIL: $name exited $code, expected $expected"
    cat "$OUT/$name.err" "$OUT/$name.json"
    exit 1
  fi
  echo "   exit $code as expected"
}

step tools_list 0 -- --method tools/list --strict
"$PYTHON" - "$OUT/tools_list.json" "$OUT/tools_list.err" <<'EOF'
import json, sys
listed = [tool["name"] for tool in json.load(open(sys.argv[1]))["tools"]]
declared = [tool["name"] for tool in json.load(open("manifest.json"))["tools"]]
print(f"   {len(listed)} tools: {', '.join(listed)}")
warnings = [line for line in open(sys.argv[2]) if line.strip()]
if warnings:
    print("   schema portability notes (warnings; errors would have exited 6):")
    print("".join("     " + line for line in warnings), end="")
if sorted(listed) != sorted(declared):
    sys.exit(f"FAIL: tools/list {sorted(listed)} differs from manifest.json {sorted(declared)}; "
             "run: uv run python scripts/sync_manifest_tools.py")
EOF

step translate 0 -- --method tools/call --tool-name translate --tool-arg text=hello target_lang=fr
"$PYTHON" - "$OUT/translate.json" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))
structured = result.get("structuredContent") or {}
print(f"   isError={result.get('isError')} structuredContent={json.dumps(structured, ensure_ascii=False)}")
if result.get("isError") or not structured.get("translated_text") or structured.get("target_lang") != "fr":
    sys.exit("FAIL: translate did not answer with a French translated_text")
EOF

# Every tool once, with the selftest's sample arguments (tiny PNG/MP3 inputs written into $WORK).
# get_batch is left to the selftest: it needs a job submitted to the same emulator process.
"$PYTHON" - "$OUT/tools_list.json" "$WORK" >"$OUT/calls.tsv" <<'EOF'
import json, sys
from pathlib import Path

sys.path.insert(0, "server")
from workers_ai_mcp.selftest.samples import sample_arguments

for tool in json.load(open(sys.argv[1]))["tools"]:
    if tool["name"] != "get_batch":
        print(tool["name"] + "\t" + json.dumps(sample_arguments(tool["name"], tool["inputSchema"], Path(sys.argv[2]))))
EOF
called=0
while IFS=$'\t' read -r name args; do
  step "call_$name" 0 -- --method tools/call --tool-name "$name" --tool-args-json "$args"
  called=$((called + 1))
done <"$OUT/calls.tsv"

# An unknown model must come back as a tool error (isError), which the Inspector reports as exit 5.
step tool_error 5 -- --method tools/call --tool-name get_model_schema --tool-arg model=@cf/nobody/no-such-model
"$PYTHON" - "$OUT/tool_error.json" "$OUT/tool_error.err" <<'EOF'
import sys
text = (open(sys.argv[1]).read() + open(sys.argv[2]).read()).strip()
print("   " + " ".join(text.split())[:300])
if "no-such-model" not in text:
    sys.exit("FAIL: the tool error does not name the model")
EOF

echo "inspector_check: ok over stdio (tools/list, tools/call translate, $called tools called once each, tool error exit 5)"

bash scripts/inspector_auth_check.sh
