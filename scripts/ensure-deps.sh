#!/usr/bin/env bash
# Makes sure what building and running Hearth needs is installed: a C compiler, pkg-config and
# OpenSSL headers (libpq is built from source by pq-sys), and PostgreSQL server binaries, so
# `hearth serve` (without DATABASE_URL) and the tests can run their own private cluster.
# Idempotent: on a machine that has everything it installs nothing.
# It never starts, stops or reconfigures the system's own cluster: hearth does not use it.
set -euo pipefail

PACKAGES=(postgresql postgresql-contrib pkg-config libssl-dev gcc libc6-dev)

installed() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null \
        && command -v pkg-config >/dev/null 2>&1 \
        && command -v cc >/dev/null 2>&1 \
        && [ -f /usr/include/openssl/ssl.h ]
}

report() {
    local bin
    bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    echo "ensure-deps: build tools and PostgreSQL $1 ($bin)"
}

if installed; then
    report present
    exit 0
fi

manual="apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-deps: missing build tools or PostgreSQL, and this is not a Debian-like system; install a C compiler, pkg-config, OpenSSL headers and the PostgreSQL server (or set HEARTH_PG_BIN_DIR)" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    # Without a terminal nobody can answer a password prompt, so fail instead of hanging.
    if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
else
    echo "ensure-deps: build tools or PostgreSQL are missing; as root, run: $manual" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
    if ! "${as_root[@]+"${as_root[@]}"}" env DEBIAN_FRONTEND=noninteractive "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "ensure-deps: '$*' failed; as root, run: $manual" >&2
        exit 1
    fi
}

run apt-get update
run apt-get install -y --no-install-recommends "${PACKAGES[@]}"

if ! installed; then
    echo "ensure-deps: installed ${PACKAGES[*]} but something is still missing (initdb, pkg-config, cc or openssl/ssl.h)" >&2
    exit 1
fi
report installed
