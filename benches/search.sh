#!/usr/bin/env bash
# Benchmark: POST /v1/clients/search on a 1M-client world (census-like names, DOBs over 80 years,
# 2% seeded duplicates of every error kind), against pgbench replaying the same SQL, in the same
# run, on the same throwaway PostgreSQL cluster. See docs/benchmarks.md ("Duplicate search").
#
#   benches/search.sh              # build, load, measure, print, write JSON (about 10 minutes)
#
# Knobs (environment):
#   BENCH_CLIENTS=1000000   client records loaded (2% of them seeded duplicates)
#   BENCH_DURATION=15       seconds of each measured phase (3 queries x 2 concurrencies x 2 sides)
#   BENCH_WARMUP=4          seconds of each warm-up phase
#   BENCH_CONCURRENCY="1 4" concurrent callers (wrk connections, pgbench clients)
#   BENCH_RECALL=150        duplicates per error kind searched for recall
#   BENCH_SKIP_BUILD=1      use target/release/hearth as it is
#   BENCH_KEEP=1            keep the temporary directory (logs, captured SQL)
#   BENCH_OUT=path.json     default benches/results/search-<date>.json
#   HEARTH_DB_POOL_SIZE, HEARTH_WORKERS, RUST_LOG   passed to `hearth serve`
#
# Only 127.0.0.1 is contacted; the system cluster on 5432 is never used. Everything it starts is
# stopped on exit, on failure too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N_CLIENTS="${BENCH_CLIENTS:-1000000}"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="${BENCH_OUT:-$ROOT/benches/results/search-$STAMP.json}"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

PG_BIN="${HEARTH_PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)"
PGBENCH="$PG_BIN/pgbench"; [ -x "$PGBENCH" ] || PGBENCH="$(command -v pgbench || true)"
[ -n "$PGBENCH" ] || die "pgbench not found (Debian: postgresql-contrib)"
PSQL="$PG_BIN/psql"; [ -x "$PSQL" ] || PSQL="$(command -v psql)"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
for t in curl python3; do command -v "$t" >/dev/null || die "$t not found"; done

TMP="$(mktemp -d /tmp/hearth-search-bench.XXXXXX)"
PGDATA="$TMP/pg"
SERVER_PID=""
PG_STARTED=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$PG_STARTED" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ "${BENCH_KEEP:-}" = 1 ] || [ "$rc" != 0 ]; then
        log "logs kept in $TMP (server.log, pg.log, replay-*.sql)"
        [ -n "$PG_STARTED" ] && rm -rf "$PGDATA"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    die "no free loopback port"
}

if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
    log "cargo build --release --locked"
    (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target" cargo build --release --locked -q)
fi
HEARTH="$ROOT/target/release/hearth"
[ -x "$HEARTH" ] || die "$HEARTH missing"

# Throwaway cluster: its own data dir, socket dir and loopback port.
PGPORT="$(free_port)"
mkdir -p "$TMP/sock"
[ "$(id -u)" = 0 ] && chown postgres "$TMP" "$TMP/sock"
chmod 755 "$TMP"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-instructions >"$TMP/initdb.log" 2>&1 \
    || { cat "$TMP/initdb.log" >&2; die "initdb"; }
cat >>"$PGDATA/postgresql.conf" <<EOF
# --- hearth search benchmark ---
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$TMP/sock'
max_connections = 64
shared_buffers = 1GB
maintenance_work_mem = 512MB
work_mem = 16MB
synchronous_commit = off
log_line_prefix = '%m [%p] app=%a '
checkpoint_timeout = 30min
max_wal_size = 8GB
EOF
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$TMP/pg.log" -w -t 60 start >/dev/null || { cat "$TMP/pg.log" >&2; die "pg_ctl start"; }
PG_STARTED=1
PGURL="postgres://postgres@127.0.0.1:$PGPORT/hearth"
"$PSQL" "postgres://postgres@127.0.0.1:$PGPORT/postgres" -X -q -c "CREATE DATABASE hearth"
psql_q() { "$PSQL" "$PGURL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
export DATABASE_URL="$PGURL"
log "throwaway PostgreSQL $(psql_q -c 'SHOW server_version') on 127.0.0.1:$PGPORT"

"$HEARTH" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "hearth migrate"; }

# The world: clients' secondary indexes (whatever the migrations made) are dropped for the load and
# rebuilt after it, which is several times faster than maintaining them row by row.
log "loading $N_CLIENTS clients (benches/search_world.sql)"
LOAD_START=$(date +%s)
IDX="$(psql_q -c "SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ') FROM pg_index i
                  WHERE i.indrelid = 'clients'::regclass AND NOT i.indisprimary AND NOT i.indisunique")"
NAMES="$(psql_q -c "SELECT string_agg(c.relname, ', ') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE i.indrelid = 'clients'::regclass AND NOT i.indisprimary AND NOT i.indisunique")"
psql_q -c "DROP INDEX $NAMES"
psql_q -v n="$N_CLIENTS" -f "$ROOT/benches/search_world.sql" >/dev/null
log "loaded the rows in $(( $(date +%s) - LOAD_START ))s; rebuilding the indexes"
psql_q -c "$IDX" >/dev/null
psql_q -c "VACUUM ANALYZE clients" -c "CHECKPOINT" >/dev/null
log "world ready in $(( $(date +%s) - LOAD_START ))s: $(psql_q -c "SELECT count(*) || ' clients, ' ||
    (SELECT count(*) FROM bench_dups) || ' seeded duplicates, ' ||
    count(*) FILTER (WHERE first_name = 'James') || ' James, ' ||
    count(*) FILTER (WHERE last_name = 'Smith') || ' Smith, ' ||
    count(*) FILTER (WHERE first_name = 'James' AND last_name = 'Smith') || ' James Smith' FROM clients")"

# Server: a case worker of agency 1 (shares data).
HTTP_PORT="$(free_port)"
export HEARTH_BIND="127.0.0.1:$HTTP_PORT"
export HEARTH_JWT_SECRET="bench-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export HEARTH_DATA_DIR="$TMP/hearth-data"
export RUST_LOG="${RUST_LOG:-warn}"
TOKEN="$("$HEARTH" token --sub bench --role case_worker --agency 00000000-0000-4000-a000-000000000001 --ttl 2h)"
"$HEARTH" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "http://$HEARTH_BIND/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$TMP/server.log" >&2; die "hearth serve exited"; }
    sleep 0.2
done
curl -fsS "http://$HEARTH_BIND/readyz" >/dev/null || die "hearth not ready"

mkdir -p "$(dirname "$OUT")"
BENCH_TMP="$TMP" BENCH_PGURL="$PGURL" BENCH_PGLOG="$TMP/pg.log" BENCH_HEARTH="http://$HEARTH_BIND" \
BENCH_TOKEN="$TOKEN" BENCH_PGBENCH="$PGBENCH" BENCH_PSQL="$PSQL" BENCH_OUT="$OUT" \
    python3 "$ROOT/benches/search_driver.py"
