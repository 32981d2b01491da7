#!/usr/bin/env bash
# Starts the local JupyterHub (jupyterhub_config.py beside this file) in the foreground:
# installs configurable-http-proxy from its own package-lock.json when missing, then runs the
# hub with the repository's .venv. Environment: see jupyterhub_config.py (ESPRI_VRE_HUB_PORT,
# ESPRI_VRE_HUB_DIR, ESPRI_VRE_DEMO_DIR, ESPRI_VRE_HUB_PASSWORD).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ ! -x "$HERE/node_modules/.bin/configurable-http-proxy" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
export PATH="$ROOT/.venv/bin:$PATH"
exec jupyterhub -f "$HERE/jupyterhub_config.py" "$@"
