#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's `postgresql` package (installed when missing).
#
#   source scripts/postgres.sh    # starts it; exports WORKERS_AI_MCP_TEST_POSTGRES_URL; stop with postgres_stop
#
# The cluster lives in a temporary folder and listens on a free loopback port only (never the
# packaged cluster's port or files); a role and a database are made for the tests, with a random
# password (the URL is a secret: the tests check it appears in no output). As root, the server runs
# as the `postgres` user (PostgreSQL refuses to run as root); otherwise as the current user.
_postgres_saved_options="$(set +o)"
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "== installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
# The newest installed major version (Debian's release decides which one that is).
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
PG_DIR="$(mktemp -d /tmp/workers-ai-mcp-postgres.XXXXXX)"
PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PG_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
if [ "$(id -u)" = 0 ]; then
  chown postgres "$PG_DIR"
  as_server() { runuser -u postgres -- "$@"; }
else
  as_server() { "$@"; }
fi
as_server "$PG_BIN/initdb" --pgdata "$PG_DIR/data" --username postgres --auth-local trust \
  --auth-host scram-sha-256 --encoding UTF8 --no-instructions >"$PG_DIR/initdb.log"
as_server "$PG_BIN/pg_ctl" --pgdata "$PG_DIR/data" --log "$PG_DIR/server.log" --wait --silent \
  -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=200" start
as_server "$PG_BIN/psql" --quiet --host "$PG_DIR" --port "$PG_PORT" --username postgres --dbname postgres \
  --set ON_ERROR_STOP=1 <<SQL
CREATE ROLE workers_ai_mcp LOGIN PASSWORD '$PG_PASSWORD';
CREATE DATABASE workers_ai_mcp OWNER workers_ai_mcp;
SQL
export WORKERS_AI_MCP_TEST_POSTGRES_URL="postgresql://workers_ai_mcp:$PG_PASSWORD@127.0.0.1:$PG_PORT/workers_ai_mcp"
echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (database workers_ai_mcp)"

postgres_stop() {
  as_server "$PG_BIN/pg_ctl" --pgdata "$PG_DIR/data" --mode fast --wait --silent stop || true
  rm -rf "$PG_DIR"
}
eval "$_postgres_saved_options"
unset _postgres_saved_options
