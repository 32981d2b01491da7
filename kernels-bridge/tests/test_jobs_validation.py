"""Checks of a job before submission (espri_vre.jobs.validation): names, paths, directive values,
parameters, sizes, and resources against a cluster's limits. Injection attempts are refused
with a sentence naming the field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from espri_vre.jobs.slurm.partitions import parse_sinfo_partitions
from espri_vre.jobs.types import ClusterConfig, JobKind, JobSpec, Partition, ResourceLimits
from espri_vre.jobs.validation import (
    JobValidationError,
    check_array,
    check_resources,
    default_name,
    format_walltime,
    parse_memory_mb,
    parse_walltime,
    resolve_user_path,
    spec_from_dict,
    validate_spec,
)

# Captured from this project's Slurm 22.05.8 with slurm.SINFO_PARTITIONS_ARGV.
SINFO_LOCALHOST = "debug*|up|1:00:00|10:00|1|2|24105|gpu:2|1-infinite\n" + (
    "gpu|up|4:00:00|30:00|1|2|24105|gpu:2|1-infinite\n"
)


@pytest.fixture
def files(user_root: Path) -> Path:
    (user_root / "run.sh").write_text("echo hi\n")
    (user_root / "model.py").write_text("print(1)\n")
    (user_root / "analysis.ipynb").write_text("{}")
    (user_root / "sub").mkdir()
    return user_root


def script(path: str = "run.sh", **fields) -> JobSpec:
    return JobSpec(kind=JobKind.SCRIPT, path=path, **fields)


def refused(spec: JobSpec, root: Path) -> JobValidationError:
    with pytest.raises(JobValidationError) as caught:
        validate_spec(spec, [root])
    return caught.value


# Job names


@pytest.mark.parametrize(
    "name",
    ["a;rm -rf ~", "$(id)", "`id`", "a b", "x\n#SBATCH --uid=0", "-dash", "", "é", "a" * 65],
)
def test_job_names_with_shell_syntax_or_newlines_are_refused(files, name):
    error = refused(script(name=name), files)
    assert error.fields == ["name"]
    assert "may hold only letters, digits, '.', '_' and '-'" in str(error)


def test_a_job_without_a_name_is_named_after_its_file_with_unsafe_characters_replaced():
    assert default_name("/home/u/My analysis (v2).ipynb") == "My_analysis_v2"
    assert default_name("run.sh") == "run"
    assert default_name("$$$.sh") == "job"


def test_a_valid_spec_resolves_its_path_working_dir_and_sizes(files):
    checked = validate_spec(
        script(name="ok-1.b_c", memory="4G", walltime="01:30:00", cpus=2, tasks=3), [files]
    )
    assert checked.path == files / "run.sh"
    assert checked.working_dir == files
    assert (checked.memory_mb, checked.walltime, checked.cores) == (4096, 5400, 6)


# Paths


def test_a_path_going_up_with_dotdot_is_refused_even_when_it_lands_inside(files):
    error = refused(script(path="sub/../run.sh"), files)
    assert "goes up with '..'" in str(error)
    assert error.fields == ["path"]


def test_an_absolute_path_outside_the_root_is_refused(files, tmp_path):
    outside = tmp_path / "outside.sh"
    outside.write_text("echo\n")
    error = refused(script(path=str(outside)), files)
    assert "leads outside your files" in str(error)


def test_a_symbolic_link_escaping_the_root_is_refused(files, tmp_path):
    secret = tmp_path / "secret.sh"
    secret.write_text("cat /etc/shadow\n")
    (files / "innocent.sh").symlink_to(secret)
    error = refused(script(path="innocent.sh"), files)
    assert "(through a symbolic link)" in str(error)


def test_a_symbolic_link_to_a_directory_outside_is_refused_as_working_dir(files, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (files / "link").symlink_to(tmp_path / "elsewhere")
    error = refused(script(working_dir="link"), files)
    assert error.fields == ["working_dir"]
    assert "leads outside your files" in str(error)


def test_a_symbolic_link_inside_the_root_is_followed(files):
    (files / "alias.sh").symlink_to(files / "run.sh")
    assert validate_spec(script(path="alias.sh"), [files]).path == files / "run.sh"


@pytest.mark.parametrize(
    "path", ["run.sh;id", "$(id).sh", "`id`.sh", "run\n.sh", "a|b.sh", "x'.sh", "r\x00.sh"]
)
def test_paths_with_shell_metacharacters_or_control_characters_are_refused(files, path):
    error = refused(script(path=path), files)
    assert error.fields == ["path"]
    assert "control character" in str(error) or "which job paths may not contain" in str(error)


def test_a_path_with_a_space_is_accepted_but_not_as_a_directive_directory(files):
    spaced = files / "my dir"
    spaced.mkdir()
    (spaced / "run.sh").write_text("echo\n")
    checked = validate_spec(script(path="my dir/run.sh", working_dir="sub"), [files])
    assert checked.path == spaced / "run.sh"
    error = refused(script(path="my dir/run.sh"), files)
    assert error.fields == ["working_dir"]
    assert "holds a blank or '%'" in str(error)


def test_missing_files_and_wrong_kinds_are_named(files):
    assert "there is no file 'nope.sh'" in str(refused(script(path="nope.sh"), files))
    assert "there is no directory 'run.sh'" in str(refused(script(working_dir="run.sh"), files))
    error = refused(JobSpec(kind=JobKind.NOTEBOOK, path="model.py"), files)
    assert "a notebook job runs a .ipynb file" in str(error)


def test_relative_paths_are_taken_from_the_first_root(files, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "job.sh").write_text("echo\n")
    assert resolve_user_path("run.sh", [files, data], "file") == files / "run.sh"
    assert resolve_user_path(str(data / "job.sh"), [files, data], "file") == data / "job.sh"


# Directive values


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("partition", "debug\n#SBATCH --uid=0"),
        ("partition", "gpu --exclusive"),
        ("account", "a;b"),
        ("gpu_type", "a100$(id)"),
        ("kernel", "python3 && rm -rf /"),
        ("conda_env", "env`id`"),
        ("conda_env", "/opt/../etc"),
    ],
)
def test_directive_values_with_newlines_or_shell_syntax_are_refused(files, field, value):
    error = refused(script(**{field: value}), files)
    assert error.fields == [field]


def test_conda_envs_are_names_or_absolute_prefixes(files):
    assert validate_spec(script(conda_env="climate-2024.1"), [files]).spec.conda_env
    assert validate_spec(script(conda_env="/opt/conda/envs/cmip6"), [files]).spec.conda_env


@pytest.mark.parametrize(
    ("value", "tasks"), [("0-9", 10), ("1,3,5-7%2", 5), ("0-9999", 10000), ("0-10:5", 3)]
)
def test_array_specs_count_their_tasks(value, tasks):
    assert check_array(value) == tasks


@pytest.mark.parametrize("value", ["a-b", "1-", "5-1", "0-20000", "1;2", "1\n2"])
def test_bad_array_specs_are_refused(files, value):
    assert refused(script(array=value), files).fields == ["array"]


@pytest.mark.parametrize("dep", ["1;2", "$(id)", "12 13", "abc"])
def test_dependencies_must_be_job_ids(files, dep):
    assert refused(script(afterok=(dep,)), files).fields == ["afterok"]


def test_dependencies_accept_slurm_and_torque_ids(files):
    deps = ("123", "123_4", "4499335.pbsserver", "673175[19].fruster.stanford.edu")
    assert validate_spec(script(afterok=deps), [files]).spec.afterok == deps


# Parameters and arguments


def test_notebook_parameters_must_be_python_names_with_json_values(files):
    nb = "analysis.ipynb"
    good = {"alpha": 0.5, "years": [1990, 2020], "region": {"lat": [-10, 10]}, "label": "a\nb"}
    assert validate_spec(JobSpec(kind=JobKind.NOTEBOOK, path=nb, parameters=good), [files])
    for bad, expected in [
        ({"not valid": 1}, "is not a Python variable name"),
        ({"class": 1}, "is not a Python variable name"),
        ({"x": float("nan")}, "NaN and infinities are not allowed"),
        ({"x": object()}, "a object is not a JSON value"),
        ({"x": "y" * 70_000}, "more than 65536"),
    ]:
        error = refused(JobSpec(kind=JobKind.NOTEBOOK, path=nb, parameters=bad), files)
        assert expected in str(error)


def test_parameters_are_for_notebooks_and_arrays_are_not(files):
    assert "parameters are for notebook jobs" in str(refused(script(parameters={"a": 1}), files))
    nb = JobSpec(kind=JobKind.NOTEBOOK, path="analysis.ipynb", array="0-3")
    assert "a notebook job cannot be an array" in str(refused(nb, files))


def test_arguments_with_control_characters_are_refused(files):
    assert refused(script(arguments=("ok", "a\nb")), files).fields == ["arguments"]


def test_notebook_jobs_refuse_arguments_which_papermill_would_take_as_options(files):
    nb = JobSpec(kind=JobKind.NOTEBOOK, path="analysis.ipynb", arguments=("--cwd", "/etc"))
    error = refused(nb, files)
    assert error.fields == ["arguments"]
    assert "arguments are for scripts and Python files; give parameters" in str(error)


def test_all_wrong_fields_are_reported_at_once(files):
    error = refused(script(name="a;b", partition="x y", memory="lots", nodes=0), files)
    assert error.fields == ["name", "partition", "nodes", "memory"]


# Sizes


@pytest.mark.parametrize(
    ("text", "mb"),
    [("4G", 4096), ("512M", 512), ("1.5GB", 1536), ("2048", 2048), ("1T", 1048576), ("4GiB", 4096)],
)
def test_memory_sizes_are_read_in_mb(text, mb):
    assert parse_memory_mb(text) == mb


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 5400),
        ("01:30:00", 5400),
        ("1-12:00:00", 129600),
        ("2-00", 172800),
        ("48:00:00", 172800),
        ("10:00", 600),
    ],
)
def test_walltimes_are_read_as_slurm_and_torque_write_them(text, seconds):
    assert parse_walltime(text) == seconds


@pytest.mark.parametrize("text", ["1:2:3:4", "0", "abc", "1h"])
def test_bad_walltimes_are_refused(text):
    with pytest.raises(JobValidationError, match="must be HH:MM:SS|is zero"):
        parse_walltime(text)


def test_walltimes_are_written_with_hours_past_a_day():
    assert format_walltime(90000) == "25:00:00"
    assert format_walltime(59) == "00:00:59"


# Form input


def test_a_form_is_read_into_a_spec():
    spec = spec_from_dict(
        {
            "kind": "notebook",
            "path": "analysis.ipynb",
            "gpus": 1,
            "parameters": {"alpha": 1},
            "afterok": ["12"],
            "hold": True,
            "partition": "",
        }
    )
    assert spec.kind is JobKind.NOTEBOOK
    assert (spec.gpus, spec.afterok, spec.hold, spec.partition) == (1, ("12",), True, None)


def test_a_form_with_wrong_types_names_each_field():
    with pytest.raises(JobValidationError) as caught:
        spec_from_dict({"kind": "binary", "nodes": "2", "afterok": "12", "extra": 1})
    assert caught.value.fields == ["extra", "kind", "nodes", "afterok", "path"]


# Resources against limits


def test_resources_are_checked_against_the_partition_the_scheduler_reports(files):
    partitions = parse_sinfo_partitions(SINFO_LOCALHOST)
    checked = validate_spec(script(walltime="02:00:00"), [files])
    with pytest.raises(JobValidationError) as caught:
        check_resources(checked, ResourceLimits(), partitions)
    assert str(caught.value) == (
        "walltime 02:00:00 is more than the 01:00:00 allowed on partition debug"
    )
    checked = validate_spec(script(partition="gpu", walltime="02:00:00", gpus=2), [files])
    assert check_resources(checked, ResourceLimits(), partitions).name == "gpu"
    checked = validate_spec(script(gpus=3, cpus=4, memory="30G"), [files])
    with pytest.raises(JobValidationError) as caught:
        check_resources(checked, ResourceLimits(), partitions)
    assert caught.value.fields == ["cpus", "cpus", "memory", "gpus"]
    assert "GPUs 3 is more than the 2 allowed on partition debug" in str(caught.value)


def test_an_unknown_partition_lists_the_real_ones(files):
    checked = validate_spec(script(partition="bigmem"), [files])
    with pytest.raises(JobValidationError, match=r"no partition 'bigmem' \(there is debug, gpu\)"):
        check_resources(checked, ResourceLimits(), parse_sinfo_partitions(SINFO_LOCALHOST))


def test_a_partition_without_gpus_refuses_a_gpu_job(files):
    cpu_only = [Partition(name="cpu", default=True, nodes=4, cpus=64)]
    checked = validate_spec(script(gpus=1), [files])
    with pytest.raises(JobValidationError, match="partition cpu has no GPUs"):
        check_resources(checked, ResourceLimits(), cpu_only)


def test_configured_limits_apply_on_top_of_the_scheduler(files):
    limits = ResourceLimits.from_settings(
        {"cores": 4, "memory": "8G", "walltime": "02:00:00", "gpus": 1, "partitions": ["debug"]}
    )
    checked = validate_spec(
        script(partition="gpu", cpus=8, memory="16G", walltime="03:00:00", gpus=2), [files]
    )
    with pytest.raises(JobValidationError) as caught:
        check_resources(checked, limits)
    assert str(caught.value) == "; ".join(
        [
            "partition 'gpu' is not offered here (debug)",
            "cores 8 is more than the 4 allowed on this cluster",
            "GPUs 2 is more than the 1 allowed on this cluster",
            "memory 16 GB is more than the 8 GB allowed on this cluster",
            "walltime 03:00:00 is more than the 02:00:00 allowed on this cluster",
        ]
    )


def test_os_level_checks_hold_for_a_root_given_through_a_symbolic_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "run.sh").write_text("echo\n")
    link = tmp_path / "home-link"
    os.symlink(real, link)
    assert validate_spec(script(), [link]).path == real / "run.sh"


def test_a_cluster_entry_of_the_server_configuration_becomes_a_cluster_config():
    cluster = ClusterConfig.from_settings(
        {
            "id": "gpu",
            "title": "GPU cluster",
            "kind": "slurm",
            "transport": "ssh",
            "ssh": {"host": "login.example.org", "user": "alice"},
            "defaults": {"partition": "gpu", "walltime": "01:00:00", "cores": 4},
            "limits": {"cores": 32, "gpus": 4, "memory": "64G"},
        }
    )
    assert (cluster.id, cluster.kind, cluster.user_name, cluster.python_command) == (
        "gpu",
        "slurm",
        "alice",
        "python3",
    )
    assert (cluster.limits.cpus, cluster.limits.gpus, cluster.limits.memory) == (32, 4, "64G")
    spec = script(walltime="00:10:00").with_defaults(cluster.defaults)
    assert (spec.partition, spec.walltime, spec.cpus) == ("gpu", "00:10:00", 4)
