#!/usr/bin/env bash
# Benchmark: GET /v1/clients/{id} (consent decision + audit row) against pgbench replaying the
# same SQL, in the same run, on the same throwaway PostgreSQL cluster. See docs/benchmarks.md.
#
#   benches/get_client.sh            # build, load 100k clients, measure, print, write JSON
#
# Knobs (environment):
#   BENCH_CLIENTS=100000    client records loaded
#   BENCH_CONNS=16          concurrent connections (wrk) and clients (pgbench)
#   BENCH_THREADS=2         load-tool threads (wrk -t, pgbench -j)
#   BENCH_DURATION=25       seconds of each measured phase
#   BENCH_WARMUP=8          seconds of each warm-up phase
#   BENCH_SYNC_COMMIT=off   synchronous_commit of the cluster, the same for both sides (fsync stays on;
#                           `on` makes both sides wait on this VM's disk flushes, 0.2 to 100 ms each)
#   BENCH_PGBENCH_MODE=prepared   pgbench -M (diesel keeps prepared statements too)
#   BENCH_SKIP_BUILD=1      use target/release/hearth as it is
#   BENCH_KEEP=1            keep the temporary directory (logs) for inspection
#   BENCH_PGSS=1            diagnosis: load pg_stat_statements (track_planning) and print, per phase,
#                           each statement's calls and mean planning and execution time
#   BENCH_HOLD=seconds      diagnosis: keep the cluster and the server up that long after the report
#                           (their addresses and a token are written to <tmpdir>/hold.env)
#   BENCH_OUT=path.json     where to write the JSON (default benches/results/get_client-<date>.json)
#   HEARTH_DB_POOL_SIZE, HEARTH_WORKERS, RUST_LOG   passed to `hearth serve` as they are
#
# Only 127.0.0.1 is ever contacted. Everything it starts is stopped on exit, on failure too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N_CLIENTS="${BENCH_CLIENTS:-100000}"
CONNS="${BENCH_CONNS:-16}"
THREADS="${BENCH_THREADS:-2}"
DURATION="${BENCH_DURATION:-25}"
WARMUP="${BENCH_WARMUP:-8}"
SYNC_COMMIT="${BENCH_SYNC_COMMIT:-off}"
PGBENCH_MODE="${BENCH_PGBENCH_MODE:-prepared}"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="${BENCH_OUT:-$ROOT/benches/results/get_client-$STAMP.json}"
TARGET_RATIO="0.40"
TARGET_P99_MS="10"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Tools
PG_BIN="${HEARTH_PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin); run scripts/ensure-deps.sh"
PGBENCH="$PG_BIN/pgbench"; [ -x "$PGBENCH" ] || PGBENCH="$(command -v pgbench || true)"
[ -n "$PGBENCH" ] || die "pgbench not found (Debian: postgresql-contrib / postgresql-client)"
PSQL="$PG_BIN/psql"; [ -x "$PSQL" ] || PSQL="$(command -v psql)"
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing wrk from Debian"
        apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
    fi
    command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
fi
for t in curl awk sort; do command -v "$t" >/dev/null || die "$t not found"; done

# ---------------------------------------------------------------------------------------------
# Cleanup, on any exit
TMP="$(mktemp -d /tmp/hearth-bench.XXXXXX)"
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
        log "logs kept in $TMP (server.log, pg.log)"
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

