"""A fake Torque for the tests: `qsub qstat qdel qhold qrls pbsnodes` replaying real outputs
recorded from Torque servers (../shared/fixtures/jobs/torque, see its SOURCES.txt), with a small
state machine for the jobs the tests submit. No Torque server can be installed here.

- Other users' jobs are the recorded ones, printed verbatim: `qstat -x` prints the jobs of the
  recorded `qstat -x` files, `qstat -f` the recorded `qstat -f` file, plain `qstat` the recorded
  table; `pbsnodes -x` and `pbsnodes` print the recorded node lists.
- A submitted job is written with the recorded queued job as template, ids continue the recorded
  server's ('4499335.pbsserver'). Each `qstat` that shows it moves it on: Q -> R -> C. Its exit
  status is 0, or the one `outcomes.json` gives its name. `-h` submits it held (H); `afterok`
  keeps it queued until the jobs it names completed with 0.
- `-a [[[[CC]YY]MM]DD]hhmm[.SS]` defers a job: it waits in state W (with its Execution_Time) until
  then, as Torque's qsub(1B) says. A deferred job's script is run for real when it starts (bash,
  PBS_JOBID and its -v variables set, its -o/-e files written, its exit status kept): a
  schedule's job submits its next run with qsub from its script. The fake's clock can be moved
  ahead with a clock_offset file (seconds), so that a test sees a deferred job start without
  waiting for the minute.
- `qdel` ends a queued or held job as C with no exit status and a running one with 271 (256 +
  SIGTERM), as Torque does; `qhold`/`qrls` move Q <-> H and refuse other states.
- `qstat -Q -f` has no recorded sample of a loaded cluster: it is written in the format of
  Torque's qstat(1B) and of the recorded real answer in qstat_Qf/ (its source in its header), with
  two queues (batch, long) whose total_jobs and state_count count the jobs the tests submitted
  there, in their current states (a qstat -Q moves no job on).

- `showstart` (Moab's, for a Torque cluster configured with moab: true) prints the outputs Moab's
  documentation prints (moab/*.txt beside this file, their source in each header): its Example 1
  for a job id this fake knows, its Example 2 for a resource request `<procs>[@<duration>]`,
  verbatim whatever the job or request (only the arguments are checked). Each call's argv is
  appended to showstart.log (one JSON list a line), so that tests see what reached it.

State lives in $FAKE_TORQUE_DIR (state.json, under a lock). Tests steer it with files there:
outcomes.json ({"job name": exit status}), fail_next (first line a count, then the stderr that
many qstat calls answer, exit 1), xml_broken (qstat -x prints XML cut in the middle), clock_offset
(seconds added to the fake's clock), showstart_output (what showstart prints instead of the
documented sample), showstart_hangs (showstart never answers), qstat_qf_output (what qstat -Q -f
prints instead), qstat_qf_fails (qstat -Q -f fails with this stderr), qstat_qf_hangs (qstat -Q -f
never answers), pbsnodes_fails (pbsnodes fails with this stderr)."""

from __future__ import annotations

import contextlib
import copy
import fcntl
import getpass
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

SERVER = "pbsserver"
FIRST_ID = 4499335
QUEUES = ("batch", "long")
QSTAT_XML_FILES = (
    "qstat_x__torque__batcheuphoria__outputQueued.xml",
    "qstat_x__torque__batcheuphoria__outputFinished.xml",
    "qstat_x__torque_stanford__fyrd.xml",
)
TEMPLATE_FILE = "qstat_x__torque__batcheuphoria__outputQueued.xml"
QSTAT_F_FILE = "qstat_f__torque_dkfz__batcheuphoria__output1.txt"
TABLE_FILE = "qsub_qstat_output__documented_samples.txt"
PBSNODES_XML_FILE = "pbsnodes_x__torque__qhost__output_00.xml"
PBSNODES_TEXT_FILE = "vsc__pbsnodes_gpu.txt"
QSTAT_QF = """\
Queue: batch
    queue_type = Execution
    total_jobs = {batch_total}
    state_count = {batch_counts}
    resources_max.walltime = 48:00:00
    resources_max.nodect = 4
    resources_default.walltime = 01:00:00
    resources_default.nodes = 1
    mtime = Wed Jun 21 10:00:00 2017
    enabled = True
    started = True

Queue: long
    queue_type = Execution
    total_jobs = {long_total}
    state_count = {long_counts}
    resources_max.walltime = 720:00:00
    resources_max.mem = 16gb
    resources_default.walltime = 24:00:00
    mtime = Wed Jun 21 10:00:00 2017
    enabled = True
    started = True

"""


