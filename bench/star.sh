#!/usr/bin/env bash
# Star build/teardown: vnet-sys against iproute2 -batch, same invocation.
# Usage: bench/star.sh [REPS] [N...]     (default: 3 reps, N = 100 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -q -p vnet-sys --bench star -- "$@"
