"""Hostile submissions are stopped with a clear message and no effect outside their temporary folder.

The runtime tests start the worker directly, bypassing the static check, in both isolations (the jail where it runs,
and the process sandbox): the friendly in-process errors hold in both. The jail itself is attacked from outside in
test_jail_attacks.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from competition.sandbox import jail
from competition.sandbox.limits import Limits, huge_pages_disabled, worker_cpu
from competition.sandbox.process import Worker, WorkerError, descendant_pids, running
from competition.sandbox.static_check import check_folder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
MARKER = Path("/tmp/tito-hostile-imports-os-marker")


def _messages(name: str) -> str:
    return "\n".join(str(p) for p in check_folder(FIXTURES / name))


@pytest.mark.parametrize("name, expected", [
    ("hostile_reads_files", "model.py:7: use of 'open' is not allowed"),
    ("hostile_opens_socket", "model.py:3: import of 'socket' is not allowed"),
    ("hostile_imports_os", "model.py:3: import of 'os' is not allowed"),
    ("hostile_escapes", "model.py:14: import of '_posixsubprocess' is not allowed"),
    ("hostile_forks_at_import", "model.py:6: import of '_posixsubprocess' is not allowed"),
    ("hostile_survives_at_import", "model.py:6: import of '_posixsubprocess' is not allowed"),
])
def test_static_check_refuses_hostile_code_with_file_and_line(name: str, expected: str) -> None:
    assert expected in _messages(name)


@pytest.mark.parametrize("name", ["hostile_loops_forever", "hostile_allocates"])
def test_runtime_only_cases_pass_the_static_check(name: str) -> None:
    assert check_folder(FIXTURES / name) == []


def _load_error(name: str, event: str = "cnn_marathon_offline", **limits: float) -> str:
    with Worker(FIXTURES / name, limits=Limits(**limits), label="candidate") as worker:
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError) as info:
            worker.request("load", event=event, timeout=60)
    return str(info.value)


def test_runtime_guard_refuses_reading_files_outside_the_folder() -> None:
    message = _load_error("hostile_reads_files")
    assert "sandbox: reading '/etc/passwd' is not allowed" in message
    assert "model.py:7" in message


def test_runtime_guard_refuses_sockets() -> None:
    assert "sandbox: 'socket." in _load_error("hostile_opens_socket")


@pytest.mark.parametrize("isolation", ["process", "auto"])
def test_worker_has_no_network_interfaces_but_loopback(isolation: str) -> None:
    with Worker(None, isolation=isolation) as worker:
        interfaces = Path(f"/proc/{worker.host_pid}/net/dev").read_text().splitlines()[2:]
        record = worker.sandbox_record()
    assert [line.split(":")[0].strip() for line in interfaces] == ["lo"]  # read from outside
    assert record["network_isolated"] and ("CLONE_NEWNET" in record["method"] or "net" in record["method"])


@pytest.mark.parametrize("isolation", ["process", "auto"])
@pytest.mark.parametrize("event, refused", [("shell", "os.system"), ("write", "writing '/tmp/tito-hostile"),
                                            ("remove", "os.remove")])
def test_runtime_guard_refuses_os_calls_and_leaves_no_trace(event: str, refused: str, isolation: str) -> None:
    MARKER.unlink(missing_ok=True)
    with Worker(FIXTURES / "hostile_imports_os", label="candidate", isolation=isolation) as worker:
        worker.request("import", timeout=60)
        try:
            worker.request("load", event=event, timeout=60)
            message = ""
        except WorkerError as err:
            message = str(err)
        jailed = worker.sandbox_record()["isolation"] == "jail"
    # in the jail /tmp is the worker's private tmpfs, where the guard lets it write; nothing reaches the host
    assert refused in message or (jailed and event == "write")
    assert not MARKER.exists()
    assert Path("/etc/hostname").exists()


@pytest.mark.parametrize("isolation", ["process", "auto"])
def test_endless_loop_is_killed_at_the_wall_clock_limit_with_all_it_started(isolation: str) -> None:
    with Worker(FIXTURES / "hostile_loops_forever", label="candidate", isolation=isolation) as worker:
        worker.request("import", timeout=60)
        pid = worker.host_pid
        start = time.monotonic()
        with pytest.raises(WorkerError, match=r"wall-clock limit \(1.5 s\).*(process group|pid namespace) was killed"):
            worker.request("load", event="hostile", timeout=1.5)
        assert time.monotonic() - start < 10
        assert not running(pid)


@pytest.mark.parametrize("isolation", ["process", "auto"])
def test_unbounded_allocation_stops_at_the_memory_limit(isolation: str) -> None:
    limits = Limits(address_space_bytes=1 << 30)
    with Worker(FIXTURES / "hostile_allocates", limits=limits, isolation=isolation) as worker:
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError, match="ran out of memory"):
            worker.request("load", event="hostile", timeout=60)
        # the worker survives its MemoryError and keeps answering
        assert worker.request("load", event="x", timeout=60)[0] == {}


@pytest.mark.parametrize("isolation", ["process", "auto"])
def test_cpu_time_limit_stops_a_busy_worker(isolation: str) -> None:
    with Worker(FIXTURES / "hostile_loops_forever", limits=Limits(cpu_seconds=1), isolation=isolation) as worker:
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError, match="CPU-time limit"):
            worker.request("load", event="hostile", timeout=30)


def test_reassigning_the_guards_module_globals_does_not_disarm_it(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(
        "import sys\n\ndef load(event):\n    guard = sys.modules['competition.sandbox.guard']\n"
        "    guard._check_open = guard._inside = lambda *args: None\n    guard.REFUSED_PREFIXES = ('never',)\n"
        "    return open('/etc/passwd').read()\n")
    with Worker(tmp_path, isolation="process") as worker:
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError, match="sandbox: reading '/etc/passwd' is not allowed"):
            worker.request("load", event="x", timeout=60)


@pytest.mark.parametrize("isolation", ["process", "auto"])
def test_every_worker_runs_on_the_one_worker_cpu_without_huge_pages(isolation: str) -> None:
    """Read from outside, in /proc: the same CPU and the same page size for every contender (limits.place_worker)."""
    with Worker(None, isolation=isolation) as worker:
        pid = worker.host_pid
        assert huge_pages_disabled(pid) is True
        assert os.sched_getaffinity(pid) == {worker_cpu()}
        if worker.sandbox_record()["isolation"] == "jail":
            assert "no transparent huge pages" in worker.sandbox_record()["method"]



THP_ATTACK = '''
import os, sys, _posixsubprocess

HELPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
done = libc.prctl(41, 0, 0, 0, 0)  # PR_SET_THP_DISABLE 0: huge pages back on for this process
errno = ctypes.get_errno()
try:
    os.sched_setaffinity(0, range(os.cpu_count()))  # every core
    widened = "widened"
except OSError as err:
    widened = f"affinity errno {err.errno}"
os.write(1, f"{done} {errno} {libc.prctl(42, 0, 0, 0, 0)} {widened}".encode())
sys.stdin.read()  # stay alive until the worker closes: read from outside meanwhile
"""