def fixtures() -> Path:
    return Path(os.environ["FAKE_TORQUE_FIXTURES"])


def state_dir() -> Path:
    return Path(os.environ["FAKE_TORQUE_DIR"])


@contextlib.contextmanager
def locked_state() -> Iterator[dict]:
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "state.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = directory / "state.json"
        state = json.loads(path.read_text()) if path.exists() else {"next": FIRST_ID, "jobs": {}}
        yield state
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(path)


def short(job_id: str) -> str:
    return job_id.split(".", 1)[0]


def fake_clock() -> int:
    """The fake server's clock: this machine's, moved by clock_offset when the test asks."""
    path = state_dir() / "clock_offset"
    offset = float(path.read_text()) if path.exists() else 0.0
    return int(time.time() + offset)


def execution_time(text: str) -> int:
    """qsub -a's [[[[CC]YY]MM]DD]hhmm[.SS], in local time, the fields left out from today."""
    m = re.fullmatch(r"(\d{2,12})(?:\.(\d{2}))?", text)
    if not m or len(m.group(1)) % 2:
        raise ValueError(text)
    digits, today = m.group(1), time.localtime()
    fields = {"Y": today.tm_year, "m": today.tm_mon, "d": today.tm_mday}
    if len(digits) >= 12:
        fields["Y"], digits = int(digits[:4]), digits[4:]
    elif len(digits) == 10:
        fields["Y"], digits = 2000 + int(digits[:2]), digits[2:]
    if len(digits) >= 8:
        fields["m"], digits = int(digits[:2]), digits[2:]
    if len(digits) >= 6:
        fields["d"], digits = int(digits[:2]), digits[2:]
    hour, minute = int(digits[:2]), int(digits[2:4])
    second = int(m.group(2) or 0)
    parts = (fields["Y"], fields["m"], fields["d"], hour, minute, second, 0, 0, -1)
    return int(time.mktime(parts))


def outcomes() -> dict:
    path = state_dir() / "outcomes.json"
    return json.loads(path.read_text()) if path.exists() else {}


def injected_failure() -> str | None:
    """The stderr of a scripted failure, when the tests asked for one."""
    path = state_dir() / "fail_next"
    if not path.exists():
        return None
    count, _, message = path.read_text().partition("\n")
    remaining = int(count) - 1
    if remaining <= 0:
        path.unlink()
    else:
        path.write_text(f"{remaining}\n{message}")
    return message


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(message.rstrip("\n") + "\n")
    return code


# qsub


def qsub(args: list[str]) -> int:
    options: dict[str, list[str]] = {}
    flags = set()
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-h":
            flags.add("h")
        elif arg in ("-N", "-q", "-l", "-A", "-t", "-W", "-d", "-o", "-e", "-a", "-v", "-m", "-M"):
            options.setdefault(arg[1], []).append(args[i + 1])
            i += 1
        else:
            return fail(f"qsub: invalid option -- '{arg.lstrip('-')}'", 2)
        i += 1
    script = sys.stdin.read()
    if not script.strip():
        return fail("qsub: no script given on stdin")
    # As Torque's qsub does, #PBS directives at the top of the script count as options given
    # before the command line's (which override them).
    directives: dict[str, list[str]] = {}
    for line in script.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith("#"):
            break  # the first command ends the directives
        if line.startswith("#PBS -") and len(line.split(None, 2)) == 3:
            _, flag, value = line.split(None, 2)
            if flag in ("-N", "-q", "-l", "-A", "-t", "-W", "-d", "-o", "-e", "-m", "-M"):
                directives.setdefault(flag[1], []).append(value.strip())
    for key, values in directives.items():
        options[key] = values + options.get(key, [])
    queue = options.get("q", ["batch"])[-1]
    if queue not in QUEUES:
        return fail("qsub: submit error (Unknown queue MSG=cannot locate queue)")
    resources: dict[str, str] = {}
    for spec in options.get("l", []):
        for item in spec.split(","):
            key, _, value = item.partition("=")
            resources[key] = value
    depend = options.get("W", [""])[-1].removeprefix("depend=")
    deferred = None
    if "a" in options:
        try:
            deferred = execution_time(options["a"][-1])
        except ValueError:
            return fail(f"qsub: illegal -a value {options['a'][-1]}", 2)
    with locked_state() as state:
        number = state["next"]
        state["next"] = number + 1
        array = options.get("t", [None])[-1]
        job_id = f"{number}[].{SERVER}" if array else f"{number}.{SERVER}"
        now = int(time.time())
        state["jobs"][short(job_id)] = {
            "id": job_id,
            "name": options.get("N", ["STDIN"])[-1],
            "state": "H" if "h" in flags else "W" if deferred else "Q",
            "execution_time": deferred,
            "variables": dict(
                v.partition("=")[::2] for o in options.get("v", []) for v in o.split(",")
            ),
            "queue": queue,
            "resources": resources,
            "account": options.get("A", [None])[-1],
            "array": array,
            "depend": depend or None,
            "workdir": options.get("d", [os.getcwd()])[-1],
            "output": options.get("o", [None])[-1],
            "error": options.get("e", [None])[-1],
            "mail_points": options.get("m", [None])[-1],
            "mail_users": options.get("M", [None])[-1],
            "ctime": now,
            "start": None,
            "end": None,
            "exit": None,
            "script": script,
        }
    print(job_id)
    return 0


