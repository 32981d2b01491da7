#!/usr/bin/env bash
# Runs every suite after scripts/setup.sh: lint, vitest, pytest (real kernel, real Slurm),
# Galata in Debian's Chromium. Each suite writes JUnit XML to .test-runtime/results/;
# the last line is the summary: "N passed, N failed, N skipped".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
RT="$ROOT/.test-runtime"
RESULTS="$RT/results"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

log() { printf '\n\033[1m[test] %s\033[0m\n' "$*"; }
crashed=()

# One JUnit file per lint tool, so lint failures count in the summary.
lint() {
  local name=$1; shift
  local out rc
  out=$("$@" 2>&1); rc=$?
  printf '%s\n' "$out" | tail -n 40
  python3 "$ROOT/scripts/junit_summary.py" --write-check "$RESULTS/lint-$name.xml" "$name" "$rc" <<<"$out"
}

log "lint: eslint, prettier, ruff"
lint eslint npx eslint .
lint prettier npx prettier --check .
lint ruff-check ruff check .
lint ruff-format ruff format --check .
lint tsc-tests npm run --silent test:types
# The documentation: Sphinx + MyST, warnings as errors (scripts/docs.sh).
lint docs bash scripts/docs.sh "$RT/docs-html"

log "vitest"
npx vitest run --reporter=default --reporter=junit --outputFile.junit="$RESULTS/vitest.xml" || true
[ -f "$RESULTS/vitest.xml" ] || crashed+=(vitest)

log "pytest (real kernels, real Slurm)"
(cd kernels-bridge && python -m pytest --junitxml="$RESULTS/pytest.xml") || true
[ -f "$RESULTS/pytest.xml" ] || crashed+=(pytest)

log "Galata UI tests in Debian's Chromium"
# The real Slurm for the job and Dask UI tests (already running after pytest: idempotent).
bash scripts/slurm/start.sh || crashed+=(slurm)
export SLURM_CONF="${ESPRI_SLURM_DIR:-/tmp/espri-vre-slurm}/slurm.conf"
export ESPRI_VRE_DEMO_DIR="$RT/demo"
python -m espri_vre.demo build "$ESPRI_VRE_DEMO_DIR" || crashed+=(demo-build)
(cd ui-tests && npx playwright test) || true
[ -f "$RESULTS/galata.xml" ] || crashed+=(galata)

log "summary"
python3 "$ROOT/scripts/junit_summary.py" --crashed "${crashed[*]:-}" "$RESULTS"/*.xml
