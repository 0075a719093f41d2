#!/usr/bin/env bash
# Proves the contract usable, not only consistent with itself (CI runs it after the tests):
#  1. openapi/openapi.json validates as OpenAPI 3.1 (openapi-spec-validator);
#  2. a Hearth server on a throwaway embedded cluster, with the demo data, serves it;
#  3. a Python client generated from it (openapi-python-client) creates a CoC, an agency, a
#     project, a client, reads the client, searches, enrolls, adds a contact and a document and
#     grants an ROI (scripts/contract-smoke.py);
#  4. schemathesis runs against the served /openapi.json with the checks not_a_server_error,
#     status_code_conformance, response_schema_conformance and content_type_conformance, once
#     as a system admin (with X-Access-Reason) and once as a case worker.
# Any failure fails the script. The Python tools are pinned and installed into a virtualenv
# under the system temp dir (reused across runs). Bounded to a few minutes:
# HEARTH_CONTRACT_MAX_TIME (seconds per schemathesis run, default 75) and
# HEARTH_CONTRACT_SEED (default fixed, for reproducible runs) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

pins=(openapi-spec-validator==0.9.0 openapi-python-client==0.29.1 schemathesis==4.32.5)
max_time=${HEARTH_CONTRACT_MAX_TIME:-75}
seed=${HEARTH_CONTRACT_SEED:-20261130}
checks=not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance

