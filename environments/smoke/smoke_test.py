"""The smoke test of the single-user image, run inside it by scripts/images.sh:

    python /smoke/smoke_test.py VALUES LOCK --labextensions catalog,dask,...

as the image's own user, with the image's environment. It checks what a user's pod relies on:
not root; the lock (LOCK) installed exactly and `pip check`; every server extension and the
named labextensions enabled; munge and the SSH client present; a job submitted with the image's
Slurm client completed; the RO-Crate contexts the build fetched; a kernel with the provenance
capture loaded; and a real JupyterHub
(environments/smoke/jupyterhub_config.py) spawning `jupyterhub-singleuser` with the
environment the chart gives it, whose /espri-vre/api/status answers a user's token.
Prints one line per check and exits non-zero at the first failure.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib.metadata import distributions
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

import espri_vre
from espri_vre.provenance.validation import CONTEXT_URL, VERSIONS, contexts_folder, folder_contexts

HERE = Path(__file__).resolve().parent


def check(what: str, ok: bool, detail: str = "") -> None:
    print(f"[smoke] {'ok' if ok else 'FAILED'}: {what}", flush=True)
    if not ok:
        sys.exit(f"[smoke] {what}\n{detail[-4000:]}")


def run(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    out = done.stdout + done.stderr
    check(f"`{' '.join(args)}` exits 0", done.returncode == 0, out)
    return re.sub(r"\x1b\[[0-9;]*m", "", out)  # no colours


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url: str, token: str, method: str = "GET", body: dict | None = None) -> tuple:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req, timeout=30) as response:
        text = response.read().decode()
        kind = response.headers.get("Content-Type", "")
        return response.status, json.loads(text) if "json" in kind and text else text


def wait_for(what: str, probe, hub: subprocess.Popen, seconds: float = 180):
    """probe() until it returns something true; fails when the hub exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        if hub.poll() is not None:
            check(what, False, f"the hub exited: {hub.stdout.read()}")
        try:
            result = probe()
            if result:
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            hub.terminate()
            check(what, False, f"no answer in time; the hub said: {hub.communicate(timeout=60)[0]}")
        time.sleep(1)


def identity() -> None:
    user = pwd.getpwuid(os.getuid()).pw_name
    check(f"runs as the non-root user ({user}, uid {os.getuid()})", os.getuid() != 0)


def packages(lock: Path, labextensions: list[str]) -> None:
    pinned = {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", lock.read_text(), re.M)
    }
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    differ = {
        name: (version, installed.get(name))
        for name, version in pinned.items()
        if installed.get(name) != version
    }
    check(
        f"the {len(pinned)} packages of the lock installed at their versions",
        not differ,
        str(differ),
    )
    extra = set(installed) - set(pinned) - {"espri-vre", "pip", "setuptools"}
    check("nothing installed beyond the lock and espri-vre", not extra, str(sorted(extra)))
    run(sys.executable, "-m", "pip", "check")
    servers = run("jupyter", "server", "extension", "list")
    listed = re.findall(r"^\s+(\S+) (enabled|disabled)\s*$", servers, re.M)
    # "<name> <version> OK", the version empty for some (notebook_shim)
    validated = {n: ok for n, _, ok in re.findall(r"^\s+(\S+) (\S*) (OK|X)\s*$", servers, re.M)}
    check(
        "every server extension enabled and valid: " + ", ".join(name for name, _ in listed),
        bool(listed)
        and {"espri_vre", "jupyterlab", "dask_labextension"} <= {n for n, _ in listed}
        and all(state == "enabled" and validated.get(n) == "OK" for n, state in listed),
        servers,
    )
    labexts = run("jupyter", "labextension", "list")
    prefix = str(Path(sys.prefix) / "share" / "jupyter" / "labextensions")
    missing = [
        name
        for name in labextensions
        if not re.search(rf"@espri-vre/{name} v\S+ enabled\s+OK", labexts)
    ]
    check(
        f"the labextensions {', '.join(labextensions)} enabled, installed in {prefix}",
        not missing and prefix in labexts and "disabled" not in labexts,
        labexts,
    )
    check(
        "munge is present", shutil.which("munge") is not None and shutil.which("munged") is not None
    )
    check("ssh is OpenSSH", run("ssh", "-V").startswith("OpenSSH_"))
    check("git is present (nbgitpuller)", run("git", "--version").startswith("git version"))


def slurm(values: Path) -> None:
    """Slurm's client with the pod's SLURM_CONF (the chart mounts slurm.conf at /etc/slurm) and
    a munge socket in /run/munge (scripts/images.sh mounts the local Slurm's): a job submitted
    from the image runs to COMPLETED on the real controller."""
    env = dict(os.environ)
    env.update(yaml.safe_load(values.read_text())["singleuser"].get("extraEnv", {}))
    version = run("sbatch", "--version", env=env).strip()
    check(f"sbatch is Slurm's ({version})", version.startswith("slurm"), version)
    out = run("sbatch", "--parsable", "--chdir=/tmp", "--output=/dev/null", "--wrap=true", env=env)
    job = re.search(r"^(\d+)", out, re.M)
    check(f"sbatch from the image submits a job ({out.strip()})", job is not None, out)
    deadline = time.monotonic() + 120
    while "JobState=COMPLETED" not in (shown := run("scontrol", "show", "job", job[1], env=env)):
        if time.monotonic() > deadline or re.search(r"JobState=(FAILED|CANCELLED)", shown):
            check(f"job {job[1]} completes", False, shown)
        time.sleep(1)
    check(f"job {job[1]} completed on the cluster", True)


