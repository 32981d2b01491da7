"""What real schedulers answer when things go wrong or change shape (issue 19), read from the
recorded outputs of ../shared/fixtures/jobs: Slurm 24.05+'s expanded log paths, relative log
paths, JSON answers that carry `errors`, and cut or foreign answers of scontrol, qstat -f and
pbsnodes -x told apart from empty ones."""

from __future__ import annotations

import json

import pytest

from espri_vre.jobs.slurm.parse import parse_scontrol_show_job, parse_squeue_json
from espri_vre.jobs.torque.parse import (
    CutAnswer,
    parse_pbsnodes_xml_nodes,
    parse_qstat_f,
    parse_qstat_xml,
)
from espri_vre.jobs.types import SchedulerError, TransientSchedulerError

RACKSLAB = "slurmrestd/rackslab-slurm-web"


def test_slurm_25_11_log_paths_are_the_expanded_ones_not_the_relative_pattern(recorded):
    text = recorded(f"{RACKSLAB}/25.11/0.0.44/slurm-job-completed.json").read_text()
    assert json.loads(text)["jobs"][0]["standard_output"] == "slurm-%j.out"
    (job,) = parse_squeue_json(text)
    assert (job.stdout_path, job.stderr_path) == (
        "/home/vhartman/slurm-5749.out",
        "/home/vhartman/slurm-5749.out",
    )


def test_a_relative_standard_output_is_in_the_jobs_working_directory(recorded):
    data = json.loads(recorded(f"{RACKSLAB}/25.11/0.0.44/slurm-job-completed.json").read_text())
    for job in data["jobs"]:
        del job["stdout_expanded"], job["stderr_expanded"]
    (job,) = parse_squeue_json(json.dumps(data))
    assert job.stdout_path == "/home/vhartman/slurm-5749.out"
    for job in data["jobs"]:
        del job["current_working_directory"]
    (job,) = parse_squeue_json(json.dumps(data))
    assert job.stdout_path is None  # never a path read from the server's own directory


def test_slurm_24_05_absolute_log_paths_stay(recorded):
    (job,) = parse_squeue_json(
        recorded(f"{RACKSLAB}/24.05/0.0.41/slurm-job-completed.json").read_text()
    )
    assert job.stdout_path == "/home/tpearson/slurm-649718.out"


@pytest.mark.parametrize("version", ["24.05/0.0.41", "25.11/0.0.44"])
def test_json_answers_with_errors_raise_instead_of_an_empty_queue(recorded, version):
    unfound = recorded(f"{RACKSLAB}/{version}/slurm-job-unfound.json").read_text()
    assert json.loads(unfound)["jobs"] == []
    with pytest.raises(SchedulerError, match="Invalid job id specified") as error:
        parse_squeue_json(unfound)
    assert not isinstance(error.value, TransientSchedulerError)
    login = recorded(f"{RACKSLAB}/{version}/slurm-jwt-invalid-token.json").read_text()
    with pytest.raises(SchedulerError):
        parse_squeue_json(login)


def test_a_json_authentication_error_is_transient(recorded):
    data = json.loads(recorded(f"{RACKSLAB}/24.05/0.0.41/slurm-job-unfound.json").read_text())
    data["errors"][0]["error"] = "Protocol authentication error"
    with pytest.raises(TransientSchedulerError, match="Protocol authentication error"):
        parse_squeue_json(json.dumps(data))


def test_scontrol_show_job_cut_short_raises_and_empty_is_no_job(recorded):
    text = recorded("slurm/scontrol/scontrol_show_job__batcheuphoria.txt").read_text()
    assert parse_scontrol_show_job(text)
    cut = text[: text.index("JobState=")]
    with pytest.raises(ValueError, match="not a job record"):
        parse_scontrol_show_job(cut)
    with pytest.raises(ValueError, match="not a job record"):
        parse_scontrol_show_job("slurm_load_jobs error: Unexpected message received\n")
    assert parse_scontrol_show_job("") == []
    assert parse_scontrol_show_job("\n\n") == []


def test_qstat_f_cut_in_a_job_raises_and_empty_is_no_job(recorded):
    text = recorded("torque/qstat_f__torque_dkfz__batcheuphoria__output1.txt").read_text()
    assert len(parse_qstat_f(text)) == 4
    last = text.rindex("Job Id:")
    cut = text[: text.index("\n", last) + 1]  # the fourth job's header line only
    with pytest.raises(CutAnswer, match="a cut answer"):
        parse_qstat_f(cut)
    with pytest.raises(ValueError, match="not a job"):
        parse_qstat_f("qstat: Unknown option -- f\nusage: qstat ...\n")
    assert parse_qstat_f("") == []


def test_qstat_x_cut_never_yields_the_jobs_before_the_cut(recorded):
    text = recorded("torque/qstat_x__torque_stanford__fyrd.xml").read_text()
    assert parse_qstat_xml(text)
    with pytest.raises(ValueError, match="did not answer XML"):
        parse_qstat_xml(text[: len(text) // 2])
    assert parse_qstat_xml("") == []


def test_pbsnodes_x_needs_its_data_root(recorded):
    text = recorded("torque/pbsnodes_x__torque__qhost__output_00.xml").read_text()
    assert len(parse_pbsnodes_xml_nodes(text)) == 5
    foreign = text.replace("<Data>", "<Html>").replace("</Data>", "</Html>")
    with pytest.raises(ValueError, match="expected <Data>"):
        parse_pbsnodes_xml_nodes(foreign)
    with pytest.raises(ValueError, match="did not answer XML"):
        parse_pbsnodes_xml_nodes(text[: len(text) // 2])
    assert parse_pbsnodes_xml_nodes("") == []
