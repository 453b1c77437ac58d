"""The jail's detection, refusal and fallback, its record, its outside meters and its clean-up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from competition.sandbox import cgroup, diagnose, jail
from competition.sandbox.limits import Limits
from competition.sandbox.process import Worker, WorkerError, running

STATUS = jail.status()
needs_jail = pytest.mark.skipif(not STATUS.available, reason=f"the OS jail cannot run here: {STATUS.reason}")
UNAVAILABLE = jail.JailStatus(False, "bubblewrap is not installed (sudo apt-get install bubblewrap)")


@pytest.fixture
def no_jail(monkeypatch):
    monkeypatch.setattr(jail, "status", lambda: UNAVAILABLE)


@pytest.mark.parametrize("runner_class", ["reference", "edge"])
def test_ranked_runner_classes_refuse_to_run_without_the_jail(no_jail, runner_class: str) -> None:
    with pytest.raises(jail.JailUnavailable, match=f"runner class '{runner_class}'.*apt-get install bubblewrap"):
        jail.require(runner_class)


def test_local_runs_fall_back_with_one_clear_warning(no_jail) -> None:
    state = jail.require("local")
    assert not state.available
    assert state.warning.startswith("warning: no OS jail") and "\n" not in state.warning
    assert "isolation 'process'" in state.warning


def test_the_process_fallback_is_recorded_as_such(no_jail, tmp_path: Path) -> None:
    with Worker(None) as worker:
        record = worker.sandbox_record()
    assert record["isolation"] == "process" and record["method"].startswith("process sandbox")
    with pytest.raises(WorkerError, match="OS jail is not available: bubblewrap is not installed"):
        Worker(None, isolation="jail").start()


def test_apparmor_restriction_names_the_exact_fix(monkeypatch, tmp_path: Path) -> None:
    sysctl = tmp_path / "apparmor_restrict_unprivileged_userns"
    sysctl.write_text("1\n")
    monkeypatch.setattr(jail, "APPARMOR_SYSCTL", sysctl)
    reason = jail._failure_reason("bwrap: setting up uid map: Permission denied")
    assert "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in reason
    assert "Permission denied" in reason


def test_status_without_bwrap_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(jail, "find_bwrap", lambda: None)
    jail.status.cache_clear()
    try:
        assert jail.status().reason == UNAVAILABLE.reason
    finally:
        jail.status.cache_clear()


def test_the_jail_binds_the_parents_harness_and_hides_the_labels() -> None:
    import competition

    binds = dict((dest, source) for source, dest in jail.package_binds())
    assert binds[f"{jail.JAIL_LIB}/competition"] == str(Path(competition.__file__).parent)
    assert f"{jail.JAIL_LIB}/numpy" in binds and f"{jail.JAIL_LIB}/tinytorch" in binds
    assert not any(".venv" == part for source in binds.values() for part in Path(source).parts[-1:])


@needs_jail
def test_jailed_worker_record_meter_and_extra_environment(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(
        "import os\n\ndef load(event):\n    raise RuntimeError(repr(sorted(os.environ.items())))\n")
    with Worker(tmp_path, env={"OPENBLAS_CORETYPE": "Haswell"}, isolation="jail") as worker:
        record = worker.sandbox_record()
        worker.request("import")
        with pytest.raises(WorkerError) as info:
            worker.request("load", event="x")
        worker.reset_peak_memory()
        before = worker.peak_memory_bytes()
        worker.request("store", [np.ones(64 << 20, np.uint8)], names=["big"])
        after = worker.peak_memory_bytes()
        assert worker.host_pid != os.getpid() and Path(f"/proc/{worker.host_pid}").exists()
    assert record["isolation"] == "jail" and record["network_isolated"] is True
    assert record["memory_meter"] == worker.memory_meter != "none"
    assert "('OPENBLAS_CORETYPE', 'Haswell')" in str(info.value) and "('HOME', '/tmp')" in str(info.value)
    assert after - before >= 0.95 * (64 << 20)  # the 64 MiB array the worker now holds, seen from outside
    # (a little slack: the group may drop a few pages of cache between the two reads)


@needs_jail
def test_cgroup_is_removed_and_namespace_gone_after_close() -> None:
    worker = Worker(None, isolation="jail").start()
    dirs = list(worker._group.dirs.values()) if worker._group else []
    ns_init, host_pid = worker._ns_init, worker.host_pid
    worker.close()
    assert not any(d.exists() for d in dirs)
    assert not running(ns_init) and not running(host_pid)


@needs_jail
def test_wall_clock_timeout_kills_the_whole_namespace(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("def load(event):\n    while True:\n        pass\n")
    with Worker(tmp_path, isolation="jail") as worker:
        worker.request("import")
        with pytest.raises(WorkerError, match=r"wall-clock limit \(1 s\); the whole pid namespace was killed"):
            worker.request("load", event="x", timeout=1)
        assert not running(worker._ns_init)


@needs_jail
def test_cpu_time_limit_binds_in_the_jail(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("def load(event):\n    while True:\n        pass\n")
    with Worker(tmp_path, limits=Limits(cpu_seconds=1), isolation="jail") as worker:
        worker.request("import")
        with pytest.raises(WorkerError, match="CPU-time limit"):
            worker.request("load", event="x", timeout=30)


@needs_jail
def test_diagnose_proves_every_guarantee_from_outside() -> None:
    checks = diagnose.diagnose()
    assert [c.name for c in checks if not c.ok] == [], checks
    assert {"unprivileged uid", "network: loopback only", "host file unreadable", "environment empty",
            "process-count limit binds", "nothing survives close", "idle workers frozen"} <= {c.name for c in checks}


def test_diagnose_without_the_jail_reports_the_reason(no_jail) -> None:
    (check,) = diagnose.diagnose()
    assert not check.ok and "apt-get install bubblewrap" in check.fix


def test_cgroup_version_is_detected() -> None:
    assert cgroup.version() in ("v1", "v2", "none")


def test_ci_script_installs_and_checks_the_jail() -> None:
    script = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "bubblewrap" in script and "jail.status()" in script
    assert subprocess.run(["bash", "-n", ".ci/run"], cwd=Path(__file__).resolve().parents[2]).returncode == 0


@needs_jail
def test_a_parent_killed_outright_takes_its_jail_and_cgroup_with_it() -> None:
    code = ("from competition.sandbox.process import Worker\nw = Worker(None, isolation='jail').start()\n"
            "print(w._ns_init, w.host_pid, flush=True)\nimport time\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(running(p) for p in pids)
    leftovers = list(Path("/sys/fs/cgroup").glob(f"*/**/{cgroup.PREFIX}*-{parent.pid}-*"))
    assert leftovers or os.geteuid() != 0  # root can always make the worker's cgroup
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(p) for p in pids), "the jail outlived its parent"
    with Worker(None, isolation="jail"):  # the next worker removes groups whose creator is dead
        assert not any(path.exists() for path in leftovers)
