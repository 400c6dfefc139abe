#!/usr/bin/env bash
# The MCP Inspector CLI (pinned in package-lock.json) against `workers-ai-mcp --emulator` over streamable
# HTTP on a free 127.0.0.1 port, as a remote host would reach a deployment. Run by scripts/inspector_check.sh
# (so by scripts/check_packaging.sh and .ci/run); by hand: `bash scripts/inspector_auth_check.sh`.
#
# 1. The static bearer token (WORKERS_AI_MCP_AUTH_TOKEN): with `--header "Authorization: Bearer …"` the
#    Inspector lists the tools and calls translate (a billed tool); without the header, and with a wrong
#    token, it fails with auth_required (exit 3) carrying the server's 401 answer, and the server logs why.
# 2. OAuth (WORKERS_AI_MCP_OAUTH_ISSUER/_AUDIENCE): a local issuer on loopback (scripts/oauth_issuer.py,
#    the OAuth tests' own, tests/support/oauth_issuer.py) serves RFC 8414 metadata and a JWKS and mints
#    the tokens. A token for this server with both scopes lists and calls translate; a read-only token
#    lists the tools but its billed call is refused for the invoke scope (403 insufficient_scope); a
#    token for another audience, an expired one and none at all fail to connect (401); `usage` then
#    shows that only the one allowed call was made.
# 3. No token (nor a JWT's claims segment) appears in the servers' stderr, logged at DEBUG, or in
#    anything the Inspector printed.
# Every process started here is stopped on exit; nothing listens beyond 127.0.0.1. Offline: the emulator answers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-$(uv run --frozen --quiet python -c 'import sys; print(sys.executable)')}
OUT=$(mktemp -d)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x node_modules/.bin/inspector ]; then
  echo "== npm ci (pinned @modelcontextprotocol/inspector and @anthropic-ai/mcpb)"
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p "$OUT/home"
# HOME in the scratch folder: the Inspector's catalog and OAuth store (~/.mcp-inspector) stay out of the
# user's. --stored-auth-only: never start an interactive OAuth login (a 401 is then a failure, exit 3).
INSPECTOR=(env "HOME=$OUT/home" node_modules/.bin/inspector --cli --transport http --stored-auth-only --format json)
TOKENS=()   # every token handed out here, for the leak check at the end

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server NAME PORT ENV...: the server with the emulator on 127.0.0.1:PORT, stderr at DEBUG to $OUT/NAME.log.
start_server() {
  local name=$1 port=$2
  shift 2
  env PYTHONPATH="$ROOT/server" "WORKERS_AI_MCP_STATE_DIR=$OUT/$name/state" "WORKERS_AI_MCP_OUTPUT_DIR=$OUT/$name/outputs" "$@" \
    "$PYTHON" -m workers_ai_mcp --emulator --transport streamable-http --host 127.0.0.1 --port "$port" --log-level DEBUG \
    >"$OUT/$name.log" 2>&1 </dev/null &
  PIDS+=($!)
  local pid=$! _
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$OUT/$name.log"; echo "FAIL: the $name server exited"; exit 1; fi
    sleep 0.1
  done
  cat "$OUT/$name.log"
  echo "FAIL: the $name server is not listening on 127.0.0.1:$port after 15 s"
  exit 1
}

# inspect NAME EXPECTED_EXIT URL TOKEN|- INSPECTOR_ARGS...: one Inspector run (TOKEN - sends no
# Authorization header); keeps stdout/stderr in $OUT/NAME.out/.err and checks the exit code. The header
# goes on the command line because that is how the Inspector CLI takes it; the tokens here are minted
# for this run and are worthless after it.
inspect() {
  local name=$1 expected=$2 url=$3 token=$4 code=0
  shift 4
  local header=()
  [ "$token" = - ] || header=(--header "Authorization: Bearer $token")
  echo "== $name"
  "${INSPECTOR[@]}" "$url" "${header[@]}" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" </dev/null || code=$?
  if [ "$code" != "$expected" ]; then
    echo "FAIL: $name: the Inspector exited $code, expected $expected"
    cat "$OUT/$name.err" "$OUT/$name.out"
    exit 1
  fi
}

# expect_listed NAME: the Inspector's tools/list answer names the same tools as manifest.json.
expect_listed() {
  "$PYTHON" - "$OUT/$1.out" <<'EOF'
import json, sys
listed = sorted(tool["name"] for tool in json.load(open(sys.argv[1]))["result"]["tools"])
declared = sorted(tool["name"] for tool in json.load(open("manifest.json"))["tools"])
if listed != declared:
    sys.exit(f"FAIL: tools/list {listed} differs from manifest.json {declared}")
print(f"   exit 0, {len(listed)} tools listed")
EOF
}