def load(event):
    out_r, out_w = os.pipe()
    in_r, in_w = os.pipe()
    err_r, err_w = os.pipe()
    _posixsubprocess.fork_exec([sys.executable, "-c", HELPER], [sys.executable.encode()], True,
                               tuple(sorted((in_r, out_w, err_w))), None, None, in_r, -1, -1, out_w, -1, -1, err_r,
                               err_w, True, False, -1, None, None, None, -1, None, False)
    for fd in (out_w, in_r, err_w):
        os.close(fd)
    global KEEP
    KEEP = in_w  # the helper lives while the worker does
    raise RuntimeError("helper: " + os.read(out_r, 100).decode())
'''


def test_no_process_of_the_jail_can_turn_huge_pages_back_on_or_widen_its_cpus(tmp_path: Path) -> None:
    """A hook-free child interpreter calls prctl(PR_SET_THP_DISABLE, 0) through ctypes and sched_setaffinity to every
    core (past the static check and the audit hook): the jail's seccomp filter refuses both, and every process of the
    jail still runs without huge pages on the one worker CPU, read from outside."""
    if not jail.status().available:
        pytest.skip(f"no OS jail here: {jail.status().reason}")
    (tmp_path / "model.py").write_text(THP_ATTACK)
    with Worker(tmp_path, isolation="jail") as worker:
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError) as info:  # what the helper saw: prctl's result, errno, THP still disabled
            worker.request("load", event="x", timeout=60)
        # prctl -1 with EPERM, PR_GET_THP_DISABLE still 1, sched_setaffinity EPERM (a cpuset alone gives EINVAL or
        # narrows the mask silently)
        assert "helper: -1 1 1 affinity errno 1" in str(info.value), str(info.value)
        pids = descendant_pids(worker._ns_init)
        assert len(pids) >= 2 and all(huge_pages_disabled(pid) is True for pid in pids)
        assert all(os.sched_getaffinity(pid) == {worker_cpu()} for pid in pids)
