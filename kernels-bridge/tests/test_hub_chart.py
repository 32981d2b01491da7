"""environments/hub/values.yaml rendered by the Zero to JupyterHub chart itself.

`helm template` (helm v4, built by scripts/setup.sh) renders the chart's source
(../shared/charts/jupyterhub, copied with its schema packaged as a release packages it) with
the values and a secrets file as an administrator passes them; the tests read the rendered
manifests: the hub's Secret holds the values the hub's own jupyterhub_config.py reads
(singleuser image, profiles, mounts, culling, roles), the image pullers, the network policies,
the ingress. `helm lint` checks the values against the chart's own schema. No Kubernetes
cluster runs here: what the hub and KubeSpawner do with the rendered objects is not run, only
what the chart gives them.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO_ROOT, SHARED
from jupyterhub import scopes

CHART = SHARED / "charts" / "jupyterhub"
VALUES = REPO_ROOT / "environments" / "hub" / "values.yaml"
RELEASE, NAMESPACE = "espri-vre", "espri-vre"
CPU_IMAGE = "registry.example.org/espri-vre/singleuser-cpu:0.1.0"
GPU_IMAGE = "registry.example.org/espri-vre/singleuser-gpu:0.1.0"
# What an administrator's secrets file holds (docs/admin-guide.md, "Secrets"); a test value.
SECRETS = {"hub": {"config": {"GenericOAuthenticator": {"client_secret": "test-oidc-secret"}}}}

pytestmark = pytest.mark.skipif(
    not (CHART / "Chart.yaml").is_file(),
    reason=f"the Zero to JupyterHub chart ({CHART}) is absent: ../shared",
)


def helm_binary() -> str:
    helm = shutil.which("helm")
    if helm is None:
        pytest.fail(
            "helm is not on PATH: scripts/setup.sh (npm run setup) builds it into .venv/bin"
        )
    return helm


def helm(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """helm with its cache, configuration and data folders in `tmp` (it reads no repository)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HELM_CACHE_HOME": str(tmp / "cache"),
        "HELM_CONFIG_HOME": str(tmp / "config"),
        "HELM_DATA_HOME": str(tmp / "data"),
    }
    return subprocess.run(
        [helm_binary(), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def write_secrets(tmp: Path) -> Path:
    path = tmp / "secrets.yaml"
    path.write_text(yaml.safe_dump(SECRETS))
    return path


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chart as released: its source holds the schema as values.schema.yaml, which its
    release tooling packages as values.schema.json, the file helm validates values with (helm
    ignores the YAML one: without this, lint and template accept any value)."""
    copy = tmp_path_factory.mktemp("chart") / "jupyterhub"
    shutil.copytree(CHART, copy)
    schema = yaml.safe_load((CHART / "values.schema.yaml").read_text())
    (copy / "values.schema.json").write_text(json.dumps(schema))
    return copy


@pytest.fixture(scope="module")
def manifests(chart: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("helm")
    done = helm(
        tmp,
        "template",
        RELEASE,
        str(chart),
        "--namespace",
        NAMESPACE,
        "--values",
        str(VALUES),
        "--values",
        str(write_secrets(tmp)),
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def find(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, (
        f"{kind}/{name}: {[(m['kind'], m['metadata']['name']) for m in manifests]}"
    )
    return found[0]


@pytest.fixture(scope="module")
def hub_values(manifests) -> dict[str, Any]:
    """The values as the hub pod reads them: the hub Secret's values.yaml, mounted at
    /usr/local/etc/jupyterhub/secret/ where the chart's z2jh.py loads it."""
    secret = find(manifests, "Secret", "hub")
    return yaml.safe_load(base64.b64decode(secret["data"]["values.yaml"]))


def test_the_chart_renders_the_hub_proxy_pullers_policies_and_ingress(manifests) -> None:
    objects = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    assert {
        ("Deployment", "hub"),
        ("Deployment", "proxy"),
        ("Secret", "hub"),
        ("ConfigMap", "hub"),
        ("PersistentVolumeClaim", "hub-db-dir"),
        ("NetworkPolicy", "hub"),
        ("NetworkPolicy", "proxy"),
        ("NetworkPolicy", "singleuser"),
        ("DaemonSet", "hook-image-puller"),
        ("DaemonSet", "continuous-image-puller"),
        ("Ingress", "jupyterhub"),
    } <= objects
    assert ("Deployment", "user-scheduler") not in objects  # scheduling.userScheduler off
    assert all(m["metadata"].get("namespace", NAMESPACE) == NAMESPACE for m in manifests)
    pvc = find(manifests, "PersistentVolumeClaim", "hub-db-dir")
    assert pvc["spec"]["storageClassName"] == "rbd"
    ingress = find(manifests, "Ingress", "jupyterhub")
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["vre.example.org"]
    assert ingress["spec"]["tls"] == [
        {"hosts": ["vre.example.org"], "secretName": "vre-example-org-tls"}
    ]


def test_the_hub_pod_reads_these_values_through_the_charts_config(manifests) -> None:
    deployment = find(manifests, "Deployment", "hub")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "quay.io/jupyterhub/k8s-hub:4.2.0"
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert volumes[mounts["/usr/local/etc/jupyterhub/secret/"]]["secret"]["secretName"] == "hub"
    config = find(manifests, "ConfigMap", "hub")["data"]
    # The chart's own hub configuration, which maps the values onto KubeSpawner and the hub.
    assert '"/usr/local/etc/jupyterhub/{source}"' in config["z2jh.py"]
    for mapping in (
        '("profile_list", None)',
        '("environment", "extraEnv")',
        'get_config("singleuser.storage.extraVolumeMounts"',
        'get_config("hub.loadRoles"',
        'get_config("cull.enabled"',
    ):
        assert mapping in config["jupyterhub_config.py"], mapping


def test_the_oidc_secret_goes_to_the_hub_secret_only(manifests, hub_values) -> None:
    assert hub_values["hub"]["config"]["GenericOAuthenticator"]["client_secret"] == (
        "test-oidc-secret"
    )
    for m in manifests:
        if m["kind"] != "Secret":
            assert "test-oidc-secret" not in yaml.safe_dump(m), (m["kind"], m["metadata"]["name"])


def test_singleuser_image_and_profiles(hub_values) -> None:
    single = hub_values["singleuser"]
    assert f"{single['image']['name']}:{single['image']['tag']}" == CPU_IMAGE
    assert single["cmd"] == "jupyterhub-singleuser" and single["defaultUrl"] == "/lab"
    assert (single["cpu"], single["memory"]) == (
        {"limit": 2, "guarantee": 0.5},
        {"limit": "8G", "guarantee": "2G"},
    )
    profiles = {p["display_name"]: p for p in single["profileList"]}
    assert list(profiles) == ["Small CPU", "Large CPU", "GPU", "Practical class"]
    # Small CPU is the default and keeps the singleuser limits above (no override).
    assert profiles["Small CPU"]["default"] is True
    assert "kubespawner_override" not in profiles["Small CPU"]
    large = profiles["Large CPU"]["kubespawner_override"]
    assert (large["cpu_limit"], large["mem_limit"]) == (8, "32G")
    gpu = profiles["GPU"]["kubespawner_override"]
    assert gpu["image"] == GPU_IMAGE
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["node_selector"] == {"espri-vre/gpu": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in gpu[
        "tolerations"
    ]
    course = profiles["Practical class"]
    assert course["slug"] == "class"
    # KubeSpawner merges a dict override into the configured one: SLURM_CONF stays set.
    assert course["kubespawner_override"]["environment"] == {
        "ESPRI_VRE_COURSE": "/home/jovyan/course.yaml"
    }
    assert single["extraEnv"] == {"SLURM_CONF": "/etc/slurm/slurm.conf"}


def test_bdd_read_only_and_the_slurm_and_torque_secrets_mounted(hub_values) -> None:
    storage = hub_values["singleuser"]["storage"]
    volumes = {v["name"]: v for v in storage["extraVolumes"]}
    mounts = {m["mountPath"]: m for m in storage["extraVolumeMounts"]}
    bdd = mounts["/bdd"]
    assert bdd["readOnly"] is True
    assert volumes[bdd["name"]]["persistentVolumeClaim"] == {
        "claimName": "bdd-readonly",
        "readOnly": True,
    }
    munge = mounts["/etc/munge/munge.key"]
    assert (munge["subPath"], munge["readOnly"]) == ("munge.key", True)
    assert volumes[munge["name"]]["secret"]["secretName"] == "slurm-munge-key"
    slurm = mounts["/etc/slurm"]
    assert volumes[slurm["name"]]["configMap"]["name"] == "slurm-conf"
    assert hub_values["singleuser"]["extraEnv"]["SLURM_CONF"].startswith("/etc/slurm/")
    torque = mounts["/home/jovyan/.ssh/id_torque"]
    assert volumes[torque["name"]]["secret"]["secretName"] == "torque-ssh-key"
    assert volumes["projects"]["persistentVolumeClaim"]["claimName"] == "projects-shared"
    assert (storage["type"], storage["dynamic"]["storageClass"]) == ("dynamic", "cephfs")


def test_culling_stops_idle_servers_after_an_hour_and_any_after_three_days(hub_values) -> None:
    cull = hub_values["cull"]
    assert cull["enabled"] is True
    assert (cull["timeout"], cull["every"], cull["maxAge"]) == (3600, 600, 3 * 24 * 3600)
    assert cull["users"] is False  # users stay; only their servers stop


def test_the_teacher_role_scopes_are_valid_for_jupyterhub(hub_values) -> None:
    roles = hub_values["hub"]["loadRoles"]
    teacher = roles["teacher"]
    assert teacher["groups"] == ["vre-teachers"]
    assert sorted(teacher["scopes"]) == [
        "access:servers!group=students",
        "read:groups!group=students",
        "read:users!group=students",
        "servers!group=students",
    ]
    # JupyterHub's own scope check (the hub refuses to start on an unknown scope).
    scopes._check_scopes_exist(teacher["scopes"], who_for="role teacher")
    with pytest.raises(scopes.ScopeNotFound, match="access:server!group=students"):
        scopes._check_scopes_exist(["access:server!group=students"], who_for="a typo")
    # Teachers are no admins: nothing unfiltered, no admin scope.
    assert all("!group=students" in s and not s.startswith("admin") for s in teacher["scopes"])
    # Section names are Configurable classes (the chart's config exits on any other).
    assert all(section[:1].isupper() for section in hub_values["hub"]["config"])


def test_the_image_pullers_pull_both_images_and_reach_the_gpu_nodes(manifests) -> None:
    for name in ("hook-image-puller", "continuous-image-puller"):
        pod = find(manifests, "DaemonSet", name)["spec"]["template"]["spec"]
        images = {c["image"] for c in pod["initContainers"]}
        assert {CPU_IMAGE, GPU_IMAGE} <= images, name
        # The GPU nodes are tainted: the pullers must tolerate it to pull there.
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod.get(
            "tolerations", []
        ), name


def test_network_policies_let_user_pods_reach_the_clusters_not_the_cloud_metadata(
    manifests,
) -> None:
    policy = find(manifests, "NetworkPolicy", "singleuser")
    # The rules open on every port (the others are the hub's, the proxy's and DNS's ports).
    blocks = [
        to["ipBlock"]
        for rule in policy["spec"]["egress"]
        if "ports" not in rule
        for to in rule["to"]
        if "ipBlock" in to
    ]
    cidrs = {b["cidr"]: b.get("except", []) for b in blocks}
    # privateIPs: the Slurm controller and the Torque login nodes are on the centre's network.
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} <= set(cidrs)
    # The internet, except the cloud metadata server.
    assert "169.254.169.254/32" in cidrs["0.0.0.0/0"]
    assert "169.254.169.254/32" not in cidrs
    ingress_from = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert ingress_from == {"hub.jupyter.org/network-access-singleuser": "true"}
    hub = find(manifests, "NetworkPolicy", "hub")
    assert hub["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_helm_lint_passes_with_the_charts_schema(chart, tmp_path) -> None:
    done = helm(
        tmp_path,
        "lint",
        str(chart),
        "--values",
        str(VALUES),
        "--values",
        str(write_secrets(tmp_path)),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout


def test_helm_refuses_values_the_schema_rejects(chart, tmp_path) -> None:
    values = yaml.safe_load(VALUES.read_text())
    values["singleuser"]["profilList"] = values["singleuser"].pop("profileList")
    values["cull"]["timeout"] = "an hour"
    bad = tmp_path / "bad-values.yaml"
    bad.write_text(yaml.safe_dump(values))
    lint = helm(tmp_path, "lint", str(chart), "--values", str(bad))
    assert lint.returncode != 0
    said = lint.stdout + lint.stderr
    assert "at '/singleuser': additional properties 'profilList' not allowed" in said
    assert "at '/cull/timeout': got string, want null or integer" in said
    render = helm(tmp_path, "template", RELEASE, str(chart), "--values", str(bad))
    assert render.returncode != 0 and render.stdout == ""
