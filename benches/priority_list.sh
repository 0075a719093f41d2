#!/usr/bin/env bash
# Benchmark: GET /v1/cocs/{code}/priority-list over a generated world (docs/benchmarks.md).
#
#   benches/priority_list.sh
#
# Knobs: BENCH_CLIENTS (default 1000000), BENCH_CE (active CE stays, default 200000),
# BENCH_DEEP (entries before the deep page, default 150000), BENCH_REQS (requests per
# concurrent loop, default 25), HEARTH_BIN (default target/release/hearth, else target/debug),
# BENCH_KEEP=1 (keep the statement log and the stopped cluster).
# Only 127.0.0.1 is contacted; the throwaway cluster and the server are stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${BENCH_CLIENTS:-1000000}"
CE="${BENCH_CE:-200000}"
DEEP="${BENCH_DEEP:-150000}"
REQS="${BENCH_REQS:-25}"
HEARTH="${HEARTH_BIN:-$ROOT/target/release/hearth}"
[ -x "$HEARTH" ] || HEARTH="$ROOT/target/debug/hearth"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
TMP="$(mktemp -d /tmp/hearth-plbench.XXXXXX)"
PGDATA="$TMP/pg"; SERVER_PID=""; PG_STARTED=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    local rc=$?; trap - EXIT
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null || true
    [ -n "$PG_STARTED" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    if [ "$rc" = 0 ] && [ "${BENCH_KEEP:-}" != 1 ]; then rm -rf "$TMP"; else log "logs and the stopped cluster in $TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
port() { echo $(( 20000 + RANDOM % 40000 )); }
PGPORT="$(port)"; mkdir -p "$TMP/sock"
[ "$(id -u)" = 0 ] && chown postgres "$TMP" "$TMP/sock"; chmod 755 "$TMP"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$TMP/sock'
shared_buffers = 256MB
synchronous_commit = off
log_min_duration_statement = 0
log_parameter_max_length = -1
CONF
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$TMP/pg.log" -w start >/dev/null; PG_STARTED=1
PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CREATE DATABASE bench"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench"
export HEARTH_JWT_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$HEARTH" migrate >/dev/null
log "generating $N clients, $CE active CE stays (generate_series; triggers off, list rows set-based)"
T0=$(date +%s)
"${PSQL[@]}" -d bench <<SQL
SET session_replication_role = replica;
INSERT INTO cocs (code, name) VALUES ('IL-510', 'Bench CoC'), ('WA-502', 'Other');
INSERT INTO agencies (id, coc_code, name, shares_data, participates_in_ce)
SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'IL-510', 'A' || g, g % 4 <> 0, true
  FROM generate_series(1, 20) g;
INSERT INTO projects (id, agency_id, name, project_type, ce_entry_point)
VALUES ('00000000-0000-4000-9000-000000000001', '00000000-0000-4000-8000-000000000001', 'CE', 14, true);
-- Clients: ids from integers; of the first $CE (the CE clients) 90% identified open with a
-- statewide ROI, 5% consent-refused open, 5% closed; the rest a mix.
INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user,
    identity_mode, visibility, first_name, last_name, name_quality, ssn_quality, dob_quality, veteran_status)
SELECT ('00000000-0000-4000-a000-' || lpad(g::text, 12, '0'))::uuid, 'B' || g,
       ('00000000-0000-4000-b000-' || lpad(g::text, 12, '0'))::uuid, 'IL-510',
       ('00000000-0000-4000-8000-' || lpad((1 + g % 20)::text, 12, '0'))::uuid, 'bench',
       CASE WHEN g % 20 = 1 THEN 'consent_refused' ELSE 'identified' END,
       CASE WHEN g % 20 = 2 THEN 'closed' WHEN g % 20 = 3 AND g > $CE THEN 'locked' ELSE 'open' END,
       CASE WHEN g % 20 = 1 THEN NULL ELSE 'First' || g END, CASE WHEN g % 20 = 1 THEN NULL ELSE 'Last' END,
       CASE WHEN g % 20 = 1 THEN 9 ELSE 1 END, 99, 99, g % 2
  FROM generate_series(1, $N) g;
INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, effective_from,
    scope_statewide, method, recorded_at)
SELECT gen_random_uuid(), c.id, c.created_by_agency, 'bench', current_date - 400, true, 'signed', now() - interval '2 days'
  FROM clients c WHERE c.visibility = 'open' AND c.identity_mode = 'identified';
INSERT INTO client_contributors (client_id, agency_id) SELECT id, created_by_agency FROM clients;
INSERT INTO enrollments (id, client_id, project_id, household_id, relationship_to_hoh, entry_date,
    entered_by_agency, entered_by_user, collected_on)
