#!/usr/bin/env bash
# Makes sure what building and running Hearth needs is installed: a C compiler, pkg-config and
# OpenSSL headers (libpq is built from source by pq-sys), CA certificates (cargo downloads crates),
# curl (the README's walk-through), and PostgreSQL's server binaries, so `hearth serve` (without
# DATABASE_URL) and the tests can run their own private cluster.
# Idempotent: on a machine that has everything it installs nothing.
# On Debian it installs the server package alone (postgresql-NN, not the `postgresql` meta-package)
# and, when it installs postgresql-common itself, turns off Debian's automatic "main" cluster
# first, so no system cluster is created or started on port 5432. Hearth never uses one.
set -euo pipefail

BUILD_PACKAGES=(gcc libc6-dev pkg-config libssl-dev ca-certificates curl)
CREATECLUSTER=/etc/postgresql-common/createcluster.conf

say() { echo "ensure-deps: $*"; }

have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

have_package() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

report() {
    local bin
    bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    say "build tools, curl and PostgreSQL $1 ($bin)"
}

if ! command -v apt-get >/dev/null 2>&1; then
    if have_postgres && command -v pkg-config >/dev/null 2>&1 && command -v cc >/dev/null 2>&1; then
        say "not a Debian-like system; found a C compiler, pkg-config and PostgreSQL"
        exit 0
    fi
    echo "ensure-deps: this is not a Debian-like system; install a C compiler, pkg-config, OpenSSL headers, CA certificates, curl and the PostgreSQL server (or set HEARTH_PG_BIN_DIR)" >&2
    exit 1
fi

missing=()
for p in "${BUILD_PACKAGES[@]}"; do
    have_package "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && have_postgres; then
    report present
    exit 0
fi

manual="apt-get update && apt-get install -y --no-install-recommends postgresql-common && pg_conftool $CREATECLUSTER set create_main_cluster false && apt-get install -y --no-install-recommends postgresql-15 ${BUILD_PACKAGES[*]}"
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    # Without a terminal nobody can answer a password prompt, so fail instead of hanging.
    if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
else
    echo "ensure-deps: missing ${missing[*]:-}${missing[*]:+ and }$(have_postgres || echo 'the PostgreSQL server'); as root, run: $manual" >&2
    exit 1
fi

step=0
run() {
    step=$((step + 1))
    say "[$step] $*"
    # apt's own output is shown, a line per package, so a slow mirror is visibly working.
    if ! "${as_root[@]+"${as_root[@]}"}" env DEBIAN_FRONTEND=noninteractive "$@"; then
        echo "ensure-deps: '$*' failed; as root, run: $manual" >&2
        exit 1
    fi
}
APT_GET=(apt-get -o Dpkg::Use-Pty=0 -o APT::Color=0)

run "${APT_GET[@]}" update
if ! have_postgres; then
    # The server package `postgresql` stands for on this release (postgresql-15 on Debian 12).
    server=$(apt-cache depends postgresql 2>/dev/null \
        | sed -n 's/^ *Depends: \(postgresql-[0-9][0-9.]*\)$/\1/p' | head -n 1)
    if [ -z "$server" ]; then
        echo "ensure-deps: cannot tell which postgresql-NN package this release has (apt-cache depends postgresql)" >&2
        exit 1
    fi
    if [ ! -e "$CREATECLUSTER" ]; then
        # postgresql-common alone creates no cluster; turning the option off before the server
        # package is configured keeps Debian from creating and starting "main" on port 5432.
        run "${APT_GET[@]}" install -y --no-install-recommends postgresql-common
        run pg_conftool "$CREATECLUSTER" set create_main_cluster false
    elif ! grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*(false|off)' "$CREATECLUSTER"; then
        say "note: $CREATECLUSTER exists and leaves create_main_cluster on, so Debian will create a '$server main' cluster on port 5432 (Hearth does not use it; 'pg_dropcluster --stop ${server#postgresql-} main' removes it)"
    fi
    missing+=("$server")
fi
run "${APT_GET[@]}" install -y --no-install-recommends "${missing[@]}"

if ! have_postgres || ! command -v pkg-config >/dev/null 2>&1 || ! command -v cc >/dev/null 2>&1; then
    echo "ensure-deps: installed ${missing[*]} but something is still missing (initdb, pkg-config or cc)" >&2
    exit 1
fi
report installed