# ---------------------------------------------------------------------------------------------
# Build
if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
    log "cargo build --release --locked (several minutes from cold on 2 cores)"
    (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target" cargo build --release --locked -q)
fi
HEARTH="$ROOT/target/release/hearth"
[ -x "$HEARTH" ] || die "$HEARTH missing"

# ---------------------------------------------------------------------------------------------
# Throwaway cluster (never the system one): its own data dir, socket dir and loopback port.
PGPORT="$(free_port)"
mkdir -p "$TMP/sock"
[ "$(id -u)" = 0 ] && chown postgres "$TMP" "$TMP/sock"
chmod 755 "$TMP"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-instructions >"$TMP/initdb.log" 2>&1 \
    || { cat "$TMP/initdb.log" >&2; die "initdb"; }
cat >>"$PGDATA/postgresql.conf" <<EOF
# --- hearth benchmark ---
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$TMP/sock'
max_connections = 64
shared_buffers = 512MB
synchronous_commit = $SYNC_COMMIT
log_line_prefix = '%m [%p] app=%a '
log_min_duration_statement = -1
$( [ "${BENCH_PGSS:-}" = 1 ] && printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track_planning = on\n" )
checkpoint_timeout = 30min
max_wal_size = 4GB
EOF
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$TMP/pg.log" -w -t 60 start >/dev/null || { cat "$TMP/pg.log" >&2; die "pg_ctl start"; }
PG_STARTED=1
PGURL_BASE="postgres://postgres@127.0.0.1:$PGPORT"
psql_q() { "$PSQL" "$PGURL_BASE/${DB:-hearth}" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
DB=postgres psql_q -c "CREATE DATABASE hearth" >/dev/null
export DATABASE_URL="$PGURL_BASE/hearth"
[ "${BENCH_PGSS:-}" = 1 ] && psql_q -c "CREATE EXTENSION pg_stat_statements" >/dev/null
pgss_reset() { [ "${BENCH_PGSS:-}" = 1 ] && psql_q -c "SELECT pg_stat_statements_reset()" >/dev/null || true; }
pgss_dump() {   # phase name
    [ "${BENCH_PGSS:-}" = 1 ] || return 0
    {
        echo "pg_stat_statements, $1 phase (wall times, CPU contention included): calls, plans, mean plan ms, mean exec ms, statement"
        psql_q -F ' | ' -c "SELECT calls, plans, round(mean_plan_time::numeric, 3), round(mean_exec_time::numeric, 3),
                                   left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'hearth')
                              AND calls > 100 ORDER BY calls DESC, query LIMIT 12"
    } | tee "$TMP/pgss-$1.txt" >&2
}
PG_VERSION="$(psql_q -c 'SHOW server_version')"
log "throwaway PostgreSQL $PG_VERSION on 127.0.0.1:$PGPORT (synchronous_commit=$SYNC_COMMIT, fsync=on)"

# ---------------------------------------------------------------------------------------------
# Schema and data
"$HEARTH" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "hearth migrate"; }
log "loading $N_CLIENTS clients"
LOAD_START=$(date +%s)
# Ids are built from integers so that wrk's Lua and pgbench can pick a random one:
#   client i -> 00000000-0000-4000-8000-<i, 12 digits>
#   agency i -> 00000000-0000-4000-a000-<i, 12 digits>   (100 agencies over 10 CoCs)
# Every record is identified and open with a statewide ROI (10% also keep an expired one), one or
# two contributors, and a quarter have an enrollment (some in CE projects). The bench caller is a
# case worker of agency 1, which shares data: it reads 1% of the records as the creating agency
# and the rest by the statewide ROI. Either way the decision is `full`, so every GET writes an
# audit row, as does every pgbench transaction.
psql_q -v n="$N_CLIENTS" >/dev/null <<'SQL'
BEGIN;
INSERT INTO cocs (code, name, roi_grant_mode)
SELECT format('BN-%s', lpad(i::text, 3, '0')), 'Bench CoC ' || i, 'window'
FROM generate_series(1, 10) i;

INSERT INTO agencies (id, coc_code, name, shares_data)
SELECT ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid,
       format('BN-%s', lpad((1 + (i - 1) % 10)::text, 3, '0')),
       'Bench agency ' || i, i % 4 <> 0
FROM generate_series(1, 100) i;

INSERT INTO projects (id, agency_id, name, project_type)
SELECT ('00000000-0000-4000-b000-' || lpad(i::text, 12, '0'))::uuid,
       ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid,
       'Bench project ' || i, CASE WHEN i % 5 = 0 THEN 14 ELSE 1 END
FROM generate_series(1, 100) i;

CREATE TEMP TABLE g AS
SELECT i, 1 + (i - 1) % 100 AS ag,
       ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid AS id
FROM generate_series(1, :n) i;

INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user,
                     identity_mode, visibility, first_name, last_name, name_quality,
                     ssn, ssn_quality, dob, dob_quality, race, gender, sex, veteran_status)
SELECT g.id, upper(lpad(to_hex(g.i), 9, '0')), md5('p' || g.i)::uuid,
       format('BN-%s', lpad((1 + (g.ag - 1) % 10)::text, 3, '0')),
       ('00000000-0000-4000-a000-' || lpad(g.ag::text, 12, '0'))::uuid, 'loader',
       'identified', 'open',
       (ARRAY['Ana','Ben','Cleo','Dmitri','Eun','Farah','Gus','Hana'])[1 + g.i % 8],
       'Family' || to_hex(g.i * 7919), 1,
       lpad((100000000 + g.i)::text, 9, '0'), 1,
       DATE '1950-01-01' + (g.i % 20000), 1,
       ARRAY[(ARRAY['white','black_af_american','asian','hispanic_latinao'])[1 + g.i % 4]],
       ARRAY[(g.i % 2)::smallint], (g.i % 2)::smallint, 0
