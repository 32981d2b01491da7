"""Jupyter server configuration of the Galata tests.

Galata's own test settings (no token, a temporary workspace), then the espri-vre
configuration that the demo builder wrote (ESPRI_VRE_DEMO_DIR), plus one catalogue on a
closed port so that the UI shows an unreachable catalogue as well.
"""

import json
import os
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821
configure_jupyter_server(c)
c.ServerApp.ip = "127.0.0.1"
# CI runs as root on these machines; JupyterLab refuses root without this.
c.ServerApp.allow_root = True

demo = Path(
    os.environ.get("ESPRI_VRE_DEMO_DIR", Path(__file__).parent.parent / ".test-runtime" / "demo")
)
config = json.loads((demo / "jupyter_server_config.json").read_text())
c.ServerApp.root_dir = str(demo)
# The demo's kernels load espri_vre (provenance capture), as in the images.
os.environ["IPYTHONDIR"] = str(demo / ".ipython")
for key, value in config.get("EspriVreApp", {}).items():
    setattr(c.EspriVreApp, key, value)
PORT = int(os.environ.get("ESPRI_VRE_TEST_PORT", 8988))
# Each test server keeps its own job store (and job-end notifications), out of the user's
# Jupyter data folder: scripts/test.sh runs two at once (projects ui and slurm/alone).
c.EspriVreApp.job_store_dir = str(
    Path(__file__).resolve().parent.parent / ".test-runtime" / f"galata-jobs-{PORT}"
)
ESGF_PORT = PORT + 101
c.EspriVreApp.catalogs = [
    *config.get("EspriVreApp", {}).get("catalogs", []),
    {
        "id": "offline-esgf",
        "title": "ESGF index on a closed port",
        "kind": "esgf",
        "url": "http://127.0.0.1:9/esg-search/search",
    },
    # The recorded ESGF answers and their files of tests/catalog-esgf-files.spec.ts
    # (kernels-bridge/tests/esgf_index.py), on the test server's port + 101.
    {
        "id": "esgf-recorded",
        "title": "ESGF index (recorded answers)",
        "kind": "esgf",
        "url": f"http://127.0.0.1:{ESGF_PORT}/esg-search/search",
    },
]
c.EspriVreApp.reachability_timeout = 2.0
# The genuine RO-Crate contexts the crate view's validation is served (../shared, offline).
os.environ.setdefault(
    "ESPRI_VRE_ROCRATE_CONTEXTS",
    str(Path(__file__).resolve().parent.parent.parent / "shared" / "schemas" / "ro-crate"),
)
# The OPeNDAP server of tests/preview-opendap.spec.ts, beside the test server's port.
c.EspriVreApp.allowed_hosts = [
    *config.get("EspriVreApp", {}).get("allowed_hosts", []),
    f"127.0.0.1:{PORT + 100}",
]
