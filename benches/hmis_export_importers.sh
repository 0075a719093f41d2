#!/usr/bin/env bash
# Benchmark: an HMIS CSV export of a CoC into which many agencies imported (docs/benchmarks.md).
#
#   BENCH_CLIENTS=10000 BENCH_AGENCIES=70 benches/hmis_export_importers.sh
#
# Imports a generated export of BENCH_CLIENTS clients (`hearth sample-csv`) into one agency and
# times `hearth export-csv` of the CoC; then makes BENCH_AGENCIES - 1 more agencies of the CoC
# importers (each with one imported source id) and times the same export again. Every kept row's
# key is written unique per agency when another importer of the CoC imported the same id in the
# same file (`hmis_csv::export_ids`), so the second export asks that of each row against every
# other importer. The ratio second / first is the figure: it stays near 1 when that question is
# one probe whatever the number of importers.
# HEARTH_BIN (default target/release/hearth, else target/debug). Only 127.0.0.1 is contacted;
# the throwaway cluster is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${BENCH_CLIENTS:-10000}"
AGENCIES="${BENCH_AGENCIES:-70}"
BENCH_TMP_NAME=hearth-exportimporters
# shellcheck source=benches/hmis_bench_world.sh
source "$ROOT/benches/hmis_bench_world.sh"
"$HEARTH" sample-csv --clients "$N" --coc IL-510 --out "$TMP/sample.zip" 2>/dev/null
"$HEARTH" import-csv "$TMP/sample.zip" --agency "$AGENCY" >/dev/null 2>&1
ROWS=$("${PSQL[@]}" -d bench -tAc "SELECT count(*) FROM hmis_rows")
log "$N clients imported: $ROWS kept rows"
export_once() {
    local t0 t1
    t0=$(now)
    "$HEARTH" export-csv --coc IL-510 --start 2000-01-01 --end 2099-12-31 --out "$TMP/out.zip" \
        --reason "benchmark" >/dev/null 2>&1
    t1=$(now)
    python3 -c "print($t1 - $t0)"
}
ONE=$(export_once)
log "export, 1 importing agency: $ONE s"
"${PSQL[@]}" -d bench -c "INSERT INTO agencies (id, coc_code, name, shares_data)
    SELECT gen_random_uuid(), 'IL-510', 'Importer ' || g, true FROM generate_series(2, $AGENCIES) g;
  INSERT INTO import_sources (agency_id, file, source_id, target_id, row_hash)
    SELECT id, 'Household', 'H-' || name, gen_random_uuid(), 'x' FROM agencies WHERE name LIKE 'Importer %';"
MANY=$(export_once)
log "export, $AGENCIES importing agencies: $MANY s"
python3 -c "print(f'ratio {$AGENCIES} importers / 1: {$MANY / $ONE:.2f}x')"