SELECT ('00000000-0000-4000-c000-' || lpad(g::text, 12, '0'))::uuid,
       ('00000000-0000-4000-a000-' || lpad(g::text, 12, '0'))::uuid,
       '00000000-0000-4000-9000-000000000001', gen_random_uuid(), 1, current_date - 1 - (g % 300),
       ('00000000-0000-4000-8000-' || lpad((1 + g % 20)::text, 12, '0'))::uuid, 'bench', current_date - 1 - (g % 300)
  FROM generate_series(1, $CE) g;
INSERT INTO ce_priority (coc_code, client_id, enrollment_id, household_id, entry_date, entry_agency,
    entry_collected_on, rank_key, priority_score, assessed_on, assessment_agency, assessment_collected_on,
    prioritization_status, refusal_count)
SELECT 'IL-510', e.client_id, e.id, e.household_id, e.entry_date, e.entered_by_agency, e.collected_on,
       COALESCE(-s.score, 'Infinity'), s.score, CASE WHEN s.score IS NOT NULL THEN current_date - 1 END,
       CASE WHEN s.score IS NOT NULL THEN e.entered_by_agency END,
       CASE WHEN s.score IS NOT NULL THEN current_date - 1 END, CASE WHEN s.score IS NOT NULL THEN 1 END, 0
  FROM (SELECT e.*, abs(hashtext(e.id::text)) AS h FROM enrollments e) e
  -- 80% assessed, scores 0.0 to 99.9 spread by a hash of the stay id.
  CROSS JOIN LATERAL (SELECT CASE WHEN e.h % 5 <> 0 THEN (e.h % 1000) / 10.0 END::float8 AS score) s;
INSERT INTO ce_list_log (coc_code, client_id, at, active_ce, visibility, identity_mode)
SELECT 'IL-510', c.id, now() - interval '2 days', true, c.visibility, c.identity_mode
  FROM ce_priority p JOIN clients c ON c.id = p.client_id;
SET session_replication_role = DEFAULT;
ANALYZE;
SQL
log "generated in $(( $(date +%s) - T0 )) s: $("${PSQL[@]}" -d bench -Atc "SELECT count(*) FROM clients") clients, $("${PSQL[@]}" -d bench -Atc "SELECT count(*) FROM ce_priority") list rows"
HPORT="$(port)"
HEARTH_BIND="127.0.0.1:$HPORT" HEARTH_LISTEN="127.0.0.1:$HPORT" "$HEARTH" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$HPORT/healthz" >/dev/null && break; sleep 0.2; done
TOKEN="$("$HEARTH" token --sub bench --role priority_list_reader --agency 00000000-0000-4000-8000-000000000004)"
URL="http://127.0.0.1:$HPORT/v1/cocs/IL-510/priority-list"
get() { curl -sf -H "Authorization: Bearer $TOKEN" "$1"; }
# The deep cursor: walk $DEEP entries in pages of 1000 (this is also the full pull's start).
log "walking to entry $DEEP"
CUR=""; n=0
while [ "$n" -lt "$DEEP" ]; do
    page="$(get "$URL?limit=1000${CUR:+&cursor=$CUR}")"
    CUR="$(printf '%s' "$page" | sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')"
    n=$(( n + 1000 ))
