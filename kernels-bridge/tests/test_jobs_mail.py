"""E-mail at a job's end through the scheduler's own mail (issue 21): the `mail` field of a job
(one address, and when: end, fail or all), its strict check (every refusal names the field and
nothing reaches a command), its record in the job store, and a held job on the real Slurm
22.05 whose MailUser and MailType `scontrol show job` reports; the cluster's `mail` switch
(configuration, else Slurm's MailProg read from the real `scontrol show config`)."""

from __future__ import annotations

import subprocess

import pytest

from espri_vre.config import validate
from espri_vre.jobs.local import LocalScheduler
from espri_vre.jobs.slurm import SlurmScheduler
from espri_vre.jobs.slurm.mail import NO_MAIL_PROG, SCONTROL_CONFIG_ARGV, parse_mail_prog
from espri_vre.jobs.slurm.parse import parse_scontrol_record
from espri_vre.jobs.store import JobStore
from espri_vre.jobs.types import (
    ClusterConfig,
    JobInfo,
    JobKind,
    JobMail,
    JobSpec,
    JobState,
    JobValidationError,
    MailWhen,
)
from espri_vre.jobs.validation import check_mail_address, spec_from_dict, validate_spec

ADDRESS = "ada.lovelace+jobs@climate-lab.example.org"


def form(mail: object) -> dict[str, object]:
    return {"kind": "script", "path": "work.sh", "mail": mail}


# The field as the form sends it


def test_the_mail_field_is_read_from_the_form_and_defaults_to_the_end():
    assert spec_from_dict(form({"address": ADDRESS, "when": "all"})).mail == JobMail(
        ADDRESS, MailWhen.ALL
    )
    assert spec_from_dict(form({"address": ADDRESS})).mail == JobMail(ADDRESS, MailWhen.END)
    assert spec_from_dict(form(None)).mail is None
    assert spec_from_dict({"kind": "script", "path": "work.sh"}).mail is None


@pytest.mark.parametrize(
    ("mail", "field", "said"),
    [
        ("me@example.org", "mail", "mail must be an object"),
        ({"address": ADDRESS, "when": "begin"}, "mail.when", "must be end, fail or all"),
        ({"address": 42}, "mail.address", "mail.address must be a string"),
        ({"address": ADDRESS, "cc": "x@y.org"}, "mail", "unknown field mail.cc"),
    ],
)
def test_a_mail_field_of_the_wrong_shape_is_refused_by_name(mail, field, said):
    with pytest.raises(JobValidationError, match=said) as caught:
        spec_from_dict(form(mail))
    assert caught.value.fields == [field]
    body = caught.value.body()
    assert (body["error"], body["problems"][0]["field"]) == ("invalid-job", field)


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.org",
        "ada.lovelace+jobs@climate-lab.example.org",
        "a_b-c@localhost",
        "UPPER.case@EXAMPLE.ORG",
    ],
)
def test_plain_addresses_pass(address):
    assert check_mail_address(address) == address


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("", "give the e-mail address"),
        ("ada@example.org\nBcc: all@example.org", "line break"),
        ("ada@example.org\r", "line break"),
        ("ada@example.org\n#SBATCH --uid=0", "line break"),
        ("ada @example.org", "holds a blank"),
        ("ada@example.org bob@example.org", "holds a blank"),
        ("ada@example.org,bob@example.org", "one e-mail address, not several"),
        ("ada@bob@example.org", "one e-mail address, not several"),
        ("--uid=0@example.org", "would be read as an option"),
        ("-mail@example.org", "would be read as an option"),
        ("$(id)@example.org", r"holds \$ \( \)"),
        ("`id`@example.org", "holds `"),
        ("ada@example.org;reboot", "holds ;"),
        ("ada@example.org|sh", r"holds \|"),
        ('"ada"@example.org', 'holds "'),
        ("ada@example.org&", "holds &"),
        ("ada%20@example.org", "holds %"),
        ("Ada <ada@example.org>", "holds a blank"),
        ("<ada@example.org>", "holds < >"),
        ("ada", "is not an e-mail address"),
        ("ada@", "is not an e-mail address"),
        ("ada@-example.org", "is not an e-mail address"),
        ("ada@example..org", "is not an e-mail address"),
        (".ada@example.org", "is not an e-mail address"),
        ("ada@" + "a" * 250 + ".org", "is not an e-mail address"),
        ("adà@example.org", "is not an e-mail address"),
    ],
)
def test_injections_and_non_addresses_are_refused_naming_the_field(address, said):
    with pytest.raises(JobValidationError, match=said) as caught:
        check_mail_address(address)
    assert caught.value.fields == ["mail.address"]


