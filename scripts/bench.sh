#!/usr/bin/env bash
# Runs the benchmarks (bench/bench_*.py) and writes docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT/bench"
exec "$ROOT/.venv/bin/python" harness.py "$@"