# State machine


def advance(state: dict, job: dict) -> bool:
    """One observation moves a job on: W -> Q once its execution time has come, Q -> R -> C.
    Whether the job just started and its script is to be run (a deferred job)."""
    clock = fake_clock()
    if job["state"] == "W" and clock >= (job.get("execution_time") or 0):
        job["state"] = "Q"
    if job["state"] == "Q" and dependencies_met(state, job):
        job["state"], job["start"] = "R", clock
        return bool(job.get("execution_time"))
    if job["state"] == "R" and not job.get("running"):
        job["state"], job["end"] = "C", clock
        if job["exit"] is None:
            job["exit"] = int(outcomes().get(job["name"], 0))
    return False


def run_scripts(started: list[dict]) -> None:
    """Runs the scripts of the deferred jobs that just started, outside the state's lock (a
    script may call qsub), and keeps their exit status."""
    for job in started:
        env = {**os.environ, **job.get("variables", {}), "PBS_JOBID": job["id"]}
        paths = [
            (job[k] or os.devnull).replace("$PBS_JOBID", job["id"]) for k in ("output", "error")
        ]
        with open(paths[0], "ab") as out, open(paths[1], "ab") as err:
            ran = subprocess.run(
                ["/bin/bash", "-s"],
                input=job["script"].encode(),
                stdout=out,
                stderr=err,
                cwd=job["workdir"],
                env=env,
                timeout=120,
                check=False,
            )
        with locked_state() as state:
            kept = state["jobs"][short(job["id"])]
            kept["exit"], kept["running"] = ran.returncode, False


def dependencies_met(state: dict, job: dict) -> bool:
    if not job["depend"]:
        return True
    kind, _, ids = job["depend"].partition(":")
    for dep in ids.split(":"):
        other = state["jobs"].get(short(dep))
        if kind == "afterok" and (other is None or other["state"] != "C" or other["exit"] != 0):
            return False
    return True


# qstat


def job_attributes(job: dict) -> list[tuple[str, str | dict]]:
    """The job's attributes in the order Torque prints them."""
    owner = f"{getpass.getuser()}@fakehost"
    res = {"nodes": "1:ppn=1", **job["resources"]}
    if "nodes" in res:
        res.setdefault("nodect", res["nodes"].split(":", 1)[0])
    attrs: list[tuple[str, str | dict]] = [
        ("Job_Id", job["id"]),
        ("Job_Name", job["name"]),
        ("Job_Owner", owner),
        ("job_state", job["state"]),
        ("queue", job["queue"]),
        ("server", SERVER),
        ("ctime", str(job["ctime"])),
    ]
    if job["error"]:
        attrs.append(("Error_Path", f"fakehost:{job['error']}"))
    if job["start"]:
        attrs.append(("exec_host", "node1/0"))
    attrs += [("Hold_Types", "u" if job["state"] == "H" else "n")]
    if job.get("execution_time"):
        attrs.append(("Execution_Time", str(job["execution_time"])))
    if job["output"]:
        attrs.append(("Output_Path", f"fakehost:{job['output']}"))
    attrs += [("qtime", str(job["ctime"])), ("Resource_List", res)]
    if job["depend"]:
        attrs.append(("depend", job["depend"]))
    if job["account"]:
        attrs.append(("Account_Name", job["account"]))
    if job["array"]:
        attrs.append(("job_array_request", job["array"]))
    attrs += [("euser", getpass.getuser()), ("init_work_dir", job["workdir"])]
    if job["start"]:
        attrs.append(("start_time", str(job["start"])))
    if job["state"] == "C":
        if job["exit"] is not None:
            attrs.append(("exit_status", str(job["exit"])))
        attrs.append(("comp_time", str(job["end"] or job["ctime"])))
    return attrs


