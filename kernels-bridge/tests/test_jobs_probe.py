"""Cluster reachability (espri_vre.jobs.probe) and the local command transport, against the real
Slurm started by the `slurm` fixture and the real outputs recorded in ../shared/fixtures/jobs."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

import pytest

from espri_vre.jobs.probe import (
    SINFO_ARGV,
    count_gpus,
    describe_pbsnodes,
    describe_sinfo,
    parse_pbsnodes_xml,
    parse_sinfo_nodes,
    probe_cluster,
    short_error,
    slurm_node_state,
    split_gres,
    torque_node_state,
)
from espri_vre.jobs.transport import (
    CommandNotFound,
    CommandTimeout,
    LocalTransport,
)

SHARED_JOBS = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "jobs"
OOD_SINFO = SHARED_JOBS / "slurm" / "sinfo" / "sinfo_gres__ood_core.txt"
PBSNODES_XML = SHARED_JOBS / "torque" / "pbsnodes_x__torque__qhost__output_00.xml"

# Captured from this project's Slurm 22.05.8 (scripts/slurm/start.sh) with SINFO_ARGV.
SINFO_LOCALHOST = "localhost|debug*|up|idle|gpu:2\nlocalhost|gpu|up|idle|gpu:2\n"
# Captured from Debian's sinfo 22.05.8, stderr, with AuthInfo=socket= pointing to no munged.
SINFO_MUNGE_DOWN = (
    "sinfo: error: If munged is up, restart with --num-threads=10\n"
    'sinfo: error: Munge encode failed: Failed to access "/nonexistent/munge.sock": No such file'
    " or directory (Did you start munged?)\n"
    "sinfo: error: slurm_send_node_msg: auth_g_create: REQUEST_PARTITION_INFO has authentication"
    " error\n"
    "slurm_load_partitions: Protocol authentication error\n"
)
# Same sinfo, with an unknown key in slurm.conf.
SINFO_BAD_CONF = (
    "sinfo: error: _parse_next_key: Parsing error at unrecognized key: Bogus\n"
    "sinfo: error: No SlurmctldHost defined.\n"
    "sinfo: fatal: Unable to process configuration file\n"
)


def probe(cluster: dict, timeout: float = 10) -> dict:
    return asyncio.run(probe_cluster(cluster, timeout))


def shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"recorded scheduler output {path} is absent (../shared is not mounted)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conf_variant(slurm, tmp_path: Path, **settings: str) -> Path:
    """A copy of the running cluster's slurm.conf with some keys replaced or added."""
    lines = slurm.conf.read_text().splitlines()
    lines = [ln for ln in lines if ln.split("=", 1)[0] not in settings]
    lines += [f"{k}={v}" for k, v in settings.items()]
    path = tmp_path / "slurm.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def fake_command(tmp_path: Path, name: str, script: str) -> Path:
    """A stand-in for a scheduler command on PATH; the tests using it say so in their names."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    path = bindir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return bindir


# --- probe against the real Slurm -------------------------------------------------------------


def test_real_slurm_is_reachable_with_its_partitions_nodes_and_gpus(slurm):
    status = probe({"kind": "slurm", "transport": "local"})
    assert status["reachable"] is True
    assert status["detail"].startswith("2 partitions (debug, gpu), 1 node: 1 ")
    assert status["detail"].endswith(", 2 GPUs")
    assert 0 < status["latency_ms"] < 10_000
    assert slurm.partitions == ("debug", "gpu")
    assert slurm.default_partition == "debug"


def test_real_sinfo_output_parses_to_the_configured_cluster(slurm):
    ran = asyncio.run(LocalTransport().run(SINFO_ARGV, timeout=10))
    summary = parse_sinfo_nodes(ran.stdout_text)
    assert summary.partitions == ("debug", "gpu")
    assert summary.default_partition == "debug"
    assert summary.unavailable_partitions == ()
    assert summary.nodes == 1
    assert set(summary.node_states) <= {"idle", "mixed", "allocated", "completing"}
    assert summary.gpus == 2


def test_controller_down_reports_slurms_own_message(slurm, tmp_path, monkeypatch):
    conf = conf_variant(slurm, tmp_path, SlurmctldPort=str(free_port()), MessageTimeout="1")
    monkeypatch.setenv("SLURM_CONF", str(conf))
    status = probe({"kind": "slurm"})
    assert status == {
        "reachable": False,
        "detail": "Unable to contact slurm controller (connect failure)",
        "latency_ms": status["latency_ms"],
    }
    assert status["latency_ms"] is not None


def test_munge_down_reports_the_munge_failure(slurm, tmp_path, monkeypatch):
    conf = conf_variant(slurm, tmp_path, AuthInfo=f"socket={tmp_path}/no-munged.socket")
    monkeypatch.setenv("SLURM_CONF", str(conf))
    status = probe({"kind": "slurm"})
    assert status["reachable"] is False
    assert status["detail"].startswith("Munge encode failed: Failed to access")
    assert "(Did you start munged?)" in status["detail"]


def test_sinfo_that_does_not_answer_in_time_is_unreachable_with_what_it_said(
    slurm, tmp_path, monkeypatch
):
    # A missing slurm.conf makes the real sinfo retry for 60 s.
    monkeypatch.setenv("SLURM_CONF", str(tmp_path / "absent.conf"))
    started = time.monotonic()
    status = probe({"kind": "slurm"}, timeout=1)
    assert time.monotonic() - started < 5
    assert status["reachable"] is False
    assert status["detail"].startswith("no answer from sinfo within 1 s (cannot stat file ")
    assert status["latency_ms"] >= 1000


def test_missing_sinfo_is_reported_as_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert probe({"kind": "slurm", "transport": "local"}) == {
        "reachable": False,
        "detail": "Slurm client commands (sinfo) are not installed on this server",
        "latency_ms": None,
    }


def test_fake_sinfo_with_garbage_output_is_unreachable_not_an_exception(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_command(tmp_path, "sinfo", "echo hello\n")))
    status = probe({"kind": "slurm"})
    assert status["reachable"] is False
    assert status["detail"] == "sinfo answered something unexpected: unexpected sinfo line: 'hello'"


def test_fake_sinfo_with_no_partition_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_command(tmp_path, "sinfo", "exit 0\n")))
    status = probe({"kind": "slurm"})
    assert status["reachable"] is False
    assert status["detail"] == "the Slurm controller answered but lists no partition"


# --- other kinds and transports -----------------------------------------------------------------


def test_local_cluster_is_reachable_as_processes_on_this_server():
    status = probe({"kind": "local", "transport": "local"})
    assert status["reachable"] is True
    assert status["detail"].startswith("jobs run as processes on this server (")
    assert status["latency_ms"] is None


def test_ssh_clusters_are_probed_on_their_login_node_and_say_why_not():
    for kind in ("slurm", "torque"):
        status = probe({"kind": kind, "transport": "ssh", "ssh": {"host": "127.0.0.1", "port": 9}})
        assert status["reachable"] is False
        assert "could not be run: cannot reach 127.0.0.1:9" in status["detail"]
        assert probe({"kind": kind, "transport": "ssh"})["detail"] == (
            "the ssh transport needs ssh.host (and usually user, key_file)"
        )


def test_slurm_over_ssh_to_a_real_sshd_is_reachable(sshd, slurm):
    cluster = {
        "kind": "slurm",
        "transport": "ssh",
        "ssh": sshd.settings(env={"SLURM_CONF": str(slurm.conf)}),
    }
    status = probe(cluster)
    assert status["reachable"] is True, status
    assert "debug" in status["detail"]


def test_unknown_kind_and_transport_are_unreachable_with_a_reason():
    assert probe({"kind": "pbspro"})["detail"] == (
        "unknown cluster kind 'pbspro': expected local, slurm or torque"
    )
    assert probe({"kind": "slurm", "transport": "rsh"})["detail"] == (
        "unknown transport 'rsh': expected local or ssh"
    )


def test_missing_pbsnodes_is_reported_as_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert probe({"kind": "torque"}) == {
        "reachable": False,
        "detail": "Torque client commands (pbsnodes) are not installed on this server",
        "latency_ms": None,
    }


def test_torque_via_fake_pbsnodes_replaying_recorded_output(tmp_path, monkeypatch):
    bindir = fake_command(tmp_path, "pbsnodes", f'exec /bin/cat "{shared(PBSNODES_XML)}"\n')
    monkeypatch.setenv("PATH", str(bindir))
    status = probe({"kind": "torque"})
    assert status["reachable"] is True
    assert status["detail"] == "5 nodes: 2 job-exclusive, 1 down, 1 free, 1 offline"


def test_torque_via_fake_pbsnodes_that_cannot_reach_its_server(tmp_path, monkeypatch):
    # The message pbs_connect prints (Torque 6, pbsnodes.c) when pbs_server is down.
    script = (
        "echo 'pbsnodes: cannot connect to server torque1, error=111 (Connection refused)' >&2\n"
        "exit 1\n"
    )
    monkeypatch.setenv("PATH", str(fake_command(tmp_path, "pbsnodes", script)))
    status = probe({"kind": "torque"})
    assert status["reachable"] is False
    assert status["detail"] == "cannot connect to server torque1, error=111 (Connection refused)"


# --- parsing, on real outputs -------------------------------------------------------------------


def test_sinfo_of_this_projects_cluster_parses():
    summary = parse_sinfo_nodes(SINFO_LOCALHOST)
    assert summary.partitions == ("debug", "gpu")
    assert summary.default_partition == "debug"
    assert dict(summary.node_states) == {"idle": 1}
    assert summary.gpus == 2
    assert describe_sinfo(summary) == "2 partitions (debug, gpu), 1 node: 1 idle, 2 GPUs"


def test_sinfo_of_a_298_node_gpu_cluster_counts_each_node_once():
    # OSC's Ascend (ood_core fixture): columns node, gres, gres used, long state; several lines
    # per node. Put into SINFO_ARGV's shape, keeping the real node names, gres and states.
    lines = [ln.split() for ln in shared(OOD_SINFO).read_text().splitlines() if ln.strip()]
    text = "\n".join(f"{f[0]}|batch*|up|{f[-1]}|{f[1]}" for f in lines)
    summary = parse_sinfo_nodes(text)
    assert summary.nodes == 298
    assert summary.gpus == 664
    assert dict(summary.node_states) == {
        "mixed": 206,
        "allocated": 73,
        "idle": 14,
        "draining": 2,
        "completing": 1,
        "drained (not responding)": 1,
        "reserved": 1,
    }
    assert describe_sinfo(summary) == (
        "1 partition (batch), 298 nodes: 206 mixed, 73 allocated, 14 idle, 2 draining, "
        "1 completing, 1 drained (not responding), 1 reserved, 664 GPUs"
    )


def test_many_and_down_partitions_are_summarised():
    text = "".join(f"n1|p{i}|{'down' if i == 6 else 'up'}|idle|\n" for i in range(7))
    detail = describe_sinfo(parse_sinfo_nodes(text))
    assert detail == "7 partitions (p0, p1, p2, p3, p4, …; 1 not up), 1 node: 1 idle"


def test_slurm_state_suffixes_are_dropped_but_not_responding_is_kept():
    assert slurm_node_state("mixed-") == "mixed"
    assert slurm_node_state("draining@") == "draining"
    assert slurm_node_state("drained*") == "drained (not responding)"
    assert slurm_node_state("IDLE~") == "idle"


def test_gres_lists_split_outside_parentheses_and_count_gpus():
    gres = "gpu:a100:2(S:2,7),nsight:no_consume:1,vis:no_consume:1"
    assert split_gres(gres) == ["gpu:a100:2(S:2,7)", "nsight:no_consume:1", "vis:no_consume:1"]
    assert count_gpus(gres) == 2
    assert count_gpus("gpu:2") == 2
    assert count_gpus("gpu:a100:4(IDX:0-3),pfsdir:scratch:0") == 4
    assert count_gpus("(null)") == 0


def test_pbsnodes_xml_of_a_torque_cluster_parses():
    summary = parse_pbsnodes_xml(shared(PBSNODES_XML).read_text())
    assert dict(summary.node_states) == {"job-exclusive": 2, "down": 1, "free": 1, "offline": 1}
    assert summary.nodes == 5
    assert summary.gpus == 0
    assert describe_pbsnodes(summary) == "5 nodes: 2 job-exclusive, 1 down, 1 free, 1 offline"


def test_torque_blocking_state_wins():
    assert torque_node_state("offline,job-exclusive") == "offline"
    assert torque_node_state("down,offline") == "down"
    assert torque_node_state("job-exclusive") == "job-exclusive"


def test_pbsnodes_that_is_not_xml_is_refused():
    with pytest.raises(ValueError, match="did not answer XML"):
        parse_pbsnodes_xml("pbsnodes: Unknown node  MSG=cannot locate specified node")
    with pytest.raises(ValueError, match="expected <Data>"):
        parse_pbsnodes_xml("<Other/>")


def test_scheduler_errors_are_shortened_to_their_own_words():
    assert (
        short_error("slurm_load_partitions: Unable to contact slurm controller (connect failure)\n")
        == "Unable to contact slurm controller (connect failure)"
    )
    assert short_error(SINFO_MUNGE_DOWN) == (
        'Munge encode failed: Failed to access "/nonexistent/munge.sock": No such file or directory'
        " (Did you start munged?); REQUEST_PARTITION_INFO has authentication error;"
        " Protocol authentication error"
    )
    assert short_error(SINFO_BAD_CONF) == (
        "Parsing error at unrecognized key: Bogus; No SlurmctldHost defined.;"
        " Unable to process configuration file"
    )
    assert short_error("x" * 500, limit=20) == "x" * 19 + "…"


# --- the local transport ------------------------------------------------------------------------


def run(argv, **kwargs):
    timeout = kwargs.pop("timeout", 10)
    stdin = kwargs.pop("input", None)
    return asyncio.run(LocalTransport(**kwargs).run(argv, timeout=timeout, input=stdin))


def test_shell_metacharacters_in_argv_are_passed_literally(tmp_path):
    victim = tmp_path / "x"
    victim.mkdir()
    result = run(["echo", "$(id); rm -rf x"], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout_text == "$(id); rm -rf x\n"
    assert victim.is_dir()


def test_a_shell_string_is_refused():
    with pytest.raises(TypeError, match="not a shell string"):
        run("echo hi")


def test_timeout_kills_the_command_and_what_it_started(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = f"echo started; sleep 60 & echo $! > {pidfile}; wait"
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        run(["sh", "-c", script], timeout=0.5)
    assert time.monotonic() - started < 5
    assert caught.value.stdout == b"started\n"
    assert str(caught.value) == "sh did not finish within 0.5 s and was killed"
    child = int(pidfile.read_text())
    assert not process_running(child)


def process_running(pid: int) -> bool:
    """False once the process is gone or a zombie (killed, waiting for a parent to reap it)."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state == "Z":
            return False
        time.sleep(0.05)
    return True


