"""The hub of the image's smoke test (environments/smoke/smoke_test.py), run inside the image.

A real JupyterHub (the image's own) spawns the image's `jupyterhub-singleuser` as a local
process, so the server gets the environment a hub gives it (JUPYTERHUB_API_URL, ..._API_TOKEN,
..._SERVICE_PREFIX, ...) and the hub checks its users' tokens. What the chart's
jupyterhub_config.py takes from the values for KubeSpawner is taken here from the same
values file (SMOKE_VALUES): the command, the default URL, the extra environment and the roles.

Environment: SMOKE_VALUES (environments/hub/values.yaml), SMOKE_STATE (a writable folder),
SMOKE_HUB_PORT and SMOKE_API_PORT (free loopback ports), SMOKE_TOKEN (the test's service token).
"""

import os
from pathlib import Path

import yaml
from jupyterhub.proxy import Proxy

c = get_config()  # noqa: F821

values = yaml.safe_load(Path(os.environ["SMOKE_VALUES"]).read_text())
single = values["singleuser"]
state = Path(os.environ["SMOKE_STATE"])


class RoutesInMemory(Proxy):
    """The routes kept in the hub's memory, written here because the image has no Node.js for
    configurable-http-proxy (Kubernetes runs it in its own pod); the test talks to the
    single-user server directly, so no request goes through a proxy."""

    should_start = False
    routes: dict = {}

    async def add_route(self, routespec, target, data):
        self.routes[routespec] = {"routespec": routespec, "target": target, "data": data}

    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self.routes)


c.JupyterHub.proxy_class = RoutesInMemory
c.JupyterHub.bind_url = f"http://127.0.0.1:{os.environ['SMOKE_HUB_PORT']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ['SMOKE_API_PORT']}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "cookie_secret")
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(state / "home" / "{username}")
c.Spawner.ip = "127.0.0.1"
c.Spawner.http_timeout = 180
c.Spawner.start_timeout = 180

# As the chart's jupyterhub_config.py sets them from singleuser.* for KubeSpawner.
c.Spawner.cmd = single["cmd"]
c.Spawner.default_url = single["defaultUrl"]
c.Spawner.environment = dict(single.get("extraEnv", {}))

c.JupyterHub.services = [{"name": "smoke-test", "api_token": os.environ["SMOKE_TOKEN"]}]
c.JupyterHub.load_roles = [
    {
        "name": "smoke-test",
        "scopes": ["admin:users", "admin:servers", "tokens"],
        "services": ["smoke-test"],
    },
    *({"name": name} | role for name, role in values["hub"].get("loadRoles", {}).items()),
]