FROM g;

INSERT INTO client_contributors (client_id, agency_id)
SELECT g.id, ('00000000-0000-4000-a000-' || lpad(g.ag::text, 12, '0'))::uuid FROM g
UNION ALL
SELECT g.id, ('00000000-0000-4000-a000-' || lpad((1 + g.ag % 100)::text, 12, '0'))::uuid
FROM g WHERE g.i % 3 = 0;

INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, effective_from,
                          expires_on, scope_statewide, method)
SELECT md5('r' || g.i)::uuid, g.id, ('00000000-0000-4000-a000-' || lpad(g.ag::text, 12, '0'))::uuid,
       'loader', DATE '2024-01-01', NULL, true, 'signed'
FROM g
UNION ALL
SELECT md5('x' || g.i)::uuid, g.id, ('00000000-0000-4000-a000-' || lpad(g.ag::text, 12, '0'))::uuid,
       'loader', DATE '2020-01-01', DATE '2021-01-01', true, 'verbal'
FROM g WHERE g.i % 10 = 0;

INSERT INTO enrollments (id, client_id, project_id, household_id, relationship_to_hoh, entry_date,
                         entered_by_agency, entered_by_user, collected_on)
SELECT md5('e' || g.i)::uuid, g.id, ('00000000-0000-4000-b000-' || lpad(g.ag::text, 12, '0'))::uuid,
       md5('h' || g.i)::uuid, 1, DATE '2025-01-01',
       ('00000000-0000-4000-a000-' || lpad(g.ag::text, 12, '0'))::uuid, 'loader', DATE '2025-01-01'
FROM g WHERE g.i % 4 = 0;
COMMIT;
VACUUM ANALYZE;
CHECKPOINT;
SQL
LOAD_SECS=$(( $(date +%s) - LOAD_START ))
ROWS="$(psql_q -c "SELECT (SELECT count(*) FROM clients)||' clients, '||(SELECT count(*) FROM roi_consents)||' rois, '||(SELECT count(*) FROM client_contributors)||' contributors, '||(SELECT count(*) FROM enrollments)||' enrollments'")"
log "loaded in ${LOAD_SECS}s: $ROWS"

# ---------------------------------------------------------------------------------------------
# Server
HTTP_PORT="$(free_port)"
export HEARTH_BIND="127.0.0.1:$HTTP_PORT"
export HEARTH_JWT_SECRET="bench-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export HEARTH_DATA_DIR="$TMP/hearth-data"
export RUST_LOG="${RUST_LOG:-info}"
AGENCY="00000000-0000-4000-a000-000000000001"
TOKEN="$("$HEARTH" token --sub bench --role case_worker --agency "$AGENCY" --ttl 2h)"
"$HEARTH" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "http://$HEARTH_BIND/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$TMP/server.log" >&2; die "hearth serve exited"; }
    sleep 0.2
done
curl -fsS "http://$HEARTH_BIND/readyz" >/dev/null || die "hearth not ready"
client_id() { printf '00000000-0000-4000-8000-%012d' "$1"; }
code="$(curl -s -o "$TMP/one.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "http://$HEARTH_BIND/v1/clients/$(client_id 4242)")"
[ "$code" = 200 ] || { cat "$TMP/one.json" >&2; die "GET one client answered $code"; }
grep -q '"level":"full"' "$TMP/one.json" || die "the bench caller does not get full access"
log "hearth serving on $HEARTH_BIND (pool ${HEARTH_DB_POOL_SIZE:-10}, workers ${HEARTH_WORKERS:-$(nproc)}, RUST_LOG=$RUST_LOG)"