def test_cancelling_the_caller_kills_the_command(tmp_path):
    pidfile = tmp_path / "cmd.pid"

    async def cancel_soon():
        task = asyncio.ensure_future(
            LocalTransport().run(["sh", "-c", f"echo $$ > {pidfile}; exec sleep 60"], timeout=60)
        )
        while not pidfile.exists() or not pidfile.read_text().strip():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_soon())
    assert not process_running(int(pidfile.read_text()))


def test_output_is_bounded_and_says_so():
    result = run(["head", "-c", "1000000", "/dev/zero"], max_output=1000)
    assert result.returncode == 0
    assert len(result.stdout) == 1000
    assert result.stdout_truncated is True
    assert result.stderr_truncated is False


def test_stdin_stderr_returncode_and_duration_are_returned():
    result = run(["sh", "-c", "cat; echo oops >&2; exit 3"], input=b"script body\n")
    assert result.argv == ("sh", "-c", "cat; echo oops >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, b"script body\n", b"oops\n")
    assert result.ok is False
    assert 0 < result.duration < 5


def test_extra_environment_is_added_to_the_servers():
    result = run(["sh", "-c", 'echo "$SLURM_CONF:$PATH"'], env={"SLURM_CONF": "/x/slurm.conf"})
    assert result.stdout_text == f"/x/slurm.conf:{os.environ['PATH']}\n"


def test_missing_command_raises_command_not_found(tmp_path):
    with pytest.raises(CommandNotFound) as caught:
        run([str(tmp_path / "no-such-command")])
    assert caught.value.command == str(tmp_path / "no-such-command")
