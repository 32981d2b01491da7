#!/usr/bin/env bash
# Runs every suite after scripts/setup.sh: lint, vitest, pytest (real kernel, real Slurm),
# Galata in Debian's Chromium. Each suite writes JUnit XML to .test-runtime/results/;
# scripts/junit_summary.py lists failures, flaky tests and skips (with their reasons, checked
# against scripts/expected-skips.json) and each suite's wall time, and its last line is the
# summary: "N passed, N failed, N skipped".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
RT="$ROOT/.test-runtime"
RESULTS="$RT/results"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
RUN_START=$EPOCHREALTIME

log() { printf '\n\033[1m[test] %s\033[0m\n' "$*"; }
crashed=()
times=()

# The wall time of suite $1 since $2 (an $EPOCHREALTIME), printed beside it in the summary.
took() {
  times+=(--time "$1=$(awk -v a="$2" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')")
}

# The tracked files as the run must leave them: their status and the content of the changed
# ones (a file already modified before the run must not change again either).
tracked_state() {
  git --no-optional-locks status --porcelain --untracked-files=no
  git --no-optional-locks diff --name-only -z HEAD | while IFS= read -r -d '' file; do
    [ -f "$file" ] && sha256sum "$file"
  done
}
tracked_state >"$RT/tracked-before.txt"

# A check that is a command counts as one JUnit test case, in $RESULTS/<name>.xml.
check() {
  local name=$1; shift
  local out rc start=$EPOCHREALTIME
  out=$("$@" 2>&1); rc=$?
  printf '%s\n' "$out" | tail -n 40
  python3 "$ROOT/scripts/junit_summary.py" --write-check "$RESULTS/$name.xml" "$name" "$rc" <<<"$out"
  took "$name" "$start"
}

# What the Galata tests need, made before the suites start: the demo (its data and
# configuration) and, for the job and Dask UI tests, the real Slurm (pytest's set-up starts the
# same one; idempotent).
export SLURM_CONF="${ESPRI_SLURM_DIR:-/tmp/espri-vre-slurm}/slurm.conf"
export ESPRI_VRE_DEMO_DIR="$RT/demo"
python -m espri_vre.demo build "$ESPRI_VRE_DEMO_DIR" >"$RT/demo-build.log" 2>&1 \
  || { cat "$RT/demo-build.log"; crashed+=(demo-build); }

# pytest mostly waits (Slurm, kernels, servers: about 0.3 of a core over a run in one process),
# so it runs as two processes at once (tests/conftest.py, ESPRI_VRE_PYTEST_PART): the modules that
# use the one-node Slurm, one test after another, and the others in two workers (pytest-xdist,
# each module whole on one worker). Then, on the Slurm pytest no longer uses, the Galata specs
# that submit to it (project `slurm`, one at a time) and the ones that need a server to
# themselves (project `alone`: job-end notifications are told once, in whichever page asks
# first), on a second JupyterLab server (port 8990, its own job store), then the lint. Beside
# all of that, one after the other: vitest, then the Galata specs that need neither Slurm nor a
# server to themselves (project `ui`, two workers, port 8988). Outputs are printed at the end.
log "pytest (real kernels, real Slurm), Galata slurm and alone, the lint; beside them vitest then Galata ui"
start=$EPOCHREALTIME
(
  npx vitest run --reporter=default --reporter=junit --outputFile.junit="$RESULTS/vitest.xml" \
    >"$RT/vitest.log" 2>&1
  echo "$EPOCHREALTIME" >"$RT/vitest.end"
  (cd ui-tests && ESPRI_VRE_GALATA_REPORT=galata.xml npx playwright test --project ui) \
    >"$RT/galata-ui.log" 2>&1
  echo "$EPOCHREALTIME" >"$RT/galata-ui.end"
) &
beside_pid=$!
(
  cd kernels-bridge
  ESPRI_VRE_PYTEST_PART=slurm python -m pytest --junitxml="$RESULTS/pytest-slurm.xml" \
    >"$RT/pytest-slurm.log" 2>&1
  echo "$EPOCHREALTIME" >"$RT/pytest-slurm.end"
) &
slurm_pid=$!
(cd kernels-bridge && ESPRI_VRE_PYTEST_PART=others \
  python -m pytest -n 2 --dist loadfile --junitxml="$RESULTS/pytest.xml") 2>&1 \
  | tee "$RT/pytest.log" || true
[ -f "$RESULTS/pytest.xml" ] || crashed+=(pytest)
took pytest "$start"
wait "$slurm_pid"
log "pytest: the modules that use Slurm (beside the others)"
cat "$RT/pytest-slurm.log"
[ -f "$RESULTS/pytest-slurm.xml" ] || crashed+=(pytest-slurm)
times+=(--time "pytest-slurm=$(awk -v a="$start" -v b="$(cat "$RT/pytest-slurm.end")" 'BEGIN { printf "%.1f", b - a }')")

log "Galata: project slurm, then project alone (a second server, beside Galata ui)"
bash scripts/slurm/start.sh || crashed+=(slurm)
for project in slurm alone; do
  start_project=$EPOCHREALTIME
  (cd ui-tests && ESPRI_VRE_TEST_PORT=8990 ESPRI_VRE_GALATA_REPORT="galata-$project.xml" \
    npx playwright test --project "$project" --no-deps) || true
  [ -f "$RESULTS/galata-$project.xml" ] || crashed+=("galata-$project")
  took "galata-$project" "$start_project"
done

log "lint: eslint, prettier, ruff, machine paths"
check lint-eslint npx eslint .
check lint-prettier npx prettier --check .
check lint-ruff-check ruff check .
check lint-ruff-format ruff format --check .
check lint-tsc-tests npm run --silent test:types
check lint-machine-paths python3 scripts/check_paths.py
# The documentation: Sphinx + MyST, warnings as errors (scripts/docs.sh).
check lint-docs bash scripts/docs.sh "$RT/docs-html"

wait "$beside_pid"
log "vitest"
cat "$RT/vitest.log"
[ -f "$RESULTS/vitest.xml" ] || crashed+=(vitest)
times+=(--time "vitest=$(awk -v a="$start" -v b="$(cat "$RT/vitest.end")" 'BEGIN { printf "%.1f", b - a }')")
log "Galata UI tests in Debian's Chromium: project ui (after vitest)"
cat "$RT/galata-ui.log"
[ -f "$RESULTS/galata.xml" ] || crashed+=(galata)
times+=(--time "galata=$(awk -v a="$(cat "$RT/vitest.end")" -v b="$(cat "$RT/galata-ui.end")" 'BEGIN { printf "%.1f", b - a }')")

log "tracked files unchanged by the run"
# Screenshots go to .test-runtime/screenshots; docs/images changes only by npm run docs:images.
tracked_state >"$RT/tracked-after.txt"
check check-tracked-files diff "$RT/tracked-before.txt" "$RT/tracked-after.txt"

# A suite that stopped without its report (a crash, a kill) is told again where the summary is
# read: the end of its own output says why it stopped.
for suite in "${crashed[@]}"; do
  if [ -f "$RT/$suite.log" ]; then
    log "$suite stopped without its report; the end of its output"
    tail -n 60 "$RT/$suite.log"
  fi
done

log "summary"
took total "$RUN_START"
python3 "$ROOT/scripts/junit_summary.py" --crashed "${crashed[*]:-}" "${times[@]}" "$RESULTS"/*.xml
