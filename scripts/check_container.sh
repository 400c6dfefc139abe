#!/usr/bin/env bash
# deploy/Dockerfile without Docker (no base image can be pulled in CI): run the Dockerfile's own install
# lines (between the `check_container: install` markers) with its paths moved into a scratch folder,
# then start its CMD the way the image would (settings from the environment, loopback instead of
# 0.0.0.0, a free port, the built-in emulator), run its HEALTHCHECK, and check that a request without
# the bearer token is refused with 401 and that an authenticated MCP initialize is answered. Then, as
# deploy/compose.yaml runs them, two replicas of that command against one PostgreSQL store
# (WORKERS_AI_MCP_TEST_POSTGRES_URL, or a throwaway server from scripts/postgres.sh): calls on either
# spend one small budget, both refuse once it is spent, and both show the same usage
# (scripts/replicas_check.py).
#
#   bash scripts/check_container.sh [path/to/workers_ai_mcp-*.whl]   # builds the wheel if none is given
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dockerfile="$root/deploy/Dockerfile"

scratch="$(mktemp -d)"
server_pid=""
replica_pids=()
own_postgres=""
cleanup() {
  for pid in $server_pid "${replica_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$own_postgres" ]; then postgres_stop; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

wheel="${1:-}"
if [ -z "$wheel" ]; then
  echo "== uv build --wheel"
  uv build --wheel --quiet --out-dir "$scratch/dist"
  wheel="$(ls "$scratch"/dist/*.whl)"
fi

echo "== the Dockerfile's promises: non-root USER, HEALTHCHECK on /health, streamable HTTP on 0.0.0.0"
user_line="$(grep -E '^USER ' "$dockerfile" | tail -1)"
case "$user_line" in
  "USER root"* | "USER 0"* | "") echo "deploy/Dockerfile must end with a non-root USER (found: '$user_line')" >&2; exit 1 ;;
esac
grep -q '^HEALTHCHECK .*' "$dockerfile" || { echo "deploy/Dockerfile has no HEALTHCHECK" >&2; exit 1; }
cmd_json="$(sed -n 's/^CMD \(\[.*\]\)$/\1/p' "$dockerfile")"
health_json="$(awk '/^HEALTHCHECK/{getline; sub(/^ *CMD /, ""); print}' "$dockerfile")"
python3 - "$cmd_json" "$health_json" <<'PY'
import json, sys
cmd, health = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for needed in (["--transport", "streamable-http"], ["--host", "0.0.0.0"]):
    at = cmd.index(needed[0])
    assert cmd[at : at + 2] == needed, (needed, cmd)
assert "/health" in " ".join(health), health
PY

echo "== the Dockerfile's install lines, with /opt/workers-ai-mcp and /tmp/build in a scratch folder"
mkdir -p "$scratch/build/wheels"
cp pyproject.toml uv.lock "$scratch/build/"
cp "$wheel" "$scratch/build/wheels/"
sed -n '/^# check_container: install begin$/,/^# check_container: install end$/p' "$dockerfile" \
  | grep -v '^#' | sed -e 's/^RUN //' -e "s#/opt/workers-ai-mcp#$scratch/venv#g" -e "s#/tmp/build#$scratch/build#g" \
  > "$scratch/install.sh"
(cd "$scratch" && bash -euo pipefail "$scratch/install.sh")
venv_bin="$scratch/venv/bin"

port="$("$venv_bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="container-check-$("$venv_bin/python" -c 'import secrets; print(secrets.token_hex(16))')"
mapfile -t command < <(python3 -c 'import json, sys; [print(a) for a in json.loads(sys.argv[1])]' "$cmd_json")

# A clean environment like a container's: the Dockerfile's ENV, the settings, nothing from this shell.
run_env=(env -i "PATH=$venv_bin:/usr/bin:/bin" "HOME=$scratch/home"
  "WORKERS_AI_MCP_OUTPUT_DIR=$scratch/home/data/outputs" "WORKERS_AI_MCP_STATE_DIR=$scratch/home/data/state")
mkdir -p "$scratch/home"

echo "== without WORKERS_AI_MCP_AUTH_TOKEN the image's command refuses to listen on 0.0.0.0"
set +e
refused="$(cd "$scratch/home" && timeout 30 "${run_env[@]}" WORKERS_AI_MCP_EMULATOR=true "${command[@]/8000/$port}" 2>&1)"
code=$?
set -e
if [ "$code" -eq 0 ] || [ "$code" -eq 124 ]; then
  echo "the server started on 0.0.0.0 without a token (exit $code)" >&2
  exit 1
fi
echo "   refused (exit $code): $(printf '%s' "$refused" | tail -1)"

start=("${command[@]/0.0.0.0/127.0.0.1}")
start=("${start[@]/8000/$port}")
echo "== start: ${start[*]} (emulator and token from the environment, as the image takes settings)"
(cd "$scratch/home" && exec "${run_env[@]}" WORKERS_AI_MCP_EMULATOR=true "WORKERS_AI_MCP_AUTH_TOKEN=$token" "${start[@]}") \
  >"$scratch/server.log" 2>&1 &
server_pid=$!