# ---------------------------------------------------------------------------------------------
# The SQL one GET issues, read off the server's log (log_statement = all for one request).
capture_statements() {
    psql_q -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
    local off; off=$(stat -c %s "$TMP/pg.log")
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "http://$HEARTH_BIND/v1/clients/$(client_id 777)"
    sleep 0.5
    tail -c +"$((off + 1))" "$TMP/pg.log" | grep -v 'app=psql' >"$TMP/get.sql.log" || true
    psql_q -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
}
capture_statements
STATEMENTS="$(grep -cE 'LOG:  (statement|execute)' "$TMP/get.sql.log" || true)"
log "one GET issues $STATEMENTS statements (round trips):"
grep -E 'LOG:  (statement|execute)' "$TMP/get.sql.log" | sed -E 's/^.*LOG:  //' | cut -c1-150 | sed 's/^/    /' >&2

# ---------------------------------------------------------------------------------------------
# CPU accounting: ticks of the server, of the whole cluster, and of the machine.
CLK="$(getconf CLK_TCK)"
PM_PID="$(head -1 "$PGDATA/postmaster.pid")"
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {   # postmaster with its reaped children, plus every live child
    local t c
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$PM_PID/stat")
    for c in $(pgrep -P "$PM_PID"); do t=$(( t + $(ticks_of "$c") )); done
    echo "$t"
}
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6, $7+$8}' /proc/stat; }   # total idle irq
secs_of_times() {   # second line of `times` (children): "0m1.234s 0m0.010s" -> 1.244
    awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } print s }'
}
snap_start() {
    wait_pgbench_gone
    S_H=$(ticks_of "$SERVER_PID"); S_P=$(pg_ticks); read -r S_T S_I S_Q < <(machine_ticks); S_W=$(date +%s.%N)
}
# prints: server_cores postgres_cores loadtool_cores machine_busy_cores irq_cores other_cores
wait_pgbench_gone() {
    for _ in $(seq 1 50); do
        [ "$(psql_q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")" = 0 ] && break
        sleep 0.1
    done
    sleep 0.2   # the postmaster reaps them
}
snap_end() {
    local e_h e_p e_t e_i e_q e_w tool_s
    e_w=$(date +%s.%N)
    # pgbench's backends exit after it: let the postmaster reap them, so that their time is
    # counted (the wall time stays the phase's).
    wait_pgbench_gone
    e_h=$(ticks_of "$SERVER_PID"); e_p=$(pg_ticks); read -r e_t e_i e_q < <(machine_ticks)
    tool_s=$(secs_of_times <"$1")
    awk -v h=$((e_h - S_H)) -v p=$((e_p - S_P)) -v t=$((e_t - S_T)) -v i=$((e_i - S_I)) -v q=$((e_q - S_Q)) -v c="$CLK" \
        -v w0="$S_W" -v w1="$e_w" -v tool="$tool_s" -v n="$(nproc)" \
        'BEGIN { w = w1 - w0; b = (t - i) / t * n; irq = q / t * n; o = b - irq - h / c / w - p / c / w - tool / w
                 if (o < 0) o = 0
                 printf "%.2f %.2f %.2f %.2f %.2f %.2f\n", h / c / w, p / c / w, tool / w, b, irq, o }'
}

# ---------------------------------------------------------------------------------------------
# Hearth under wrk: random ids, one token, JSON summary from Lua.
cat >"$TMP/get_client.lua" <<EOF
local n = $N_CLIENTS
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() * 1000 + (seed or 0)) end
request = function()
    return wrk.format("GET", string.format("/v1/clients/00000000-0000-4000-8000-%012d", math.random(1, n)))
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCHJSON %d %d %d %d %d %d %d %d %d %d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write, e.timeout,
        latency:percentile(99.9)))
end
EOF
run_wrk() {   # seconds outfile
    ( timeout $(( $1 + 30 )) wrk -t "$THREADS" -c "$CONNS" -d "${1}s" --timeout 5s \
        -H "Authorization: Bearer $TOKEN" -s "$TMP/get_client.lua" "http://$HEARTH_BIND" >"$2" 2>&1
      times >"$2.times" )
}
# What else keeps the machine busy (another build, other services): the figures are only as good
# as this is small.
read -r B_T B_I _ < <(machine_ticks); sleep 3; read -r B_T2 B_I2 _ < <(machine_ticks)
BASELINE_BUSY=$(awk -v t=$((B_T2 - B_T)) -v i=$((B_I2 - B_I)) -v n="$(nproc)" 'BEGIN { printf "%.2f", (t - i) / t * n }')
log "machine busy before the load: $BASELINE_BUSY cores"
awk -v b="$BASELINE_BUSY" 'BEGIN { exit !(b > 0.25) }' \
    && log "WARNING: something else is using $BASELINE_BUSY cores; the figures will be low and noisy"
