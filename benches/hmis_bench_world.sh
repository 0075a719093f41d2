# Sourced by the HMIS CSV benchmarks (hmis_import.sh, hmis_export_importers.sh): picks the binary,
# starts a throwaway PostgreSQL cluster on a random loopback port (stopped on exit; its logs kept
# in $TMP when the run fails), creates the database `bench`, migrates it and adds CoC IL-510 with
# one sharing agency, $AGENCY. Expects ROOT and BENCH_TMP_NAME (the temporary directory's prefix).
# Sets HEARTH, PG_BIN, TMP, PSQL (an array), DATABASE_URL, AGENCY; defines log and now.
HEARTH="${HEARTH_BIN:-$ROOT/target/release/hearth}"
[ -x "$HEARTH" ] || HEARTH="$ROOT/target/debug/hearth"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
TMP="$(mktemp -d "/tmp/$BENCH_TMP_NAME.XXXXXX")"
PGDATA="$TMP/pg"; PG_STARTED=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    local rc=$?; trap - EXIT
    [ -n "$PG_STARTED" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    if [ "$rc" = 0 ]; then rm -rf "$TMP"; else log "logs in $TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
PGPORT=$(( 20000 + RANDOM % 40000 )); mkdir -p "$TMP/sock"
[ "$(id -u)" = 0 ] && chown postgres "$TMP" "$TMP/sock"; chmod 755 "$TMP"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$TMP/sock'
shared_buffers = 256MB
CONF
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$TMP/pg.log" -w start >/dev/null; PG_STARTED=1
PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CREATE DATABASE bench"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench"
export RUST_LOG=warn HEARTH_DATA_DIR="$TMP/data"
"$HEARTH" migrate >/dev/null
AGENCY=00000000-0000-4000-8000-0000000000a1
"${PSQL[@]}" -d bench -c "INSERT INTO cocs (code, name) VALUES ('IL-510', 'Bench CoC');
  INSERT INTO agencies (id, coc_code, name, shares_data) VALUES ('$AGENCY', 'IL-510', 'Bench agency', true);"
now() { date +%s.%N; }
log "binary: $HEARTH"
