#!/usr/bin/env bash
# Installs what is missing and builds the suite; fast when nothing changed.
# Used by `npm run demo`, `npm test` and `npm run bench` (see README.md).
#   - Debian packages through apt-get when run as root (Chromium, Slurm, munge, OpenSSH's sshd)
#   - npm workspaces (npm ci against package-lock.json)
#   - a Python virtual environment in .venv with kernels-bridge installed in editable mode
#   - the TypeScript build and the labextensions, linked into .venv (like `jupyter labextension develop`)
# Each step keeps a stamp (a hash of its inputs) in .stamps/ and is skipped when the stamp matches.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
mkdir -p .stamps
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
stamp_ok() { [ -f ".stamps/$1" ] && [ "$(cat ".stamps/$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" > ".stamps/$1"; }

# 1. Debian packages ---------------------------------------------------------
DEBS=(chromium munge slurmctld slurmd slurm-client openssh-server)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "warning: missing Debian packages (${missing[*]}); run as root or install them: the UI tests need chromium, the job tests need Slurm"
  fi
fi

# 2. npm workspaces ----------------------------------------------------------
npm_hash=$(hash_of package.json package-lock.json extensions/*/package.json ui-tests/package.json)
if [ ! -d node_modules ] || ! stamp_ok npm "$npm_hash"; then
  log "installing npm packages"
  # npm ci installs exactly the lock; when npm judges the lock out of step with package.json
  # (npm 11 drops optional platform packages from locks it writes itself), npm install mends it.
  if [ ! -f package-lock.json ] || ! npm ci --no-audit --no-fund --loglevel=error; then
    log "npm ci refused the lock file; running npm install instead"
    npm install --no-audit --no-fund --loglevel=error
  fi
  stamp_set npm "$npm_hash"
fi

# 3. Python virtual environment ----------------------------------------------
PY=""
for cand in python3.11 python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then PY=$(command -v "$cand"); break; fi
done
[ -n "$PY" ] || die "Python 3.11 or newer is needed (python3.11 or python3 on PATH)"
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PY"
  "$PY" -m venv .venv
  # uv installs the rest: it downloads and unpacks in parallel and keeps a cache, where pip
  # takes minutes on a fresh clone (about two of the CI run's twenty).
  .venv/bin/python -m pip install -q --upgrade pip uv
fi
export PATH="$ROOT/.venv/bin:$PATH"

# Installs into .venv with uv when the venv has it (it does once made here), else with pip.
venv_install() {
  if [ -x .venv/bin/uv ]; then
    # pip's local wheel folder, when the machine sets one, is uv's too.
    UV_FIND_LINKS="${UV_FIND_LINKS:-${PIP_FIND_LINKS:-}}" .venv/bin/uv pip install -q --python .venv/bin/python "$@"
  else
    .venv/bin/pip install -q "$@"
  fi
}

# 3b. helm, for the chart test (kernels-bridge/tests/test_hub_chart.py) -------
# Built from its Go module once per machine: the binary stays in Go's own bin folder (outside
# the clone, like npm's cache) and is linked into .venv/bin, which the tests have on PATH.
HELM_VERSION=v4.3.2
if command -v go >/dev/null; then
  gobin=$(go env GOBIN)
  helm_bin="${gobin:-$(go env GOPATH)/bin}/helm"
  # The module version recorded in the binary (`helm version` shows only v4.3 when built so).
  if ! go version -m "$helm_bin" 2>/dev/null | grep -Eq "^\s+mod\s+helm.sh/helm/v4\s+$HELM_VERSION\s"; then
    log "building helm $HELM_VERSION from its Go module (once per machine: about 8 minutes on 2 cores)"
    nice -n 10 go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  fi
  ln -sfn "$helm_bin" .venv/bin/helm
else
  log "warning: Go is missing, so helm cannot be built: the chart test will fail"
fi

# 4. TypeScript build and labextensions --------------------------------------
# jupyter labextension build needs jupyterlab in .venv: install it first when the venv is new.
if ! .venv/bin/python -c 'import jupyterlab' 2>/dev/null; then
  log "installing jupyterlab into .venv"
  venv_install "jupyterlab>=4.6,<4.7"
fi
ts_hash=$( (find extensions -path '*/node_modules' -prune -o -path '*/lib' -prune -o -type f \( -path '*/src/*' -o -path '*/style/*' -o -path '*/schema/*' -o -name package.json -o -name tsconfig.json \) -print0 | sort -z | xargs -0 cat; cat package-lock.json tsconfig.base.json) | sha256sum | cut -c1-16)
LABEXT_OUT=kernels-bridge/src/espri_vre/labextensions/@espri-vre
if ! stamp_ok ts "$ts_hash" || [ ! -d "$LABEXT_OUT" ]; then
  log "building the extensions (tsc + jupyter labextension build)"
  npm run build --silent
  stamp_set ts "$ts_hash"
fi

# 5. The Python distribution, editable ---------------------------------------
py_hash=$(hash_of kernels-bridge/pyproject.toml)
if ! stamp_ok py "$py_hash" || ! .venv/bin/python -c 'import espri_vre' 2>/dev/null; then
  log "installing espri-vre (kernels-bridge) in editable mode with its test, dev and bench extras"
  venv_install -e "kernels-bridge[test,dev,bench]"
  stamp_set py "$py_hash"
fi

# Link each built labextension into the venv's data dir, as `jupyter labextension develop` does,
# so that a rebuild is seen without reinstalling.
dest=.venv/share/jupyter/labextensions/@espri-vre
mkdir -p "$dest"
for ext in "$LABEXT_OUT"/*/; do
  [ -d "$ext" ] || continue
  name=$(basename "$ext")
  target="$ROOT/${ext%/}"
  if [ "$(readlink "$dest/$name" 2>/dev/null)" != "$target" ]; then
    rm -rf "${dest:?}/$name"
    ln -s "$target" "$dest/$name"
  fi
done
log "ready: $(ls "$dest" | sed 's/^/@espri-vre\//' | tr '\n' ' ')in .venv ($(.venv/bin/python -c 'import espri_vre; print("espri-vre", espri_vre.__version__)'))"