log "hearth warm-up ${WARMUP}s"
run_wrk "$WARMUP" "$TMP/wrk-warmup.out"
psql_q -c CHECKPOINT >/dev/null
AUDIT1="$(psql_q -c 'SELECT count(*) FROM audit_events')"
log "hearth: wrk -t$THREADS -c$CONNS -d${DURATION}s"
pgss_reset
snap_start
run_wrk "$DURATION" "$TMP/wrk.out"
read -r H_CPU_SERVER H_CPU_PG H_CPU_TOOL H_CPU_BUSY H_CPU_IRQ H_CPU_OTHER < <(snap_end "$TMP/wrk.out.times")
AUDIT2="$(psql_q -c 'SELECT count(*) FROM audit_events')"
pgss_dump hearth
grep -q '^BENCHJSON' "$TMP/wrk.out" || { cat "$TMP/wrk.out" >&2; die "wrk gave no summary"; }
read -r _ H_REQS H_DUR_US H_P50 H_P90 H_P99 H_MAX H_NON2XX H_SOCKERR H_TIMEOUT H_P999 < <(grep '^BENCHJSON' "$TMP/wrk.out")
H_RPS=$(awk -v r="$H_REQS" -v d="$H_DUR_US" 'BEGIN { printf "%.1f", r / (d / 1e6) }')
H_AUDIT=$(( AUDIT2 - AUDIT1 ))

# ---------------------------------------------------------------------------------------------
# pgbench: the statements of the captured GET, replayed in the same order as one transaction.
# Generated from the log, so it follows the product code as it changes. Each parameter becomes a
# pgbench variable with the captured value, except the client id, which is drawn at random like
# wrk's (built from the integer by the same expression the loader used).
command -v python3 >/dev/null || die "python3 not found (it turns the captured log into the pgbench script)"
python3 - "$TMP/get.sql.log" "$(client_id 777)" "$N_CLIENTS" "$TMP/get_client.pgbench" "$TMP/pgbench.vars" <<'PY' \
    || die "could not turn the captured statements into a pgbench script"
import re, sys
log, client, n, script, varsfile = sys.argv[1:6]
head = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] app=\S* ([A-Z]+):  (.*)$")
entries = []
for line in open(log, encoding="utf-8", errors="replace").read().split("\n"):
    m = head.match(line)
    if m:
        entries.append([m.group(1), m.group(2)])
    elif entries and line.startswith("\t"):
        entries[-1][1] += "\n" + line[1:]
stmts = []
for kind, text in entries:
    if kind == "LOG":
        m = re.match(r"(?s)(?:statement|execute [^:]+): (.*)$", text)
        if m:
            stmts.append([m.group(1).strip(), {}])
    elif kind == "DETAIL" and text.startswith("parameters: ") and stmts:
        for k, v in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", text):
            stmts[-1][1][k] = None if v == "NULL" else v[1:-1].replace("''", "'")
    elif kind in ("ERROR", "FATAL"):
        sys.exit("the captured GET failed in SQL: " + text)
if not stmts:
    sys.exit("no statement captured")
id_expr = "('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid"
values = {}
out = ["\\set n random(1, %s)" % n]
for sql, params in stmts:
    def sub(m):
        k = m.group(1)
        if k not in params:
            sys.exit("parameter $%s has no captured value" % k)
        v = params[k]
        if v is None:
            return "NULL"
        if v == client:
            return id_expr
        name = values.setdefault(v, "p%d" % (len(values) + 1))
        return ":" + name
    body = re.sub(r"\$(\d+)\b", sub, sql).rstrip().rstrip(";")
    out.append(body + ";")