def job_xml(job: dict) -> str:
    """The job as `qstat -x` writes it: the recorded queued job with this job's attributes (the
    recorded ones it does not set, such as Variable_List and Checkpoint, stay)."""
    element = copy.deepcopy(ET.parse(fixtures() / TEMPLATE_FILE).getroot().find("Job"))
    for leftover in ("submit_args", "submit_host"):
        if (child := element.find(leftover)) is not None:
            element.remove(child)
    for key, value in job_attributes(job):
        child = element.find(key)
        if child is None:
            child = ET.SubElement(element, key)
        if isinstance(value, dict):
            for sub in list(child):
                child.remove(sub)
            for k, v in value.items():
                ET.SubElement(child, k).text = v
        else:
            child.text = value
    return ET.tostring(element, encoding="unicode")


def job_text(job: dict) -> str:
    """The job as `qstat -f` writes it: values wrapped at 78 columns onto TAB lines."""
    lines = [f"Job Id: {job['id']}"]
    for key, value in job_attributes(job)[1:]:
        items = value.items() if isinstance(value, dict) else [("", value)]
        for sub, text in items:
            name = f"{key}.{sub}" if sub else key
            lines += wrap(f"    {name} = {text}")
    return "\n".join(lines) + "\n\n"


def wrap(line: str, width: int = 78) -> list[str]:
    out = [line[:width]]
    rest = line[width:]
    while rest:
        out.append("\t" + rest[: width - 8])
        rest = rest[width - 8 :]
    return out


def recorded_xml_jobs() -> list[str]:
    jobs = []
    for name in QSTAT_XML_FILES:
        text = (fixtures() / name).read_text()
        jobs += re.findall(r"<Job>.*?</Job>", text, flags=re.S)
    return jobs


