"""Dask presets from the clusters' configuration: checked like job submissions, turned into
dask-jobqueue's arguments (Slurm gres, Torque's nodes/ppn), and refused with a clear message."""

from __future__ import annotations

from typing import Any

import pytest

from espri_vre.dask.presets import (
    DaskConfigError,
    cluster_kwargs,
    connect_code,
    parse_settings,
    requested_workers,
    torque_memory,
)

SLURM: dict[str, Any] = {
    "id": "gpu",
    "title": "GPU cluster",
    "kind": "slurm",
    "limits": {"cpus": 8, "memory": "32G", "walltime": "12:00:00", "gpus": 2},
    "dask": {
        "interface": "ib0",
        "scheduler_port": 8786,
        "max_workers": 6,
        "presets": [
            {
                "id": "gpu",
                "workers": 2,
                "cores": 4,
                "memory": "16G",
                "gpus": 1,
                "walltime": "2:00:00",
                "partition": "gpu",
                "account": "climate",
            },
            {"id": "adaptive", "cores": 1, "memory": "2G", "adapt": {"minimum": 0, "maximum": 6}},
        ],
    },
}


def test_slurm_preset_becomes_slurmcluster_arguments_with_gres() -> None:
    settings = parse_settings(SLURM)
    assert [p.id for p in settings.presets] == ["gpu", "adaptive"]
    kw = cluster_kwargs(settings, settings.preset("gpu"), "gpu-gpu-1")
    assert kw["cores"] == 4 and kw["processes"] == 1
    assert kw["memory"] == "16384MiB"
    assert kw["walltime"] == "02:00:00"
    assert kw["queue"] == "gpu" and kw["account"] == "climate"
    assert kw["job_extra_directives"] == ["--gres=gpu:1"]
    assert kw["worker_extra_args"] == ["--resources", "GPU=1"]
    assert kw["interface"] == "ib0"
    assert kw["scheduler_options"] == {"port": 8786}
    assert kw["job_name"] == "dask-gpu-gpu-1"


def test_slurm_job_script_from_dask_jobqueue_holds_the_preset() -> None:
    from dask_jobqueue import SLURMCluster

    settings = parse_settings({**SLURM, "dask": {**SLURM["dask"], "interface": None}})
    kw = cluster_kwargs(settings, settings.preset("gpu"), "t")
    kw["scheduler_options"] = {"port": 0, "host": "127.0.0.1"}
    with SLURMCluster(**kw) as cluster:
        script = cluster.job_script()
    assert "#SBATCH --gres=gpu:1" in script
    assert "#SBATCH -p gpu" in script
    assert "#SBATCH -A climate" in script
    assert "#SBATCH -t 02:00:00" in script
    assert "#SBATCH --cpus-per-task=4" in script
    assert "--resources GPU=1" in script


def test_presets_over_the_cluster_limits_are_left_out_with_the_reason() -> None:
    config = {
        **SLURM,
        "dask": {
            "presets": [
                {"id": "ok", "cores": 2, "memory": "4G"},
                {"id": "greedy", "cores": 64, "memory": "4G"},
                {"id": "gpu-hog", "cores": 1, "memory": "1G", "gpus": 3},
                {"id": "long", "cores": 1, "memory": "1G", "walltime": "48:00:00"},
                {"id": "many", "workers": 2000, "cores": 1, "memory": "1G"},
            ]
        },
    }
    settings = parse_settings(config)
    assert [p.id for p in settings.presets] == ["ok"]
    said = " | ".join(settings.problems)
    assert "cores 64 is more than the 8 allowed" in said
    assert "GPUs 3 is more than the 2 allowed" in said
    assert "walltime 48:00:00 is more than the 12:00:00 allowed" in said
    assert "2000 workers is more than the 1000 allowed" in said


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("partition", "debug; rm -rf ~"),
        ("partition", "gpu\n#SBATCH --uid=0"),
        ("account", "$(id)"),
        ("id", "../../etc"),
        ("memory", "lots"),
        ("walltime", "1 day"),
    ],
)
def test_injection_and_nonsense_in_presets_are_refused(field: str, value: str) -> None:
    preset = {"id": "x", "cores": 1, "memory": "1G", field: value}
    with pytest.raises(DaskConfigError, match="no usable Dask preset") as e:
        parse_settings({**SLURM, "dask": {"presets": [preset]}})
    assert repr(value)[1:-1][:8] in str(e.value) or field in str(e.value)


def test_bad_addresses_are_refused_before_anything_starts() -> None:
    with pytest.raises(DaskConfigError, match="interface"):
        parse_settings({**SLURM, "dask": {"interface": "eth0; reboot"}})
    with pytest.raises(DaskConfigError, match="contact_address"):
        parse_settings({**SLURM, "dask": {"contact_address": "http://x"}})
    with pytest.raises(DaskConfigError, match="scheduler_port"):
        parse_settings({**SLURM, "dask": {"scheduler_port": 70000}})


def test_requested_workers_are_capped_by_the_cluster() -> None:
    settings = parse_settings(SLURM)
    gpu = settings.preset("gpu")
    assert requested_workers(settings, gpu, None) == 2
    assert requested_workers(settings, gpu, 6) == 6
    with pytest.raises(DaskConfigError, match="7 workers is more than the 6 allowed"):
        requested_workers(settings, gpu, 7)
    with pytest.raises(DaskConfigError, match="no preset 'huge'"):
        settings.preset("huge")


def test_torque_preset_uses_nodes_ppn_not_pbs_pro_select() -> None:
    settings = parse_settings(
        {
            "id": "cpu",
            "kind": "torque",
            "dask": {
                "presets": [
                    {
                        "id": "p",
                        "cores": 8,
                        "memory": "12G",
                        "walltime": "04:00:00",
                        "queue": "batch",
                    }
                ]
            },
        }
    )
    kw = cluster_kwargs(settings, settings.preset("p"), "cpu-p-1")
    assert kw["resource_spec"] == "nodes=1:ppn=8,mem=12gb"
    assert kw["queue"] == "batch"
    assert torque_memory(1536) == "1536mb"


def test_local_preset_becomes_localcluster_arguments() -> None:
    settings = parse_settings({"id": "local", "kind": "local"})
    kw = cluster_kwargs(settings, settings.preset(None), "local-default-1")
    assert kw["threads_per_worker"] == 1
    assert kw["memory_limit"] == "2048MiB"
    assert kw["host"] == "127.0.0.1"


def test_connect_code_is_two_lines_with_the_address() -> None:
    code = connect_code("tcp://10.0.0.5:8786")
    assert code.splitlines() == [
        "from dask.distributed import Client",
        'client = Client("tcp://10.0.0.5:8786")',
    ]
