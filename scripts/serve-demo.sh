#!/usr/bin/env bash
# Starts Hearth on the embedded default database with the demo data loaded: installs what is
# missing (Debian packages), builds (the first build takes about 7 minutes on 2 cores; cargo shows
# its progress), then serves on HEARTH_BIND (default 127.0.0.1:8080) until Ctrl-C.
# The data lives in HEARTH_DATA_DIR, by default /var/lib/hearth as root and
# ~/.local/share/hearth otherwise (README, "Where the data lives").
set -euo pipefail
cd "$(dirname "$0")/.."
echo "serve-demo: [1/3] checking the packages Hearth needs"
bash scripts/ensure-deps.sh
echo "serve-demo: [2/3] building Hearth (the first build takes about 7 minutes on 2 idle cores)"
cargo build --locked
echo "serve-demo: [3/3] starting Hearth with the demo data (Ctrl-C stops it)"
exec cargo run --locked --quiet -- serve --demo
