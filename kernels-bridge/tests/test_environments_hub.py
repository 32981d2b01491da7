"""environments/hub/values.yaml against the Zero to JupyterHub chart's own values schema
(../shared/schemas/z2jh-values.schema.yaml, read in place), with python-jsonschema; and what
the espri-vre hub needs in it: the profiles (small, large, GPU, class), the storage, culling,
the directory login, the teachers' role, and Slurm's and Torque's secrets."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import REPO_ROOT, SHARED

VALUES = REPO_ROOT / "environments" / "hub" / "values.yaml"
SCHEMA = SHARED / "schemas" / "z2jh-values.schema.yaml"

needs_schema = pytest.mark.skipif(
    not SCHEMA.is_file(), reason=f"the chart's values schema ({SCHEMA}) is absent: ../shared"
)


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = yaml.safe_load(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def problems(validator: jsonschema.Draft7Validator, values: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(values)
    )


@needs_schema
def test_values_validate_against_the_charts_schema(validator, values) -> None:
    assert problems(validator, values) == []


@needs_schema
def test_the_schema_check_catches_a_typo_and_a_wrong_type(validator, values) -> None:
    typo = copy.deepcopy(values)
    typo["singleuser"]["profilList"] = typo["singleuser"].pop("profileList")
    assert any("profilList" in p for p in problems(validator, typo))
    wrong = copy.deepcopy(values)
    wrong["cull"]["timeout"] = "an hour"
    assert any(p.startswith("cull/timeout:") for p in problems(validator, wrong))


def test_profiles_storage_culling_and_secrets(values) -> None:
    single = values["singleuser"]
    profiles = {p["display_name"]: p for p in single["profileList"]}
    assert list(profiles) == ["Small CPU", "Large CPU", "GPU", "Practical class"]
    gpu = profiles["GPU"]["kubespawner_override"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["node_selector"] == {"espri-vre/gpu": "true"}
    assert gpu["image"].endswith("singleuser-gpu:0.1.0")
    assert single["storage"]["dynamic"]["storageClass"] == "cephfs"
    mounts = {m["mountPath"]: m for m in single["storage"]["extraVolumeMounts"]}
    assert mounts["/bdd"]["readOnly"] is True
    assert {"/projects", "/etc/munge/munge.key", "/etc/slurm"} <= set(mounts)
    volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    assert volumes["munge-key"]["secret"]["secretName"] == "slurm-munge-key"
    assert volumes["slurm-conf"]["configMap"]["name"] == "slurm-conf"
    assert volumes["torque-ssh"]["secret"]["secretName"] == "torque-ssh-key"
    assert single["extraEnv"]["SLURM_CONF"] == "/etc/slurm/slurm.conf"
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] == 3600


def test_login_through_the_directory_and_teachers_reach_students(values) -> None:
    config = values["hub"]["config"]
    assert config["JupyterHub"]["authenticator_class"] == "generic-oauth"
    assert "client_secret" not in config["GenericOAuthenticator"]  # secrets stay out
    teacher = values["hub"]["loadRoles"]["teacher"]
    assert "access:servers!group=students" in teacher["scopes"]
    assert teacher["groups"] == ["vre-teachers"]


def test_the_values_file_holds_no_secret() -> None:
    text = VALUES.read_text().lower()
    for word in ("client_secret", "begin openssh private key", "password:"):
        assert word not in text