open(script, "w").write("\n".join(out) + "\n")
open(varsfile, "w").write("".join("%s=%s\n" % (name, v) for v, name in values.items()))
PY
PGBENCH_VARS=()
while IFS= read -r v; do PGBENCH_VARS+=(-D "$v"); done <"$TMP/pgbench.vars"
run_pgbench() {   # seconds outfile [log prefix]
    local logargs=()
    [ -n "${3:-}" ] && logargs=(-l --log-prefix="$3")
    ( cd "$TMP" && timeout $(( $1 + 30 )) "$PGBENCH" -h 127.0.0.1 -p "$PGPORT" -U postgres -n \
        -M "$PGBENCH_MODE" -c "$CONNS" -j "$THREADS" -T "$1" "${logargs[@]}" "${PGBENCH_VARS[@]}" \
        -f "$TMP/get_client.pgbench" hearth >"$2" 2>&1
      times >"$2.times" ) || { cat "$2" >&2; die "pgbench failed"; }
}
log "pgbench warm-up ${WARMUP}s"
run_pgbench "$WARMUP" "$TMP/pgbench-warmup.out"
psql_q -c CHECKPOINT >/dev/null
AUDIT3="$(psql_q -c 'SELECT count(*) FROM audit_events')"
log "pgbench: -M $PGBENCH_MODE -c$CONNS -j$THREADS -T$DURATION"
pgss_reset
snap_start
run_pgbench "$DURATION" "$TMP/pgbench.out" "$TMP/pgblog"
read -r P_CPU_SERVER P_CPU_PG P_CPU_TOOL P_CPU_BUSY P_CPU_IRQ P_CPU_OTHER < <(snap_end "$TMP/pgbench.out.times")
AUDIT4="$(psql_q -c 'SELECT count(*) FROM audit_events')"
P_AUDIT=$(( AUDIT4 - AUDIT3 ))
pgss_dump pgbench
P_TPS="$(awk '/^tps = / { printf "%.1f", $3; exit }' "$TMP/pgbench.out")"
P_XACTS="$(awk -F': ' '/number of transactions actually processed/ { split($2, a, "/"); print a[1] }' "$TMP/pgbench.out")"
P_FAILED="$(awk -F': ' '/number of failed transactions/ { split($2, a, " "); print a[1] }' "$TMP/pgbench.out")"
# Per-transaction log: column 3 is the latency in microseconds.
cat "$TMP"/pgblog.* | awk '{ print $3 }' | sort -n >"$TMP/pg-lat.txt"
pct() { awk -v p="$2" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print a[i] }' "$1"; }
P_P50=$(pct "$TMP/pg-lat.txt" 50); P_P90=$(pct "$TMP/pg-lat.txt" 90); P_P99=$(pct "$TMP/pg-lat.txt" 99)
P_P999=$(pct "$TMP/pg-lat.txt" 99.9); P_MAX=$(tail -1 "$TMP/pg-lat.txt")

# ---------------------------------------------------------------------------------------------
# Report
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
RATIO=$(awk -v h="$H_RPS" -v p="$P_TPS" 'BEGIN { printf "%.3f", h / p }')
RATIO_MET=$(awk -v r="$RATIO" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? "true" : "false" }')
P99_MET=$(awk -v u="$H_P99" -v t="$TARGET_P99_MS" 'BEGIN { print (u / 1000 <= t) ? "true" : "false" }')
ERRORS_OK=$([ "$H_NON2XX" = 0 ] && [ "$H_SOCKERR" = 0 ] && [ "$H_TIMEOUT" = 0 ] && echo true || echo false)

cat <<EOF

GET /v1/clients/{id}, $N_CLIENTS clients, $CONNS concurrent, ${DURATION}s each, $(nproc) cores shared
                 req/s      p50 ms   p90 ms   p99 ms   p99.9 ms   max ms
  hearth (wrk) $(printf '%9s %9s %8s %8s %10s %8s' "$H_RPS" "$(ms "$H_P50")" "$(ms "$H_P90")" "$(ms "$H_P99")" "$(ms "$H_P999")" "$(ms "$H_MAX")")
  pgbench      $(printf '%9s %9s %8s %8s %10s %8s' "$P_TPS" "$(ms "$P_P50")" "$(ms "$P_P90")" "$(ms "$P_P99")" "$(ms "$P_P999")" "$(ms "$P_MAX")")
  ratio hearth/pgbench = $RATIO   (target >= $TARGET_RATIO: $RATIO_MET)   hearth p99 <= ${TARGET_P99_MS} ms: $P99_MET
  hearth: $H_REQS requests, non-2xx $H_NON2XX, socket errors $H_SOCKERR, timeouts $H_TIMEOUT, audit rows $H_AUDIT
  pgbench: $P_XACTS transactions, failed ${P_FAILED:-0}, audit rows $P_AUDIT
  statements per GET (round trips incl. BEGIN/COMMIT): $STATEMENTS
  machine busy before the load (other processes): $BASELINE_BUSY cores
  CPU (cores busy)      server  postgres  load tool  irq+softirq  other  | machine
    hearth phase        $(printf '%6s %9s %10s %12s %6s  | %7s' "$H_CPU_SERVER" "$H_CPU_PG" "$H_CPU_TOOL" "$H_CPU_IRQ" "$H_CPU_OTHER" "$H_CPU_BUSY")
    pgbench phase       $(printf '%6s %9s %10s %12s %6s  | %7s' "$P_CPU_SERVER" "$P_CPU_PG" "$P_CPU_TOOL" "$P_CPU_IRQ" "$P_CPU_OTHER" "$P_CPU_BUSY")