def qstat(args: list[str]) -> int:
    failure = injected_failure()
    if failure is not None:
        return fail(failure)
    if args[:2] in (["-Q", "-f"], ["-Qf"]):
        return qstat_queues()
    form = "x" if "-x" in args else "f" if "-f" in args else "table"
    wanted = [a for a in args if not a.startswith("-")]
    started: list[dict] = []
    with locked_state() as state:
        if wanted:
            jobs = []
            for job_id in wanted:
                job = state["jobs"].get(short(job_id))
                if job is None:
                    recorded = [j for j in recorded_ids(form) if short(j) == short(job_id)]
                    if not recorded:
                        return fail(f"qstat: Unknown Job Id Error {job_id}", 153)
                    continue
                observe(state, job, started)
                jobs.append(copy.deepcopy(job))
        else:
            jobs = []
            for job in state["jobs"].values():
                observe(state, job, started)
                jobs.append(copy.deepcopy(job))
    run_scripts(started)
    if form == "x":
        others = [] if wanted else recorded_xml_jobs()
        text = "<Data>" + "".join(others + [job_xml(j) for j in jobs]) + "</Data>"
        if (state_dir() / "xml_broken").exists():
            text = text[: len(text) // 2]
        sys.stdout.write(text)
    elif form == "f":
        others = "" if wanted else (fixtures() / QSTAT_F_FILE).read_text()
        sys.stdout.write(others + "".join(job_text(j) for j in jobs))
    else:
        sys.stdout.write(table(jobs, others=not wanted))
    return 0


STATE_COUNT = {
    "T": "Transit",
    "Q": "Queued",
    "H": "Held",
    "W": "Waiting",
    "R": "Running",
    "E": "Exiting",
    "C": "Complete",
}
"""state_count's words for each job state, in the order Torque prints them."""


def qstat_queues() -> int:
    """`qstat -Q -f`: QSTAT_QF with each queue's jobs counted by state."""
    if (state_dir() / "qstat_qf_hangs").exists():
        time.sleep(120)  # longer than any time-out the tests give it
    if (state_dir() / "qstat_qf_fails").exists():
        return fail((state_dir() / "qstat_qf_fails").read_text())
    if (state_dir() / "qstat_qf_output").exists():
        sys.stdout.write((state_dir() / "qstat_qf_output").read_text())
        return 0
    with locked_state() as state:
        jobs = list(state["jobs"].values())
    fields = {}
    for queue in QUEUES:
        states = [j["state"] for j in jobs if j["queue"] == queue]
        counts = " ".join(f"{word}:{states.count(s)}" for s, word in STATE_COUNT.items())
        fields[f"{queue}_total"], fields[f"{queue}_counts"] = len(states), counts
    sys.stdout.write(QSTAT_QF.format(**fields))
    return 0


def observe(state: dict, job: dict, started: list[dict]) -> None:
    if advance(state, job):
        job["running"] = True
        started.append(copy.deepcopy(job))


def recorded_ids(form: str) -> list[str]:
    if form == "f":
        text = (fixtures() / QSTAT_F_FILE).read_text()
        return re.findall(r"^Job Id: (\S+)", text, flags=re.M)
    return [re.search(r"<Job_Id>(.*?)</Job_Id>", j).group(1) for j in recorded_xml_jobs()]


def table(jobs: list[dict], others: bool) -> str:
    recorded = (fixtures() / TABLE_FILE).read_text().splitlines()
    start = next(i for i, line in enumerate(recorded) if line.startswith("Job ID"))
    lines = recorded[start : start + 2]
    if others:
        lines += [ln for ln in recorded[start + 2 :] if ln.strip()]
    for job in jobs:
        used = "00:00:00" if job["start"] else "0"
        lines.append(
            f"{job['id'][:25]:<25} {job['name'][:16]:<16} {getpass.getuser()[:15]:<15} "
            f"{used:>8} {job['state']} {job['queue']}"
        )
    return "\n".join(lines) + "\n"


# qdel, qhold, qrls


def control(command: str, args: list[str]) -> int:
    if not args:
        return fail(f"usage: {command} job_identifier...", 2)
    with locked_state() as state:
        for job_id in args:
            job = state["jobs"].get(short(job_id))
            if job is None:
                return fail(f"{command}: Unknown Job Id Error {job_id}", 153)
            now = int(time.time())
            if command == "qdel":
                if job["state"] == "C":
                    return fail(f"qdel: Request invalid for state of job {job['id']}", 170)
                if job["state"] == "R":
                    job["exit"] = 271
                job["state"], job["end"] = "C", now
            elif command == "qhold":
                if job["state"] not in ("Q", "H", "W"):
                    return fail(f"qhold: Request invalid for state of job {job['id']}", 170)
                job["state"] = "H"
            elif command == "qrls":
                if job["state"] != "H":
                    return fail(f"qrls: Request invalid for state of job {job['id']}", 170)
                job["state"] = "W" if (job.get("execution_time") or 0) > fake_clock() else "Q"
    return 0


def pbsnodes(args: list[str]) -> int:
    if (state_dir() / "pbsnodes_fails").exists():
        return fail((state_dir() / "pbsnodes_fails").read_text())
    name = PBSNODES_XML_FILE if "-x" in args else PBSNODES_TEXT_FILE
    sys.stdout.write((fixtures() / name).read_text())
    return 0


MOAB_SAMPLES = Path(__file__).resolve().parent / "moab"
SHOWSTART_JOB_FILE = "showstart_job__moab_docs_example1.txt"
SHOWSTART_REQUEST_FILE = "showstart_request__moab_docs_example2.txt"


def documented(name: str) -> str:
    """A documented sample's output: what follows its header's last line, '# ---'."""
    return (MOAB_SAMPLES / name).read_text().split("# ---\n", 1)[1]


def showstart(args: list[str]) -> int:
    with open(state_dir() / "showstart.log", "a") as calls:
        calls.write(json.dumps(args) + "\n")
    if (state_dir() / "showstart_hangs").exists():
        time.sleep(120)  # longer than any time-out the tests give it
    if len(args) != 1:
        return fail("usage: showstart {jobid|proccount[@duration]}", 2)
    if (state_dir() / "showstart_output").exists():
        sys.stdout.write((state_dir() / "showstart_output").read_text())
        return 0
    with locked_state() as state:
        known = short(args[0]) in state["jobs"]
    if not known and re.fullmatch(r"\d+(@[\d:]+)?", args[0]):
        # A number that names no job is read as a processor count (a request).
        sys.stdout.write(documented(SHOWSTART_REQUEST_FILE))
        return 0
    if not known:
        # The fake's own words: no documented sample shows Moab's answer for an unknown job.
        return fail(f"faketorque showstart: no job {args[0]}")
    sys.stdout.write(documented(SHOWSTART_JOB_FILE))
    return 0


def main(command: str, args: list[str]) -> int:
    if command == "qsub":
        return qsub(args)
    if command == "qstat":
        return qstat(args)
    if command in ("qdel", "qhold", "qrls"):
        return control(command, args)
    if command == "pbsnodes":
        return pbsnodes(args)
    if command == "showstart":
        return showstart(args)
    return fail(f"faketorque: unknown command {command}", 2)
