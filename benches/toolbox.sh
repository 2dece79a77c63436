#!/usr/bin/env bash
# Tributary against Google's MCP Toolbox 1.12, side by side in one run: installs Toolbox from npm, loads
# 1,000 customers (9 columns) into a fresh PostgreSQL database, and runs `crates/cli/benches/mcp_peers.rs`,
# which calls both, and the floor (a bare rmcp server over tokio-postgres), over MCP stdio with the same
# client, then Tributary over streamable HTTP with 1, 8 and 64 agents at once, and prints tables for the
# README.
#
#   benches/toolbox.sh            # PostgreSQL at $PGHOST:$PGPORT (default 127.0.0.1:5432, user postgres)
#   BENCH_CALLS=5000 benches/toolbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$PWD/target/bench-tools"
toolbox="$tools/node_modules/@toolbox-sdk/server-linux-x64/bin/toolbox"
if [ ! -x "$toolbox" ]; then
  echo "toolbox.sh: installing @toolbox-sdk/server-linux-x64@1.12.0 into $tools"
  npm install --silent --prefix "$tools" @toolbox-sdk/server-linux-x64@1.12.0
fi

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export PGPASSWORD="${PGPASSWORD:-}"
command -v psql >/dev/null || { echo "toolbox.sh: psql is missing; run scripts/setup" >&2; exit 1; }
pg_isready -q -h "$PGHOST" -p "$PGPORT" || { echo "toolbox.sh: no PostgreSQL at $PGHOST:$PGPORT; run scripts/setup" >&2; exit 1; }
database=tributary_bench
psql -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database"
psql -q -v ON_ERROR_STOP=1 -d "$database" <<'SQL'
CREATE TABLE customers (
  id integer PRIMARY KEY, name text, email text, phone text, city text, country text,
  created_at timestamptz, notes text, balance numeric(12, 2));
INSERT INTO customers
SELECT n, 'Customer ' || n, 'customer' || n || '@example.com', '+44 20 7946 ' || lpad((n % 10000)::text, 4, '0'),
       'City ' || (n % 50), 'GB', timestamptz '2024-01-01' + n * interval '1 hour', 'plain note ' || n, n * 1.25
FROM generate_series(1, 1000) AS n;
SQL

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 32 /dev/urandom | base64 > "$work/master.key"
chmod 600 "$work/master.key"
cat > "$work/tributary.toml" <<TOML
[store]
url = "sqlite://tributary.db"
[security]
master_key_file = "master.key"
[[connectors]]
name = "crm"
organization = "bench"
type = "postgresql"
mask_pii = ${BENCH_MASK:-true}
audit_queries = ${BENCH_AUDIT:-true}
[connectors.config]
host = "$PGHOST"
port = $PGPORT
database = "$database"
user = "$PGUSER"
password = "${PGPASSWORD:-unused}"
tls_mode = "disable"
default_rows = 1000
max_rows = 1000
# 64 agents may wait their turn on the one connector (the default queue is 32).
[limits]
queued_calls = 64
[[agents]]
id = "bench"
organization = "bench"
grants = [{ connector = "crm", operations = ["read"] }]
TOML
# One agent per concurrent HTTP client, each with its own token.
for n in $(seq 1 64); do
  printf '[[agents]]\nid = "agent%d"\norganization = "bench"\ngrants = [{ connector = "crm", operations = ["read"] }]\n' "$n" >> "$work/tributary.toml"
done

export BENCH_TOOLBOX="$toolbox" BENCH_TRIBUTARY_CONFIG="$work/tributary.toml"
export POSTGRES_HOST="$PGHOST" POSTGRES_PORT="$PGPORT" POSTGRES_DATABASE="$database"
export POSTGRES_USER="$PGUSER" POSTGRES_PASSWORD="${PGPASSWORD:-unused}"
cargo bench --quiet -p tributary-cli --bench mcp_peers