mapfile -t health < <(python3 -c 'import json, sys; [print(a) for a in json.loads(sys.argv[1])]' "$health_json")
# wait_healthy PID LOG NAME PORT: the image's HEALTHCHECK on PORT passes within 20 s, or the log is shown.
wait_healthy() {
  local pid="$1" log="$2" name="$3" check=("${health[@]/8000/$4}")
  for _ in $(seq 1 100); do
    if PATH="$venv_bin:$PATH" "${check[@]}" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; echo "$name exited" >&2; exit 1; fi
    sleep 0.2
  done
  PATH="$venv_bin:$PATH" "${check[@]}" || { cat "$log" >&2; echo "$name: HEALTHCHECK failed" >&2; exit 1; }
}
wait_healthy "$server_pid" "$scratch/server.log" "the server" "$port"
echo "   HEALTHCHECK passes"

echo "== POST /mcp: 401 without the token, initialize answered with it"
"$venv_bin/python" - "http://127.0.0.1:$port" "$token" <<'PY'
import json, sys, urllib.error, urllib.request

base, token = sys.argv[1], sys.argv[2]
health = json.load(urllib.request.urlopen(f"{base}/health", timeout=5))
assert health["status"] == "ok" and health["name"] == "workers-ai-mcp", health
initialize = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "check_container", "version": "0"}},
}
headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}

def post(extra: dict[str, str]) -> urllib.request.Request:
    return urllib.request.Request(f"{base}/mcp", json.dumps(initialize).encode(), {**headers, **extra}, method="POST")

try:
    urllib.request.urlopen(post({}), timeout=10)
    raise SystemExit("POST /mcp without a token was accepted")
except urllib.error.HTTPError as refused:
    assert refused.code == 401, refused.code
    assert refused.headers.get("www-authenticate", "").lower().startswith("bearer"), dict(refused.headers)
print("   without the token: 401, WWW-Authenticate: Bearer")
with urllib.request.urlopen(post({"authorization": f"Bearer {token}"}), timeout=10) as answer:
    body = answer.read().decode()
    assert answer.status == 200, answer.status
lines = [line[5:].strip() for line in body.splitlines() if line.startswith("data:")] or [body]
message = json.loads(lines[-1])
info = message["result"]["serverInfo"]
assert info["name"] and message["result"]["protocolVersion"], message
print(f"   with the token: initialize -> {info['name']} {info.get('version')}, protocol {message['result']['protocolVersion']}")
PY

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""

echo "== two replicas against one PostgreSQL store, as deploy/compose.yaml runs them"
grep -q 'uv export .*--extra postgres' "$dockerfile" || { echo "deploy/Dockerfile must install the postgres extra" >&2; exit 1; }
grep -q '^ *WORKERS_AI_MCP_STATE_URL: postgresql://' "$root/deploy/compose.yaml" \
  || { echo "deploy/compose.yaml must give the replicas WORKERS_AI_MCP_STATE_URL" >&2; exit 1; }
if [ -z "${WORKERS_AI_MCP_TEST_POSTGRES_URL:-}" ]; then
  # shellcheck source=postgres.sh
  source "$root/scripts/postgres.sh"
  own_postgres=1
fi
schema="container_check_$("$venv_bin/python" -c 'import secrets; print(secrets.token_hex(4))')"
budget=0.25  # two calls at WORKERS_AI_MCP_UNPRICED_CALL_USD=0.10 fit, a third does not
urls=()
for replica in 1 2; do
  replica_port="$("$venv_bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  replica_start=("${command[@]/0.0.0.0/127.0.0.1}")
  replica_start=("${replica_start[@]/8000/$replica_port}")
  mkdir -p "$scratch/replica-$replica"
  (cd "$scratch/replica-$replica" && exec env -i "PATH=$venv_bin:/usr/bin:/bin" "HOME=$scratch/replica-$replica" \
    "WORKERS_AI_MCP_OUTPUT_DIR=$scratch/replica-$replica/data/outputs" \
    "WORKERS_AI_MCP_STATE_DIR=$scratch/replica-$replica/data/state" \
    "WORKERS_AI_MCP_STATE_URL=$WORKERS_AI_MCP_TEST_POSTGRES_URL" "WORKERS_AI_MCP_STATE_SCHEMA=$schema" \
    "WORKERS_AI_MCP_MAX_COST_USD=$budget" WORKERS_AI_MCP_UNPRICED_CALL_USD=0.10 \
    WORKERS_AI_MCP_EMULATOR=true "WORKERS_AI_MCP_AUTH_TOKEN=$token" "${replica_start[@]}") \
    >"$scratch/replica-$replica.log" 2>&1 &
  replica_pids+=($!)
  urls+=("http://127.0.0.1:$replica_port/mcp")
  wait_healthy "${replica_pids[-1]}" "$scratch/replica-$replica.log" "replica $replica" "$replica_port"
done
echo "   both replicas pass the HEALTHCHECK (schema $schema)"
if ! "$venv_bin/python" "$root/scripts/replicas_check.py" "$token" "$budget" "${urls[@]}"; then
  tail -20 "$scratch"/replica-*.log >&2
  exit 1
fi
password="$("$venv_bin/python" -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).password or "")' "$WORKERS_AI_MCP_TEST_POSTGRES_URL")"
if [ -n "$password" ] && grep -qF "$password" "$scratch"/replica-*.log; then
  echo "a replica's log shows the database password" >&2
  exit 1
fi
echo "container recipe: ok"