done
pct() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.5)+1; j=int(NR*0.99)+1; if (j>NR) j=NR; printf "p50 %.1f ms, p99 %.1f ms (n=%d)", a[i]*1000, a[j]*1000, NR}'; }
lat() {
    local url="$1"
    for _ in 1 2 3 4; do
        ( for _ in $(seq 1 "$REQS"); do curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$url"; done ) &
    done | pct
    wait
}
FIRST="$(lat "$URL?limit=100")"
DEEPL="$(lat "$URL?limit=100&cursor=$CUR")"
log "first page (100, 4 concurrent): $FIRST"
log "page after $DEEP entries (100, 4 concurrent): $DEEPL"
# Full pull over HTTP in pages of 1000, and psql's \copy of the same query in the same run. The
# client is a small Python loop that parses each page as JSON, as a partner would: wall time
# (its parsing included) and the time inside the requests (send, server, read the body).
cat >"$TMP/pull.py" <<'PY'
import json, sys, time, urllib.parse, urllib.request
url, token, since = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
t0, req_s, rows, cursor, as_of = time.monotonic(), 0.0, 0, None, ""
while True:
    q = {"limit": "1000"}
    if since:
        q["changed_since"] = since
    if cursor:
        q["cursor"] = cursor
    r0 = time.monotonic()
    with urllib.request.urlopen(urllib.request.Request(url + "?" + urllib.parse.urlencode(q),
                                headers={"Authorization": "Bearer " + token}), timeout=120) as r:
        body = r.read()
    req_s += time.monotonic() - r0
    page = json.loads(body)
    rows += len(page.get("items", [])) + len(page.get("removed", []))
    as_of = page.get("as_of", as_of)
    cursor = page.get("next_cursor")
    if not cursor:
        break
print(rows, "%.3f" % (time.monotonic() - t0), "%.3f" % req_s, as_of)
PY
read -r rows HTTP_S REQ_S AS_OF < <(python3 "$TMP/pull.py" "$URL" "$TOKEN")
[ -n "${AS_OF:-}" ] || { log "the full pull failed"; exit 1; }
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
# The first page's SQL, as the server sent it (from the statement log: a prepared statement,
# its parameters in the DETAIL line that follows), parameters inlined, without ORDER BY and LIMIT.
SQLTEXT="$(python3 - "$TMP/pg.log" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
entries = re.split(r"\n(?=\d{4}-\d\d-\d\d )", text)
tail = " ORDER BY p.rank_key, p.entry_date, p.client_id LIMIT "
for i, e in enumerate(entries):
    m = re.search(r"(?s)(?:execute [^:]+|statement): (SELECT p\.client_id, p\.rank_key.*)$", e)
    if not m or tail not in m.group(1) or "(p.rank_key, p.entry_date, p.client_id) >" in m.group(1):
        continue
    sql = " ".join(m.group(1).split())
    params = {}
    if i + 1 < len(entries) and "DETAIL:  parameters: " in entries[i + 1]:
        params = dict(re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", entries[i + 1]))
    sql = sql[: sql.index(tail)]
    print(re.sub(r"\$(\d+)\b", lambda p: params.get(p.group(1), "NULL"), sql))
    break
PY
)"
[ -n "$SQLTEXT" ] || { log "the list query was not found in the statement log"; exit 1; }
printf '%s' "$SQLTEXT" > "$TMP/list.sql"
T0=$(date +%s.%N)
"${PSQL[@]}" -d bench -c "\\copy ($SQLTEXT ORDER BY p.rank_key, p.entry_date, p.client_id) TO '/dev/null'"
COPY_S=$(echo "$(date +%s.%N) - $T0" | bc)
log "full pull: $rows entries over HTTP in $HTTP_S s (the requests alone $REQ_S s); psql \\copy of the same query $COPY_S s; ratio $(echo "scale=2; $HTTP_S / $COPY_S" | bc) (requests alone $(echo "scale=2; $REQ_S / $COPY_S" | bc)); server peak RSS $((RSS_KB / 1024)) MiB"
# Plans: the first page and the deep page use the list-order index, no OFFSET.
"${PSQL[@]}" -d bench -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) $SQLTEXT ORDER BY p.rank_key, p.entry_date, p.client_id LIMIT 101" | grep -E "Index Scan|Limit|Planning|Execution|Offset|Seq Scan" || true
K="$("${PSQL[@]}" -d bench -Atc "SELECT rank_key || ',' || entry_date || ',' || client_id FROM ce_priority ORDER BY rank_key, entry_date, client_id OFFSET $DEEP LIMIT 1")"
IFS=, read -r KR KD KC <<<"$K"
"${PSQL[@]}" -d bench -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) $SQLTEXT AND (p.rank_key, p.entry_date, p.client_id) > ('$KR'::float8, '$KD'::date, '$KC'::uuid) ORDER BY p.rank_key, p.entry_date, p.client_id LIMIT 101" | grep -E "Index Scan|Limit|Planning|Execution|Offset|Seq Scan" || true
# An incremental pull after 1,000 changes (new assessments, through the triggers).
"${PSQL[@]}" -d bench <<SQL
INSERT INTO enrollment_data (id, kind, enrollment_id, client_id, occurred_on, fields, entered_by_agency, entered_by_user, collected_on)
SELECT gen_random_uuid(), 'assessment', e.id, e.client_id, current_date, jsonb_build_object('priority_score', 50, 'assessment_kind', 'coordinated_entry', 'assessment_type', 3, 'assessment_level', 2, 'prioritization_status', 1, 'assessment_location', null),
       e.entered_by_agency, 'bench', current_date
  FROM enrollments e ORDER BY e.id LIMIT 1000;
SQL
read -r changes INC_S _ _ < <(python3 "$TMP/pull.py" "$URL" "$TOKEN" "$AS_OF")
log "incremental pull: $changes changes in $INC_S s (full pull $HTTP_S s; ratio $(echo "scale=3; $INC_S / $HTTP_S" | bc))"
log "binary: $HEARTH"