def test_a_wrong_address_is_refused_with_the_other_wrong_fields(user_root):
    (user_root / "work.sh").write_text("echo work\n")
    spec = JobSpec(
        kind=JobKind.SCRIPT, path="work.sh", nodes=0, mail=JobMail("a@b.org\nTo: c@d.org")
    )
    with pytest.raises(JobValidationError) as caught:
        validate_spec(spec, [user_root])
    assert sorted(caught.value.fields) == ["mail.address", "nodes"]


@pytest.mark.anyio
async def test_the_local_back_end_refuses_mail_and_runs_nothing(
    user_root, job_store, local_cluster
):
    (user_root / "work.sh").write_text("touch ran\n")
    sched = LocalScheduler(local_cluster, job_store, [user_root])
    with pytest.raises(JobValidationError, match="this cluster sends no e-mail") as caught:
        await sched.submit(JobSpec(kind=JobKind.SCRIPT, path="work.sh", mail=JobMail(ADDRESS)))
    assert caught.value.fields == ["mail"]
    assert job_store.list("local") == []
    assert not (user_root / "ran").exists()


def test_the_store_keeps_the_mail_of_a_job(tmp_path, user_root):
    store = JobStore(tmp_path / "jobs.sqlite")
    spec = JobSpec(kind=JobKind.SCRIPT, path="work.sh", mail=JobMail(ADDRESS, MailWhen.FAIL))
    store.add(
        "slurm", JobInfo(id="7", name="work", state=JobState.PENDING, raw_state="PD"), spec, ""
    )
    again = JobStore(tmp_path / "jobs.sqlite").get("slurm", "7")
    assert again.spec.mail == JobMail(ADDRESS, MailWhen.FAIL)
    assert again.spec.to_dict()["mail"] == {"address": ADDRESS, "when": "fail"}
    assert spec_from_dict(again.spec.to_dict()) == spec


# The real Slurm


@pytest.fixture
def sched(slurm, job_store, user_root):
    scheduler = SlurmScheduler(ClusterConfig(id="slurm", kind="slurm"), job_store, [user_root])
    yield scheduler
    live = [r.job_id for r in job_store.list("slurm") if not r.info.finished]
    if live:
        subprocess.run(["scancel", *live], check=False, capture_output=True, timeout=30)


def scontrol_show(job_id: str) -> dict[str, str]:
    ran = subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, timeout=30, check=True
    )
    return parse_scontrol_record(ran.stdout)


@pytest.mark.anyio
async def test_a_job_with_mail_reaches_the_real_slurm_with_its_mail_options(sched, user_root):
    (user_root / "mailed.sh").write_text("echo mailed\n")
    expected = {MailWhen.END: "END,FAIL", MailWhen.FAIL: "FAIL", MailWhen.ALL: "BEGIN,END,FAIL"}
    for when, mail_type in expected.items():
        spec = JobSpec(
            kind=JobKind.SCRIPT, path="mailed.sh", hold=True, mail=JobMail(ADDRESS, when)
        )
        assert f"#SBATCH --mail-user={ADDRESS}" in sched.preview(spec).splitlines()
        job = await sched.submit(spec)
        shown = scontrol_show(job.id)
        assert (shown["MailUser"], shown["MailType"]) == (ADDRESS, mail_type)
        assert sched.store.get("slurm", job.id).spec.mail == JobMail(ADDRESS, when)
        await sched.cancel(job.id)


