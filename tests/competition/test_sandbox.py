"""Worker process: framing, scrubbed environment, temporary copy, guard against label leaks, clean shutdown."""

from __future__ import annotations

import ast
import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from competition.sandbox import channel
from competition.sandbox.process import Worker, WorkerError

ALLOWED_ENV = {"PATH", "LANG", "HOME", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
SET_BY_THE_INTERPRETER = {"LC_CTYPE", "PWD", "KMP_DUPLICATE_LIB_OK"}
PROBE = '''
import os


def load(event):
    scratch = os.path.join(os.environ["HOME"], "scratch.txt")
    with open(scratch, "w") as handle:  # writing to the worker's own temporary home is allowed
        handle.write("ok")
    raise RuntimeError(repr({"env": dict(os.environ), "cwd": os.getcwd(), "scratch": os.path.exists(scratch)}))
'''


def test_channel_round_trip_preserves_arrays_and_header() -> None:
    r, w = os.pipe()
    arrays = [np.arange(6, dtype=np.int64).reshape(2, 3), np.ones((2, 1, 3), np.float16)]
    channel.send(w, {"op": "x", "values": [1.5]}, arrays)
    header, out = channel.receive(r, deadline=None)
    assert header == {"op": "x", "values": [1.5]}
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(arrays, out))
    os.close(r), os.close(w)


def test_channel_never_unpickles_object_arrays() -> None:
    with pytest.raises(ValueError):
        channel.encode({}, [np.array([{"a": 1}], dtype=object)])
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([object()], dtype=object), allow_pickle=True)
    head = b'{"n_arrays": 1}'
    r, w = os.pipe()
    os.write(w, struct.pack(">I", len(head)) + head + struct.pack(">Q", len(buf.getvalue())) + buf.getvalue())
    with pytest.raises(channel.ChannelError, match="malformed array"):
        channel.receive(r, deadline=None)
    os.close(r), os.close(w)


@pytest.mark.parametrize("header", [
    b"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",  # a structured dtype
    b"{'descr': '<f4', 'fortran_order': False, 'shape': (__import__('os').getpid(),), }",  # an expression
    b"{'descr': '<f4', 'shape': (1,), 'fortran_order': False, }",  # not the writer's own key order
    b"{'descr': '|S0', 'fortran_order': False, 'shape': (1000000000000,), }",  # zero-byte items, any count
    b"{'descr': '<U1', 'fortran_order': False, 'shape': (1,), }",  # 4 bytes, but text, not numbers
    b"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 0), }",  # no such dimension
])
def test_channel_reads_only_the_plain_npy_headers_it_writes(header: bytes) -> None:
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header) + 1) + header + b"\n" + b"\0" * 4
    head = b'{"n_arrays": 1}'
    r, w = os.pipe()
    os.write(w, struct.pack(">I", len(head)) + head + struct.pack(">Q", len(npy)) + npy)
    with pytest.raises(channel.ChannelError, match="malformed array"):
        channel.receive(r, deadline=None)
    os.close(r), os.close(w)


def test_channel_bounds_sizes_and_time() -> None:
    r, w = os.pipe()
    os.write(w, struct.pack(">I", channel.MAX_HEADER_BYTES + 1))
    with pytest.raises(channel.ChannelError, match="exceeds"):
        channel.receive(r, deadline=None)
    flood = b'{"n_arrays": %d}' % (channel.MAX_ARRAYS + 1)
    os.write(w, struct.pack(">I", len(flood)) + flood)
    with pytest.raises(channel.ChannelError, match="arrays exceeds"):
        channel.receive(r, deadline=None)
    import time
    with pytest.raises(channel.ChannelError, match="timed out"):
        channel.receive(r, deadline=time.monotonic() + 0.05)
    os.close(r), os.close(w)