say() { printf '\n== contract: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Python with venv and pip -------------------------------------------------------------
python=""
for p in python3.11 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
        python=$p
        break
    fi
done
if [ -z "$python" ] || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing python3 and python3-venv (Debian packages)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
    python=python3
fi
tmp=${TMPDIR:-/tmp}
venv="$tmp/hearth-contract-venv-$("$python" -c 'import sys; print("%d%d" % sys.version_info[:2])')-$(printf '%s\n' "${pins[@]}" | sha256sum | cut -c1-12)"
if [ ! -x "$venv/bin/st" ]; then
    say "installing ${pins[*]} into $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
fi

# --- 1. the committed contract validates --------------------------------------------------
say "validating openapi/openapi.json"
"$venv/bin/openapi-spec-validator" openapi/openapi.json

# --- 2. a server on a throwaway cluster ---------------------------------------------------
say "building hearth"
cargo build --locked --quiet
hearth="$root/target/debug/hearth"
work=$(mktemp -d "$tmp/hearth-contract-XXXXXX")
chmod 755 "$work" # the cluster runs as another user when we are root
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HEARTH_DATA_DIR="$work/data" HEARTH_BIND="127.0.0.1:$port" HEARTH_WORKERS=2
export HEARTH_JWT_SECRET="contract-check-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export HEARTH_LOG_FORMAT=json RUST_LOG=${RUST_LOG:-warn,actix_web_prom=error}
logs="$root/target/contract-check" # the server log and schemathesis' output stay here
rm -rf "$logs"
mkdir -p "$logs"
unset DATABASE_URL
mkdir -m 755 "$HEARTH_DATA_DIR"
server_pid=""
cleanup() {
    local rc=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    # The server stops the cluster it started; make sure, then remove everything.
    if [ -f "$HEARTH_DATA_DIR/pg/postmaster.pid" ]; then
        pid=$(head -1 "$HEARTH_DATA_DIR/pg/postmaster.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ $rc -ne 0 ] && [ -f "$logs/server.log" ]; then
        echo "---- server log (last 20 lines; all of it and schemathesis' output in $logs)" >&2
        tail -20 "$logs/server.log" >&2
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT INT TERM
say "starting hearth serve --demo on 127.0.0.1:$port (throwaway cluster under $work)"
"$hearth" serve --demo >"$logs/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
ready() { "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$url/readyz" 2>/dev/null; }
for _ in $(seq 1 600); do
    ready && break
    kill -0 "$server_pid" 2>/dev/null || { echo "hearth serve exited" >&2; exit 1; }
    sleep 0.1
done
ready || { echo "hearth serve is not ready after 60 s" >&2; exit 1; }
admin=$("$hearth" token --sub contract-admin --role system_admin)

# --- 3. a generated client, and a smoke run with it ---------------------------------------
say "generating a Python client with openapi-python-client"
# A zip is bytes to a generated client, as application/octet-stream is.
printf 'post_hooks: []\npackage_name_override: hearth_client\ncontent_type_overrides:\n  application/zip: application/octet-stream\n' >"$work/opc.yaml"
"$venv/bin/openapi-python-client" generate --path openapi/openapi.json --meta none \
    --output-path "$work/hearth_client" --config "$work/opc.yaml" --fail-on-warning >"$logs/generate.log" 2>&1 ||
    { cat "$logs/generate.log" >&2; exit 1; }
say "smoke run through the generated client"
ids=$(cd "$work" && PYTHONPATH="$work" HEARTH_URL="$url" HEARTH_ADMIN_TOKEN="$admin" \
    HEARTH_TOKEN_CMD="$hearth token --sub contract-worker --role case_worker --agency" \
    "$venv/bin/python" "$root/scripts/contract-smoke.py")
eval "$ids" # HEARTH_COC, _AGENCY, _PROJECT, _CLIENT, _ENROLLMENT, _CONTACT, _DOCUMENT, _CONSENT
worker=$("$hearth" token --sub contract-worker --role case_worker --agency "$HEARTH_AGENCY")

# --- 4. schemathesis against the served contract ------------------------------------------
# Path ids point at the records the smoke run made, so operations reach past the 404.
cat >"$work/schemathesis.toml" <<EOF
[[operations]]
include-path-regex = "^/v1/clients/\\\\{id\\\\}"
parameters = { "path.id" = "$HEARTH_CLIENT", "path.contact_id" = "$HEARTH_CONTACT", "path.document_id" = "$HEARTH_DOCUMENT", "path.consent_id" = "$HEARTH_CONSENT" }

[[operations]]
include-path-regex = "^/v1/enrollments/\\\\{id\\\\}"
parameters = { "path.id" = "$HEARTH_ENROLLMENT" }

[[operations]]
include-path-regex = "^/v1/cocs/\\\\{code\\\\}"
parameters = { "path.code" = "$HEARTH_COC" }

[[operations]]
include-path = "/v1/agencies/{id}"
parameters = { "path.id" = "$HEARTH_AGENCY" }

[[operations]]
include-path = "/v1/projects/{id}"
parameters = { "path.id" = "$HEARTH_PROJECT" }
EOF
# Bodies of application/zip (the HMIS CSV import): any bytes, for the edge to refuse or a job
# to report.
cat >"$work/hearth_st_hooks.py" <<'HOOKS'
from hypothesis import strategies as st
import schemathesis

schemathesis.openapi.media_type("application/zip", st.binary(max_size=4096))
HOOKS
summary="$logs/summary.txt"
: >"$summary"
# One worker: with two, hypothesis' lambda descriptions race in Python's ast module and
# schemathesis reports a "Runtime Error" (AST constructor recursion depth mismatch) now and then.
run_st() {
    local who=$1
    shift
    say "schemathesis as $who (at most ${max_time}s)"
    local out="$logs/schemathesis-$who.txt" rc=0
    (cd "$work" && PYTHONPATH="$work" SCHEMATHESIS_HOOKS=hearth_st_hooks "$venv/bin/st" --config-file "$work/schemathesis.toml" run "$url/openapi.json" \
        --checks "$checks" --phases examples,coverage,fuzzing --max-time "$max_time" \
        --seed "$seed" --workers 1 --request-timeout 20 --request-retries 2 --output-truncate true \
        --suppress-health-check all "$@") >"$out" 2>&1 || rc=$?
    local ops cases
    ops=$(grep -oE 'Tested: [0-9]+' "$out" | head -1 | grep -oE '[0-9]+' || echo "?")
    cases=$(grep -A1 '^Test cases:' "$out" | tail -1 | sed 's/^ *//')
    echo "schemathesis as $who: $ops operations; $cases" | tee -a "$summary" >&2
    if [ $rc -ne 0 ]; then
        sed -n '/^=* *FAILURES/,$p' "$out" | head -200 >&2
        echo "schemathesis as $who failed (exit $rc); its whole output: $out" >&2
        return 1
    fi
}
failed=0
run_st system_admin -H "Authorization: Bearer $admin" -H "X-Access-Reason: schemathesis contract check" || failed=1
run_st case_worker -H "Authorization: Bearer $worker" || failed=1
[ $failed = 0 ] || { echo "contract checks failed" >&2; exit 1; }
say "contract checks passed"