@pytest.mark.anyio
async def test_a_refused_address_never_reaches_sbatch(sched, user_root):
    (user_root / "mailed.sh").write_text("echo mailed\n")
    with pytest.raises(JobValidationError, match="line break") as caught:
        await sched.submit(
            JobSpec(
                kind=JobKind.SCRIPT,
                path="mailed.sh",
                mail=JobMail("ada@example.org\n#SBATCH --uid=0"),
            )
        )
    assert caught.value.fields == ["mail.address"]
    assert sched.store.list("slurm") == []


# The cluster's switch


def test_the_configuration_switch_and_the_defaults_of_each_kind():
    def refusal(**settings: object) -> str | None:
        return ClusterConfig.from_settings(
            {"id": "c", "title": "Cluster C", **settings}
        ).mail_refusal

    assert refusal(kind="local") == "only Slurm and Torque clusters do"
    assert refusal(kind="local", mail=True) == "only Slurm and Torque clusters do"
    assert refusal(kind="slurm") is None
    assert refusal(kind="torque") is None
    assert refusal(kind="slurm", mail=False) == "the configuration of Cluster C says mail = false"
    assert refusal(kind="torque", mail=False) == "the configuration of Cluster C says mail = false"
    # A value that is not a boolean is ignored (the server's configuration check warns of it).
    assert refusal(kind="slurm", mail="no") is None


def test_the_server_configuration_knows_the_mail_key_and_warns_of_a_wrong_value():
    checked = validate(
        [],
        [
            {"id": "a", "title": "A", "kind": "slurm", "mail": False},
            {"id": "b", "title": "B", "kind": "torque", "mail": "off"},
        ],
        [],
    )
    assert [c.settings["mail"] for c in checked.clusters] == [False, "off"]
    assert checked.warnings == [
        "EspriVreApp.clusters[1] ('b'): mail must be true or false, not 'off': ignored"
    ]
    assert ClusterConfig.from_settings(checked.clusters[1].settings).mail is None


def test_mail_prog_is_read_from_the_real_scontrol_show_config(slurm):
    shown = subprocess.run(
        list(SCONTROL_CONFIG_ARGV), capture_output=True, text=True, timeout=30, check=True
    ).stdout
    # scripts/slurm/start.sh sets MailProg to its wrapper in the state dir.
    assert parse_mail_prog(shown) == str(slurm.state_dir / "mailprog")
    without = "\n".join(line for line in shown.splitlines() if not line.startswith("MailProg"))
    assert parse_mail_prog(without) is None  # output that does not say: not taken as "none"


@pytest.mark.anyio
async def test_the_real_slurm_allows_mail_unless_configured_off(slurm, job_store, user_root):
    (user_root / "mailed.sh").write_text("echo mailed\n")
    spec = JobSpec(kind=JobKind.SCRIPT, path="mailed.sh", hold=True, mail=JobMail(ADDRESS))
    on = SlurmScheduler(ClusterConfig(id="slurm", kind="slurm"), job_store, [user_root])
    assert await on.mail_refusal() is None
    assert on.known_mail_refusal is None
    off = SlurmScheduler(
        ClusterConfig(id="off", kind="slurm", title="Off", mail=False), job_store, [user_root]
    )
    for attempt in (off.submit(spec), off.preview_submission(spec)):
        with pytest.raises(JobValidationError, match="Off says mail = false") as caught:
            await attempt
        assert caught.value.fields == ["mail"]
    assert job_store.list("off") == []
    # A Slurm without MailProg (as `scontrol show config` would say) refuses the same way.
    without = SlurmScheduler(ClusterConfig(id="bare", kind="slurm"), job_store, [user_root])
    without._mail_prog = ""
    assert await without.mail_refusal() == NO_MAIL_PROG
    with pytest.raises(JobValidationError, match="MailProg is not set"):
        without.preview(spec)