# expect_translated NAME: the translate call answered with a French translation and its cost.
expect_translated() {
  "$PYTHON" - "$OUT/$1.out" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))["result"]
structured = result.get("structuredContent") or {}
if result.get("isError") or structured.get("target_lang") != "fr" or not structured.get("translated_text"):
    sys.exit(f"FAIL: translate did not answer with a French translation: {json.dumps(result)[:400]}")
print(f"   exit 0, translated_text={structured['translated_text']!r}, cost_usd={structured['call']['cost_usd']}")
EOF
}

# expect_refused NAME CODE LOG WORDS...: the Inspector's error envelope has code CODE and every one of
# WORDS (from the server's answer), and the server's log has the refusal line LOG.
expect_refused() {
  local name=$1 code=$2 log=$3
  shift 3
  "$PYTHON" - "$OUT/$name.err" "$code" "$@" <<'EOF'
import json, sys
lines = [line for line in open(sys.argv[1]) if line.startswith("{")]
if not lines:
    sys.exit(f"FAIL: no error envelope from the Inspector: {open(sys.argv[1]).read()[:400]}")
error = json.loads(lines[-1])["error"]
missing = [word for word in sys.argv[3:] if word not in error.get("message", "")]
if error.get("code") != sys.argv[2] or missing:
    sys.exit(f"FAIL: expected code {sys.argv[2]} with {missing} in the message, got {error}")
print(f"   {error['code']}: {' '.join(error['message'].split())[:200]}")
EOF
  if ! grep -qF "$log" "$OUT"/*.log; then
    echo "FAIL: $name: the server did not log \"$log\""
    exit 1
  fi
  echo "   server log: $log"
}

echo "== static bearer token: the server on 127.0.0.1 with WORKERS_AI_MCP_AUTH_TOKEN"
STATIC_TOKEN="inspector-check-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))')"
WRONG_TOKEN="inspector-check-wrong-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))')"
TOKENS+=("$STATIC_TOKEN" "$WRONG_TOKEN")
port=$(free_port)
STATIC_URL="http://127.0.0.1:$port/mcp"
start_server static "$port" "WORKERS_AI_MCP_AUTH_TOKEN=$STATIC_TOKEN"
inspect static_list 0 "$STATIC_URL" "$STATIC_TOKEN" --method tools/list
expect_listed static_list
inspect static_translate 0 "$STATIC_URL" "$STATIC_TOKEN" --method tools/call --tool-name translate --tool-arg text=hello target_lang=fr
expect_translated static_translate
inspect static_no_token 3 "$STATIC_URL" - --method tools/list
expect_refused static_no_token auth_required "Refused POST /mcp from 127.0.0.1: no bearer token" unauthorized WORKERS_AI_MCP_AUTH_TOKEN
inspect static_wrong_token 3 "$STATIC_URL" "$WRONG_TOKEN" --method tools/list
expect_refused static_wrong_token auth_required "Refused POST /mcp from 127.0.0.1: a wrong bearer token" invalid_token

echo "== OAuth: a local issuer on 127.0.0.1 and the server as its resource server"
port=$(free_port)
OAUTH_URL="http://127.0.0.1:$port/mcp"
"$PYTHON" scripts/oauth_issuer.py "$OAUTH_URL" "$OUT/issuer.json" >"$OUT/issuer.err" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 1 150); do [ -f "$OUT/issuer.json" ] && break; sleep 0.1; done
[ -f "$OUT/issuer.json" ] || { cat "$OUT/issuer.err"; echo "FAIL: the issuer did not start"; exit 1; }
mapfile -t issued < <("$PYTHON" -c '
import json, sys
document = json.load(open(sys.argv[1]))
print(document["issuer"])
for case in ("invoke", "read_only", "wrong_audience", "expired"):
    print(document["tokens"][case])
' "$OUT/issuer.json")
ISSUER=${issued[0]} INVOKE_TOKEN=${issued[1]} READ_TOKEN=${issued[2]} WRONG_AUDIENCE_TOKEN=${issued[3]} EXPIRED_TOKEN=${issued[4]}
TOKENS+=("$INVOKE_TOKEN" "$READ_TOKEN" "$WRONG_AUDIENCE_TOKEN" "$EXPIRED_TOKEN")
echo "   issuer $ISSUER, resource $OAUTH_URL"
OAUTH_STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_server oauth "$port" "WORKERS_AI_MCP_OAUTH_ISSUER=$ISSUER" "WORKERS_AI_MCP_OAUTH_AUDIENCE=$OAUTH_URL" \
  WORKERS_AI_MCP_OAUTH_ALLOW_HTTP_LOOPBACK=true
"$PYTHON" - "$ISSUER" "$OAUTH_URL" <<'EOF'
import json, sys, urllib.request
from urllib.parse import urlsplit
issuer, resource = sys.argv[1], sys.argv[2]
origin = "{0.scheme}://{0.netloc}".format(urlsplit(resource))
document = json.load(urllib.request.urlopen(f"{origin}/.well-known/oauth-protected-resource/mcp", timeout=10))
if document.get("resource") != resource or document.get("authorization_servers") != [issuer]:
    sys.exit(f"FAIL: the protected resource metadata does not name {resource} and {issuer}: {document}")
print(f"   protected resource metadata: resource {resource}, authorization server {issuer}")
EOF
inspect oauth_list 0 "$OAUTH_URL" "$INVOKE_TOKEN" --method tools/list
expect_listed oauth_list
inspect oauth_translate 0 "$OAUTH_URL" "$INVOKE_TOKEN" --method tools/call --tool-name translate --tool-arg text=hello target_lang=fr
expect_translated oauth_translate
inspect oauth_read_only_list 0 "$OAUTH_URL" "$READ_TOKEN" --method tools/list
expect_listed oauth_read_only_list
# The SDK client under the Inspector turns the 403 into "Insufficient scope: required …" (exit 1, not 3).
inspect oauth_read_only_translate 1 "$OAUTH_URL" "$READ_TOKEN" --method tools/call --tool-name translate --tool-arg text=hello target_lang=fr
expect_refused oauth_read_only_translate error "Refused POST /mcp from 127.0.0.1: a billed tool call without the invoke scope" \
  "Insufficient scope" workers-ai:invoke
inspect oauth_wrong_audience 3 "$OAUTH_URL" "$WRONG_AUDIENCE_TOKEN" --method tools/list
expect_refused oauth_wrong_audience auth_required "Refused an OAuth access token: InvalidAudienceError" invalid_token "with audience $OAUTH_URL"
inspect oauth_expired 3 "$OAUTH_URL" "$EXPIRED_TOKEN" --method tools/list
expect_refused oauth_expired auth_required "Refused an OAuth access token: ExpiredSignatureError" invalid_token
inspect oauth_no_token 3 "$OAUTH_URL" - --method tools/list
expect_refused oauth_no_token auth_required "Refused POST /mcp from 127.0.0.1: no OAuth access token" unauthorized "OAuth access token"
# A free tool with the read-only token: usage since this server started counts only the one allowed translate.
inspect oauth_usage 0 "$OAUTH_URL" "$READ_TOKEN" --method tools/call --tool-name usage --tool-arg "since=$OAUTH_STARTED"
"$PYTHON" - "$OUT/oauth_usage.out" <<'EOF'
import json, sys
calls = json.load(open(sys.argv[1]))["result"]["structuredContent"]["since"]["total"]["calls"]
if calls != 1:
    sys.exit(f"FAIL: usage counts {calls} calls on the OAuth server, expected the one allowed translate")
print(f"   exit 0, usage since the server started: {calls} call (the refused ones sent nothing)")
EOF

echo "== no token in the servers' DEBUG logs or the Inspector's output"
leaks=0
for token in "${TOKENS[@]}"; do
  needles=("$token")
  claims=$(printf '%s' "$token" | cut -s -d. -f2)
  [ -z "$claims" ] || needles+=("$claims")
  for needle in "${needles[@]}"; do
    if grep -lF -- "$needle" "$OUT"/static.log "$OUT"/oauth.log "$OUT"/*.out "$OUT"/*.err; then
      echo "FAIL: a token (${needle:0:12}…) appears in the files above"
      leaks=1
    fi
  done
done
[ "$leaks" = 0 ] || exit 1
echo "   ${#TOKENS[@]} tokens checked against $(ls "$OUT"/*.log "$OUT"/*.out "$OUT"/*.err | wc -l) files"

echo "inspector_auth_check: ok (static token: lists, calls, 401 without or with a wrong token; OAuth: lists and calls, 403 insufficient_scope for a read-only billed call, 401 for another audience, expired or none; no token leaked)"
