#!/usr/bin/env bash
# Starts Hearth on the embedded default database (./.hearth/pg) with the demo data loaded.
# Installs what is missing first (Debian packages), builds, then serves on HEARTH_BIND
# (default 127.0.0.1:8080) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec cargo run --locked --quiet -- serve --demo
