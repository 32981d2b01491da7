"""A JupyterHub on this machine for multi-user tests and class rehearsals: the same roles as
the Kubernetes hub (environments/hub/values.yaml), a dummy login and local processes.

    ESPRI_VRE_DEMO_DIR=/tmp/demo bash environments/local-hub/start.sh

Users `teacher` (group `teachers`) and `student` (group `students`) log in with the shared
password (ESPRI_VRE_HUB_PASSWORD, default `espri-vre`); the teacher role reaches the servers
of the `students` group as on the real hub. Each user's server runs as a process of the hub's
own Unix user (SimpleLocalProcessSpawner), in <hub dir>/home/<name>, with the suite configured
from the demo (ESPRI_VRE_DEMO_DIR) when it is set.

Environment: ESPRI_VRE_HUB_DIR (state: database, cookie secret, homes; default
/tmp/espri-vre-hub), ESPRI_VRE_HUB_PORT (public port, default 8000; the hub API and the
proxy's API take the next two ports), ESPRI_VRE_HUB_EXTRA_USERS (more students, by name).
"""

import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821

HERE = Path(__file__).resolve().parent
STATE = Path(os.environ.get("ESPRI_VRE_HUB_DIR", "/tmp/espri-vre-hub"))
PORT = int(os.environ.get("ESPRI_VRE_HUB_PORT", "8000"))
BIN = Path(sys.executable).parent
STATE.mkdir(parents=True, exist_ok=True)

c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 1}"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
# configurable-http-proxy from npm, installed beside this file by start.sh (its own lock).
chp = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [str(chp) if chp.exists() else "configurable-http-proxy"]

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("ESPRI_VRE_HUB_PASSWORD", "espri-vre")
# More students (space-separated names) for the many-users benchmark (bench/bench_hub.py).
extra = os.environ.get("ESPRI_VRE_HUB_EXTRA_USERS", "").split()
c.Authenticator.allowed_users = {"teacher", "student", *extra}
c.Authenticator.admin_users = set()
c.JupyterHub.load_groups = {
    "teachers": {"users": ["teacher"]},
    "students": {"users": ["student", *extra]},
}
# The scopes of the `teacher` role of environments/hub/values.yaml.
c.JupyterHub.load_roles = [
    {
        "name": "teacher",
        "description": "Teachers see and reach the servers of the class groups",
        "scopes": [
            "read:users!group=students",
            "access:servers!group=students",
            "servers!group=students",
            "read:groups!group=students",
        ],
        "groups": ["teachers"],
    }
]

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
args = []
if os.geteuid() == 0:  # CI runs as root; jupyter_server refuses root without this
    args.append("--ServerApp.allow_root=True")
c.Spawner.args = args
env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}

# The suite's configuration for every user: the demo's catalogues, clusters and data roots
# (not its root_dir: each user's server starts in their home).
demo = os.environ.get("ESPRI_VRE_DEMO_DIR")
if demo:
    demo_config = json.loads((Path(demo) / "jupyter_server_config.json").read_text())
    config_dir = STATE / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"EspriVreApp": demo_config.get("EspriVreApp", {})}, indent=2)
    )
    env["JUPYTER_CONFIG_PATH"] = str(config_dir)
# As in the images: the provenance capture loaded in every kernel (IPython's profile for the
# hub's users holds environments/ipython_kernel_config.py).
profile = STATE / "ipython" / "profile_default"
profile.mkdir(parents=True, exist_ok=True)
(profile / "ipython_kernel_config.py").write_text(
    (HERE.parent / "ipython_kernel_config.py").read_text()
)
env["IPYTHONDIR"] = str(STATE / "ipython")
for name in ("SLURM_CONF",):
    if name in os.environ:
        env[name] = os.environ[name]
c.Spawner.environment = env