EOF

mkdir -p "$(dirname "$OUT")"
STMTS_JSON="$(grep -E 'LOG:  (statement|execute)' "$TMP/get.sql.log" | sed -E 's/^.*LOG:  //; s/\\/\\\\/g; s/"/\\"/g; s/\t/ /g; s/^/    "/; s/$/",/' | sed '$ s/,$//')"
cat >"$OUT" <<EOF
{
  "benchmark": "GET /v1/clients/{id} with consent decision and audit row vs pgbench replaying its SQL",
  "date_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": { "cores": $(nproc), "cpu": "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)", "shared_by": "load tool, hearth and PostgreSQL", "busy_cores_before_load": $BASELINE_BUSY },
  "setup": {
    "clients": $N_CLIENTS, "connections": $CONNS, "load_tool_threads": $THREADS,
    "duration_s": $DURATION, "warmup_s": $WARMUP, "load_tool": "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)",
    "pgbench_mode": "$PGBENCH_MODE", "postgres": "$PG_VERSION", "synchronous_commit": "$SYNC_COMMIT", "fsync": "on",
    "hearth_db_pool_size": ${HEARTH_DB_POOL_SIZE:-10}, "hearth_workers": ${HEARTH_WORKERS:-$(nproc)}, "rust_log": "$RUST_LOG",
    "statements_per_get": $STATEMENTS
  },
  "hearth": {
    "requests_per_s": $H_RPS, "requests": $H_REQS,
    "p50_ms": $(ms "$H_P50"), "p90_ms": $(ms "$H_P90"), "p99_ms": $(ms "$H_P99"), "p999_ms": $(ms "$H_P999"), "max_ms": $(ms "$H_MAX"),
    "non_2xx": $H_NON2XX, "socket_errors": $H_SOCKERR, "timeouts": $H_TIMEOUT, "audit_rows": $H_AUDIT,
    "cpu_cores": { "server": $H_CPU_SERVER, "postgres": $H_CPU_PG, "load_tool": $H_CPU_TOOL, "irq_softirq": $H_CPU_IRQ, "other": $H_CPU_OTHER, "machine_busy": $H_CPU_BUSY }
  },
  "pgbench": {
    "transactions_per_s": $P_TPS, "transactions": $P_XACTS, "failed": ${P_FAILED:-0},
    "p50_ms": $(ms "$P_P50"), "p90_ms": $(ms "$P_P90"), "p99_ms": $(ms "$P_P99"), "p999_ms": $(ms "$P_P999"), "max_ms": $(ms "$P_MAX"),
    "audit_rows": $P_AUDIT,
    "cpu_cores": { "postgres": $P_CPU_PG, "load_tool": $P_CPU_TOOL, "irq_softirq": $P_CPU_IRQ, "other": $P_CPU_OTHER, "machine_busy": $P_CPU_BUSY }
  },
  "ratio_hearth_to_pgbench": $RATIO,
  "targets": { "ratio_min": $TARGET_RATIO, "ratio_met": $RATIO_MET, "p99_max_ms": $TARGET_P99_MS, "p99_met": $P99_MET, "no_errors": $ERRORS_OK },
  "get_statements": [
$STMTS_JSON
  ]
}
EOF
cp "$TMP/get_client.pgbench" "${OUT%.json}.pgbench"
log "wrote $OUT and ${OUT%.json}.pgbench"
[ "$ERRORS_OK" = true ] || die "hearth answered errors during the run (see above)"
if [ -n "${BENCH_HOLD:-}" ]; then
    printf 'DATABASE_URL=%s\nHEARTH=http://%s\nTOKEN=%s\n' "$DATABASE_URL" "$HEARTH_BIND" "$TOKEN" >"$TMP/hold.env"
    log "holding for ${BENCH_HOLD}s: $TMP/hold.env"
    sleep "$BENCH_HOLD" & wait $!
fi
