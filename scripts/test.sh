#!/usr/bin/env bash
# Runs every test: unit tests, the consent engine's tables and properties, and the integration
# tests against a real PostgreSQL (DATABASE_URL if set, else a throwaway cluster the tests start).
# The first run builds the tests (about 7 minutes on 2 cores; cargo shows its progress).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec cargo test --locked "$@"
