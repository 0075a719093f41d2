#!/usr/bin/env bash
# Benchmark: importing a HUD HMIS CSV export (docs/benchmarks.md).
#
#   benches/hmis_import.sh
#
# Generates an export of BENCH_CLIENTS clients (default 10000; each with BENCH_STAYS enrollments,
# default 2, and a row in every enrollment-level file per enrollment, every other one exited) with `hearth sample-csv`, imports it with
# `hearth import-csv` into an empty database, imports it again (nothing changes), and, as the
# baseline in the same run, loads the same files with psql's `\copy FROM` into staging tables of
# text columns (three times; the median is the baseline). Reports times, the ratios, rows per
# second and the import's peak RSS.
# HEARTH_BIN (default target/release/hearth, else target/debug). Only 127.0.0.1 is contacted;
# the throwaway cluster is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${BENCH_CLIENTS:-10000}"
STAYS="${BENCH_STAYS:-2}"
BENCH_TMP_NAME=hearth-importbench
# shellcheck source=benches/hmis_bench_world.sh
source "$ROOT/benches/hmis_bench_world.sh"

log "generating an export of $N clients, $STAYS enrollments each"
"$HEARTH" sample-csv --clients "$N" --stays "$STAYS" --coc IL-510 --out "$TMP/export.zip" 2>/dev/null
mkdir "$TMP/files" && (cd "$TMP/files" && unzip -q ../export.zip)
ROWS=$(for f in "$TMP"/files/*.csv; do tail -n +2 "$f" | wc -l; done | paste -sd+ | bc)
SIZE=$(du -sk "$TMP/files" | cut -f1)
log "$ROWS data rows in 24 files, ${SIZE} KiB"

log "import into an empty database"
T0=$(now)
/usr/bin/time -f '%M' -o "$TMP/rss" "$HEARTH" import-csv "$TMP/export.zip" --agency "$AGENCY" >"$TMP/import.out" 2>"$TMP/import.err"
T1=$(now)
grep -E '^(Client|Enrollment|Services):' "$TMP/import.out" >&2
log "import again (nothing changes)"
"$HEARTH" import-csv "$TMP/export.zip" --agency "$AGENCY" >"$TMP/again.out" 2>&1
T2=$(now)
grep -E '^Client:' "$TMP/again.out" >&2

log "baseline: \\copy FROM of the same files into staging tables (text columns)"
{
    echo "SET client_min_messages = warning;"
    for f in "$TMP"/files/*.csv; do
        t="stage_$(basename "$f" .csv | tr 'A-Z' 'a-z')"
        cols=$(head -1 "$f" | tr -d '\r' | sed 's/"//g; s/,/ text, /g; s/$/ text/')
        echo "DROP TABLE IF EXISTS $t; CREATE UNLOGGED TABLE $t ($cols);"
        echo "\\copy $t FROM '$f' WITH (FORMAT csv, HEADER true)"
    done
} >"$TMP/stage.sql"
# Three times (the machine is noisy): the median is the baseline.
COPIES=()
for _ in 1 2 3; do
    T3=$(now)
    "${PSQL[@]}" -d bench -f "$TMP/stage.sql"
    T4=$(now)
    COPIES+=("$(python3 -c "print($T4 - $T3)")")
done
COPY_S=$(printf '%s\n' "${COPIES[@]}" | sort -g | sed -n 2p)
log "\\copy runs: ${COPIES[*]} s"
T4=$(now)
log "the validator alone (hearth validate-csv), the first pass of every import"
"$HEARTH" validate-csv "$TMP/export.zip" >/dev/null 2>&1 || true
T5=$(now)

python3 - "$T0" "$T1" "$T2" "$COPY_S" "$T4" "$T5" "$ROWS" "$(cat "$TMP/rss")" <<'PY'
import sys
t0, t1, t2, copy, t4, t5, rows, rss = map(float, sys.argv[1:])
imp, again, val = t1 - t0, t2 - t1, t5 - t4
print(f"import (empty database): {imp:.2f} s, {rows/imp:,.0f} rows/s, peak RSS {rss/1024:.0f} MiB")
print(f"import again (unchanged): {again:.2f} s")
print(f"\\copy FROM into staging tables: {copy:.2f} s (median of 3)")
print(f"validator alone: {val:.2f} s")
print(f"ratio import / \\copy: {imp/copy:.1f}x")
print(f"ratio re-import / \\copy: {again/copy:.1f}x")
print(f"ratio validator / \\copy: {val/copy:.1f}x")
PY
