#!/usr/bin/env bash
# Runs every test: unit tests, the consent engine's tables and properties, and the integration
# tests against a real PostgreSQL (DATABASE_URL if set, else a throwaway cluster the tests start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec cargo test --locked "$@"
