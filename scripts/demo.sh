#!/usr/bin/env bash
# Builds the demo data and configuration, starts the local Slurm when it can, the demo's STAC
# API and OPeNDAP server, and JupyterLab with the whole suite on localhost; the two servers
# stop with JupyterLab. Run through `npm run demo` (after setup.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
DEMO_DIR=${ESPRI_VRE_DEMO_DIR:-$ROOT/.demo}
log() { printf '\033[1m[demo]\033[0m %s\n' "$*"; }

# A local Slurm makes the demo's "Local Slurm" cluster reachable; without it the suite
# uses the local job back end only.
if [ "$(id -u)" = 0 ] && [ -x scripts/slurm/start.sh ] && command -v slurmctld >/dev/null; then
  bash scripts/slurm/start.sh || log "local Slurm did not start: the demo goes on with the local job back end"
fi

log "building the demo data and configuration in $DEMO_DIR"
python -m espri_vre.demo build "$DEMO_DIR"

# 8888 when it is free, else any free port.
PORT=${ESPRI_VRE_PORT:-$(python - <<'PY'
import socket
for port in (8888, 0):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
PY
)}
TOKEN=${ESPRI_VRE_TOKEN:-$(python -c 'import secrets; print(secrets.token_hex(24))')}

# The STAC API and the OPeNDAP server: `serve` points the configuration at them, prints their
# URLs and serves until its standard input closes (when this script ends, with JupyterLab).
coproc SERVICES { exec python -m espri_vre.demo serve "$DEMO_DIR" 2>"$DEMO_DIR/services.log"; }
SERVICES_PID=$SERVICES_PID
trap 'kill "$SERVICES_PID" 2>/dev/null || true' EXIT
if read -r -t 180 SERVED <&"${SERVICES[0]}" && [[ $SERVED == "{"* ]]; then
  log "local services: $SERVED"
else
  log "the STAC API and OPeNDAP server did not start (${SERVED:-no answer}; see $DEMO_DIR/services.log): the demo goes on without them"
fi

log "extensions: $(jupyter labextension list 2>&1 | grep -o '@espri-vre/[a-z-]*' | sort -u | tr '\n' ' ')"
log "server extension: $(jupyter server extension list 2>&1 | grep -m1 'espri_vre' | sed 's/^ *//')"
cat <<MSG

  espri-vre is starting. Open this URL in your browser:

      http://127.0.0.1:${PORT}/lab?token=${TOKEN}

  The Data panel (left sidebar, or "Open Data Panel" in the command palette)
  lists the demo catalogues, the local STAC API among them (its NetCDF items
  also over the local OPeNDAP server). Stop with Ctrl+C.

MSG
# Every kernel records its provenance (the demo's IPython profile loads espri_vre).
export IPYTHONDIR="$DEMO_DIR/.ipython"
ROOT_FLAG=()
[ "$(id -u)" = 0 ] && ROOT_FLAG=(--allow-root)  # JupyterLab refuses root without it
jupyter lab "${ROOT_FLAG[@]}" --config "$DEMO_DIR/jupyter_server_config.json" \
  --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT" --ServerApp.port_retries=0 \
  --ServerApp.open_browser=False --IdentityProvider.token="$TOKEN"
