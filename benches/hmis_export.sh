#!/usr/bin/env bash
# Benchmark: GET /v1/exports/hmis-csv over a generated world (docs/benchmarks.md).
#
#   benches/hmis_export.sh
#
# Generates N clients with 2N stays (half of them exited) and 2 enrollment-level rows per stay
# (a bed night and a current living situation), set-based. Times the export over HTTP as a
# coc_admin (the consent filter at work: statewide ROI and coc_aggregate bases), against psql's
# \copy of the same rows (the clients, stays, exits and data the export holds, as CSV) in the
# same run, and reads the server's peak RSS (VmHWM) before and after.
#
# Knobs: BENCH_CLIENTS (default 100000), HEARTH_BIN (default target/release/hearth, else
# target/debug/hearth). Only 127.0.0.1 is contacted; the throwaway cluster and the server are
# stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${BENCH_CLIENTS:-100000}"
HEARTH="${HEARTH_BIN:-$ROOT/target/release/hearth}"
[ -x "$HEARTH" ] || HEARTH="$ROOT/target/debug/hearth"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
TMP="$(mktemp -d /tmp/hearth-exportbench.XXXXXX)"
PGDATA="$TMP/pg"; SERVER_PID=""; PG_STARTED=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    local rc=$?; trap - EXIT
    if [ -n "${BENCH_KEEP:-}" ]; then log "kept: $TMP, server $SERVER_PID, $DATABASE_URL"; exit "$rc"; fi
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null || true
    [ -n "$PG_STARTED" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    if [ "$rc" = 0 ]; then rm -rf "$TMP"; else log "logs in $TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
port() { echo $(( 20000 + RANDOM % 40000 )); }
PGPORT="$(port)"; mkdir -p "$TMP/sock"; DATABASE_URL=""
[ "$(id -u)" = 0 ] && chown postgres "$TMP" "$TMP/sock"; chmod 755 "$TMP"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$TMP/sock'
shared_buffers = 256MB
synchronous_commit = off
log_min_duration_statement = ${BENCH_LOG_MS:--1}
CONF
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$TMP/pg.log" -w start >/dev/null; PG_STARTED=1
PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CREATE DATABASE bench"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench"
export HEARTH_JWT_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export HEARTH_DB_STATEMENT_TIMEOUT_MS=600000
"$HEARTH" migrate >/dev/null
STAYS=$(( 2 * N ))
log "generating $N clients, $STAYS stays, $(( 2 * STAYS )) stay data rows (generate_series; triggers off)"
T0=$(date +%s)
"${PSQL[@]}" -d bench <<SQL
SET session_replication_role = replica;
INSERT INTO cocs (code, name) VALUES ('IL-510', 'Bench CoC'), ('WA-502', 'Other');
INSERT INTO agencies (id, coc_code, name, shares_data, participates_in_ce)
SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'IL-510', 'Agency ' || g, g % 4 <> 0, true
  FROM generate_series(1, 20) g;
INSERT INTO projects (id, agency_id, name, project_type, ce_entry_point)
SELECT ('00000000-0000-4000-9000-' || lpad(g::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Shelter ' || g, 1, false
  FROM generate_series(1, 20) g;
-- Clients: 90% identified and open with a statewide ROI, 5% closed, 5% consent-refused open.
INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user,
    identity_mode, visibility, first_name, last_name, name_quality, ssn, ssn_quality, dob, dob_quality,
    race, gender, veteran_status)
SELECT ('00000000-0000-4000-a000-' || lpad(g::text, 12, '0'))::uuid, 'B' || g,
       ('00000000-0000-4000-a000-' || lpad(g::text, 12, '0'))::uuid, 'IL-510',
       ('00000000-0000-4000-8000-' || lpad((1 + g % 20)::text, 12, '0'))::uuid, 'staff' || (g % 50),
       CASE WHEN g % 20 = 1 THEN 'consent_refused' ELSE 'identified' END,
       CASE WHEN g % 20 = 2 THEN 'closed' ELSE 'open' END,
       CASE WHEN g % 20 = 1 THEN NULL ELSE 'First' || g END,
       CASE WHEN g % 20 = 1 THEN NULL ELSE 'Last, "B"' END,
       CASE WHEN g % 20 = 1 THEN 9 ELSE 1 END,
       CASE WHEN g % 20 = 1 THEN NULL ELSE '52' || lpad((g % 10000000)::text, 7, '0') END,
       CASE WHEN g % 20 = 1 THEN 9 ELSE 1 END,
       CASE WHEN g % 20 = 1 THEN NULL ELSE DATE '1950-01-01' + (g % 20000) END,
       CASE WHEN g % 20 = 1 THEN 9 ELSE 1 END,
       ARRAY['white'], ARRAY[(g % 2)::int2], g % 2
  FROM generate_series(1, $N) g;
INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, effective_from,
    scope_statewide, method)
SELECT gen_random_uuid(), c.id, c.created_by_agency, 'bench', current_date - 800, true, 'signed'
  FROM clients c WHERE c.visibility = 'open' AND c.identity_mode = 'identified';
INSERT INTO client_contributors (client_id, agency_id) SELECT id, created_by_agency FROM clients;
-- Two stays per client, in its creating agency's shelter; every other one exited.
INSERT INTO enrollments (id, client_id, project_id, household_id, relationship_to_hoh, entry_date,
    exit_date, destination, enrollment_coc, living_situation, entered_by_agency, entered_by_user, collected_on)
SELECT ('00000000-0000-4000-c000-' || lpad(g::text, 12, '0'))::uuid, c.id,
       ('00000000-0000-4000-9000-' || lpad((1 + c.n % 20)::text, 12, '0'))::uuid,
       ('00000000-0000-4000-c000-' || lpad(g::text, 12, '0'))::uuid, 1,
       current_date - 10 - (g % 300),
       CASE WHEN g % 2 = 0 THEN current_date - 5 - (g % 5) END, CASE WHEN g % 2 = 0 THEN 101 END,
       'IL-510', 116, c.created_by_agency, 'staff' || (g % 50), current_date - 10 - (g % 300)
  FROM generate_series(1, $STAYS) g
  CROSS JOIN LATERAL (SELECT 1 + (g - 1) % $N AS n) k
  JOIN LATERAL (SELECT id, created_by_agency, k.n FROM clients
                 WHERE id = ('00000000-0000-4000-a000-' || lpad(k.n::text, 12, '0'))::uuid) c ON true;
INSERT INTO enrollment_data (id, kind, enrollment_id, client_id, occurred_on, fields,
    entered_by_agency, entered_by_user, collected_on)
SELECT gen_random_uuid(), k.kind, e.id, e.client_id, e.entry_date + 1, k.fields::jsonb,
       e.entered_by_agency, e.entered_by_user, e.entry_date + 1
  FROM enrollments e
  CROSS JOIN (VALUES ('service', '{"service_type": "bed_night", "quantity": null}'),
                     ('current_living_situation', '{"current_living_situation": 116, "verified_by": "Outreach"}')) k(kind, fields);
SET session_replication_role = DEFAULT;
ANALYZE;
SQL
log "generated in $(( $(date +%s) - T0 )) s: $("${PSQL[@]}" -d bench -Atc "SELECT count(*) FROM clients") clients, $("${PSQL[@]}" -d bench -Atc "SELECT count(*) FROM enrollments") stays, $("${PSQL[@]}" -d bench -Atc "SELECT count(*) FROM enrollment_data") data rows"
HPORT="$(port)"
HEARTH_BIND="127.0.0.1:$HPORT" "$HEARTH" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$HPORT/healthz" >/dev/null && break; sleep 0.2; done
RSS_IDLE_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
# A coc_admin of agency 4 (which does not share data): statewide ROI gives open records in full,
# coc_aggregate the closed and consent-refused ones at level limited.
TOKEN="$("$HEARTH" token --sub bench --role coc_admin --agency 00000000-0000-4000-8000-000000000004)"
START="$(date -d '-400 days' +%F)"; END="$(date +%F)"
URL="http://127.0.0.1:$HPORT/v1/exports/hmis-csv?coc=IL-510&start=$START&end=$END&version=2026"
log "exporting over HTTP ($HEARTH)"
HTTP_S="$(curl -sf -o "$TMP/export.zip" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$URL")"
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
ZIP_MB=$(( $(stat -c %s "$TMP/export.zip") / 1048576 ))
"$HEARTH" validate-csv "$TMP/export.zip" >"$TMP/validate.txt" 2>&1 || { log "the export does not validate"; tail "$TMP/validate.txt"; exit 1; }
ROWS="$(python3 - "$TMP/export.zip" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
counts = {n[:-4]: z.read(n).count(b"\r\n") - 1 for n in z.namelist()}
raw = sum(i.file_size for i in z.infolist()) / 1048576
print(" ".join("%s=%d" % (n, c) for n, c in counts.items() if c > 0) + " (%.0f MiB of CSV)" % raw)
PY
)"
log "export: $ROWS"
# psql's \copy of the same rows as CSV, in the same run: the clients, stays and data of the
# CoC's projects in the window (no consent filter: the raw rows' cost).
STAYS_SQL="SELECT e.* FROM enrollments e JOIN projects p ON p.id = e.project_id JOIN agencies a ON a.id = p.agency_id WHERE a.coc_code = 'IL-510' AND e.entry_date <= DATE '$END' AND (e.exit_date IS NULL OR e.exit_date >= DATE '$START')"
T0=$(date +%s.%N)
"${PSQL[@]}" -d bench <<SQL
\\copy (SELECT c.* FROM clients c WHERE EXISTS (SELECT 1 FROM ($STAYS_SQL) s WHERE s.client_id = c.id) ORDER BY c.id) TO '$TMP/clients.csv' CSV HEADER
\\copy ($STAYS_SQL ORDER BY e.id) TO '$TMP/stays.csv' CSV HEADER
\\copy (SELECT e.id, e.exit_date, e.destination FROM ($STAYS_SQL) e WHERE e.exit_date IS NOT NULL ORDER BY e.id) TO '$TMP/exits.csv' CSV HEADER
\\copy (SELECT d.* FROM enrollment_data d WHERE d.kind = 'service' AND EXISTS (SELECT 1 FROM ($STAYS_SQL) s WHERE s.id = d.enrollment_id) ORDER BY d.id) TO '$TMP/services.csv' CSV HEADER
\\copy (SELECT d.* FROM enrollment_data d WHERE d.kind = 'current_living_situation' AND EXISTS (SELECT 1 FROM ($STAYS_SQL) s WHERE s.id = d.enrollment_id) ORDER BY d.id) TO '$TMP/cls.csv' CSV HEADER
SQL
COPY_S=$(echo "$(date +%s.%N) - $T0" | bc)
COPY_MB=$(( $(cat "$TMP"/*.csv | wc -c) / 1048576 ))
log "export over HTTP: $HTTP_S s ($ZIP_MB MiB zip); psql \\copy of the same rows: $COPY_S s ($COPY_MB MiB CSV); ratio $(echo "scale=2; $HTTP_S / $COPY_S" | bc)"
log "server peak RSS (VmHWM): $(( RSS_IDLE_KB / 1024 )) MiB before the export, $(( RSS_KB / 1024 )) MiB after"
log "binary: $HEARTH"