@pytest.mark.parametrize("isolation", ["process", "auto"])
def test_worker_env_is_scrubbed_and_runs_in_a_temporary_copy(tmp_path: Path, monkeypatch, isolation: str) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    (tmp_path / "model.py").write_text(PROBE)
    with Worker(tmp_path, isolation=isolation) as worker:
        worker.request("import")
        with pytest.raises(WorkerError) as info:
            worker.request("load", event="x")
        copy = worker._tmp
    seen = ast.literal_eval(str(info.value).split("RuntimeError: ", 1)[1].rsplit(" at model.py", 1)[0])
    env = seen["env"]
    assert "GITHUB_TOKEN" not in env and set(env) <= ALLOWED_ENV | SET_BY_THE_INTERPRETER
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "1"
    assert seen["scratch"] and seen["cwd"] != str(tmp_path)
    assert not (tmp_path / "scratch.txt").exists()  # the original folder is untouched
    assert not copy.exists()  # the temporary copy is deleted


def test_bundled_labels_and_text_are_unreadable_in_the_worker(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(
        "from tinytorch.data import bundled_mnist\n\ndef load(event):\n    return bundled_mnist('test')\n")
    with Worker(tmp_path) as worker:
        worker.request("import")
        with pytest.raises(WorkerError, match=r"sandbox: reading '.*bundled.*' is not allowed"):
            worker.request("load", event="x")


def test_missing_entry_point_and_missing_model_are_clear(tmp_path: Path) -> None:
    with Worker(tmp_path) as worker:
        with pytest.raises(WorkerError, match="no model.py"):
            worker.request("import")
    (tmp_path / "model.py").write_text("x = 1\n")
    with Worker(tmp_path) as worker:
        worker.request("import")
        with pytest.raises(WorkerError, match=r"does not define load\(\)"):
            worker.request("load", event="x")


def test_symlinks_are_not_copied(tmp_path: Path) -> None:
    src = tmp_path / "sub"
    src.mkdir()
    (src / "model.py").write_text("def load(e):\n    return None\n")
    (src / "leak").symlink_to("/etc/passwd")
    with Worker(src) as worker:
        assert not (worker._tmp / "submission" / "leak").exists()
        assert (worker._tmp / "submission" / "model.py").exists()


@pytest.mark.parametrize("isolation", ["process", "auto"])
def test_a_worker_that_dies_at_start_up_is_reported_and_cleaned_up(tmp_path: Path, monkeypatch,
                                                                   isolation: str) -> None:
    import competition.sandbox.process as process
    from competition.sandbox import jail

    monkeypatch.setattr(process.sys, "executable", "/bin/false")
    monkeypatch.setattr(jail, "interpreter", lambda: ("/bin/false", "/usr"))
    worker = Worker(tmp_path, label="candidate", isolation=isolation)
    with pytest.raises(WorkerError, match="candidate: worker exited with code 1"):
        with worker:
            pass
    assert worker._tmp is None and worker._proc is None


class ScriptedFreezer:
    """A freezer whose CPU counter reads the scripted values in turn (microseconds)."""

    method = "scripted"

    def __init__(self, readings_us: list[int]) -> None:
        self.readings = iter(readings_us)

    def freeze(self, pids) -> None:
        pass

    def thaw(self) -> None:
        pass

    def cpu_ns(self) -> int:
        return next(self.readings) * 1000


class Alive:
    def poll(self) -> None:
        return None


def scripted_worker(readings_us: list[int]) -> Worker:
    worker = Worker(None, isolation="process")
    worker._proc, worker._freezer = Alive(), ScriptedFreezer(readings_us)
    worker._worker_pids, worker._kill_all = list, lambda: None  # no process behind it
    worker.pause()
    return worker


def test_cpu_while_frozen_under_the_slack_is_charged_to_the_next_turn_and_over_it_raises() -> None:
    from competition.sandbox.process import FROZEN_SLACK_NS, OffTurnError

    # frozen at 0; 1.1 ms of late accounting before the thaw; 10 us around the request's body
    worker = scripted_worker([0, 1_100, 1_105, 2_000, 2_005])
    with worker.turn() as turn:
        pass
    assert turn.off_turn_ns == 1_100_000 + 5_000 + 5_000
    escaped = scripted_worker([0, FROZEN_SLACK_NS // 1000 + 1])
    with pytest.raises(OffTurnError, match=r"used 5\.0 ms of CPU while it was frozen"):
        with escaped.turn():
            pass
