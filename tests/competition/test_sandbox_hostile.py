"""Hostile submissions are stopped with a clear message and no effect outside their temporary folder.

The runtime tests start the worker directly, bypassing the static check, to prove the runtime guards hold too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from competition.sandbox.limits import Limits
from competition.sandbox.process import Worker, WorkerError
from competition.sandbox.static_check import check_folder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
MARKER = Path("/tmp/tito-hostile-imports-os-marker")


def _messages(name: str) -> str:
    return "\n".join(str(p) for p in check_folder(FIXTURES / name))


@pytest.mark.parametrize("name, expected", [
    ("hostile_reads_files", "model.py:7: use of 'open' is not allowed"),
    ("hostile_opens_socket", "model.py:3: import of 'socket' is not allowed"),
    ("hostile_imports_os", "model.py:3: import of 'os' is not allowed"),
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


def test_worker_has_no_network_interfaces_but_loopback() -> None:
    with Worker(None) as worker:
        assert worker.ready["interfaces"] == ["lo"]
        assert worker.sandbox.network_isolated and "CLONE_NEWNET" in worker.sandbox.method


@pytest.mark.parametrize("event, refused", [("shell", "os.system"), ("write", "writing '/tmp/tito-hostile"),
                                            ("remove", "os.remove")])
def test_runtime_guard_refuses_os_calls_and_leaves_no_trace(event: str, refused: str) -> None:
    MARKER.unlink(missing_ok=True)
    assert refused in _load_error("hostile_imports_os", event=event)
    assert not MARKER.exists()
    assert Path("/etc/hostname").exists()


def test_endless_loop_is_killed_at_the_wall_clock_limit_with_its_process_group() -> None:
    with Worker(FIXTURES / "hostile_loops_forever", label="candidate") as worker:
        worker.request("import", timeout=60)
        worker.request("load", event="x", timeout=60)
        worker.request("store", [np.zeros((2, 1, 28, 28), np.float32)], names=["batch"])
        pid = worker.ready["pid"]
        start = time.monotonic()
        with pytest.raises(WorkerError, match=r"wall-clock limit \(1.5 s\).*process group was killed"):
            worker.request("run", fn="predict", args=["batch"], timeout=1.5)
        assert time.monotonic() - start < 10
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_unbounded_allocation_stops_at_the_memory_limit() -> None:
    with Worker(FIXTURES / "hostile_allocates", limits=Limits(address_space_bytes=1 << 30)) as worker:
        worker.request("import", timeout=60)
        worker.request("load", event="x", timeout=60)
        worker.request("store", [np.zeros((2, 1, 28, 28), np.float32)], names=["batch"])
        with pytest.raises(WorkerError, match="ran out of memory"):
            worker.request("run", fn="predict", args=["batch"], timeout=60)
        # the worker survives its MemoryError and keeps answering
        assert worker.request("rss")[0]["max_rss_bytes"] > 0


def test_cpu_time_limit_stops_a_busy_worker() -> None:
    with Worker(FIXTURES / "hostile_loops_forever", limits=Limits(cpu_seconds=1)) as worker:
        worker.request("import", timeout=60)
        worker.request("load", event="x", timeout=60)
        worker.request("store", [np.zeros((2, 1, 28, 28), np.float32)], names=["batch"])
        with pytest.raises(WorkerError, match="CPU-time limit"):
            worker.request("run", fn="predict", args=["batch"], timeout=30)