def torch_with_cuda() -> None:
    """The GPU image: PyTorch's CUDA build imports with its CUDA libraries (the nvidia-* wheels);
    no GPU here, so CUDA is not available to it."""
    out = run(
        sys.executable,
        "-c",
        "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())",
    ).split()
    check(
        f"PyTorch {out[0]} imports with CUDA {out[1]} (a GPU here: {out[2]})",
        out[1] != "None" and "+cpu" not in out[0],
        " ".join(out),
    )


def kernel(work: Path) -> None:
    probe = work / "probe.py"
    probe.write_text("print('loaded:', sorted(get_ipython().extension_manager.loaded))\n")
    out = run("jupyter", "run", "--kernel=python3", str(probe), timeout=180)
    check("a kernel loads the provenance capture (espri_vre)", "'espri_vre'" in out, out)


def ro_crate_contexts() -> None:
    """The contexts the build fetched for the crate view's validation, each its own version's;
    an image built without them (ROCRATE_CONTEXTS= ) validates online."""
    folder = contexts_folder()
    if folder is None:
        print("[smoke] note: no RO-Crate contexts in the image: crates validate online", flush=True)
        return
    found = sorted(folder_contexts(folder))
    wanted = [CONTEXT_URL.format(version=v) for v in VERSIONS]
    check(
        f"the RO-Crate contexts {', '.join(VERSIONS)} are in {folder}", found == wanted, str(found)
    )


def single_user_server(values: Path, labextensions: list[str], work: Path) -> None:
    token = secrets.token_hex(16)
    hub_port, api_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        SMOKE_VALUES=str(values),
        SMOKE_STATE=str(work),
        SMOKE_HUB_PORT=str(hub_port),
        SMOKE_API_PORT=str(api_port),
        SMOKE_TOKEN=token,
    )
    hub = subprocess.Popen(
        ["jupyterhub", "-f", str(HERE / "jupyterhub_config.py")],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # The hub's own port: the public one (hub_port) is the proxy's, and no proxy runs here.
    api = f"http://127.0.0.1:{api_port}/hub/api"
    try:
        wait_for("the hub answers", lambda: request(f"{api}/", token)[0] == 200, hub)
        request(f"{api}/users/alice", token, "POST", {})
        request(f"{api}/users/alice/server", token, "POST", {})
        model = wait_for(
            "the hub spawns jupyterhub-singleuser for alice",
            lambda: (
                (m := request(f"{api}/users/alice", token)[1])["servers"].get("", {}).get("ready")
                and m
            ),
            hub,
        )
        server = model["servers"][""]
        user_token = request(f"{api}/users/alice/tokens", token, "POST", {"note": "smoke"})[1][
            "token"
        ]
        environ = _server_environment(server["url"])
        url = environ["JUPYTERHUB_SERVICE_URL"].replace("0.0.0.0", "127.0.0.1")
        status = request(f"{url}espri-vre/api/status", user_token)[1]
        check(
            f"{server['url']}espri-vre/api/status answers alice's token: {status['version']}",
            status["version"] == espri_vre.__version__,
            json.dumps(status),
        )
        page = request(f"{url}lab", user_token)[1]
        federated = {e["name"] for e in _page_config(page)["federated_extensions"]}
        check(
            "JupyterLab under the hub serves every espri-vre labextension",
            {f"@espri-vre/{name}" for name in labextensions} <= federated,
            str(sorted(federated)),
        )
        expected = {
            "JUPYTERHUB_USER": "alice",
            "JUPYTERHUB_SERVICE_PREFIX": server["url"],
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{api_port}/hub/api",
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            **yaml.safe_load(values.read_text())["singleuser"].get("extraEnv", {}),
        }
        check(
            "the server has the hub's environment: " + ", ".join(sorted(expected)),
            {k: environ.get(k) for k in expected} == expected and "JUPYTERHUB_API_TOKEN" in environ,
            json.dumps({k: environ.get(k) for k in expected}),
        )
        request(f"{api}/users/alice/server", token, "DELETE")
    finally:
        hub.terminate()
        hub.wait(timeout=60)


def _server_environment(prefix: str) -> dict[str, str]:
    """The environment of the process the hub spawned for `prefix` (read in /proc: it runs as
    this same user), as the server itself sees it."""
    for entry in Path("/proc").iterdir():
        env = _environ_of(entry)
        if env.get("JUPYTERHUB_SERVICE_PREFIX") == prefix and "JUPYTERHUB_SERVICE_URL" in env:
            return env
    check(f"a process serves {prefix}", False)
    return {}


def _environ_of(entry: Path) -> dict[str, str]:
    try:
        raw = (entry / "environ").read_bytes()
    except OSError:  # not a process, or not ours
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _page_config(page: str) -> dict:
    found = re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)
    check("the page holds JupyterLab's configuration", found is not None, page[:2000])
    return json.loads(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("values", type=Path, help="environments/hub/values.yaml")
    parser.add_argument("lock", type=Path, help="environments/requirements-cpu.txt")
    parser.add_argument("--labextensions", required=True, help="comma-separated names")
    parser.add_argument("--gpu", action="store_true", help="the GPU image: check PyTorch too")
    args = parser.parse_args()
    labextensions = args.labextensions.split(",")
    identity()
    packages(args.lock, labextensions)
    slurm(args.values)
    ro_crate_contexts()
    if args.gpu:
        torch_with_cuda()
    with tempfile.TemporaryDirectory(prefix="smoke-") as tmp:
        work = Path(tmp)
        kernel(work)
        single_user_server(args.values, labextensions, work)
    print("[smoke] passed", flush=True)


if __name__ == "__main__":
    main()
