"""Launch and talk to one sandboxed worker: fresh process, own session, scrubbed env, temp copy, limits, no network.

The parent never imports submission code. `Worker` copies the submission folder to a temporary directory, starts
`python -I -B -m competition.sandbox.worker` there and exchanges framed messages (channel.py) over two pipes.
Every request has a wall-clock deadline; when it passes, the worker's whole process group is killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from competition.sandbox import channel, limits as limits_mod, network

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class WorkerError(RuntimeError):
    """The submission failed inside the worker, broke a limit or the protocol; the message says which."""


@dataclass
class SandboxRecord:
    """How the worker was isolated: the result's `sandbox` object."""

    network_isolated: bool
    method: str
    limits: dict[str, float] = field(default_factory=dict)

    def as_record(self) -> dict:
        return {"network_isolated": self.network_isolated, "method": self.method, "limits": dict(self.limits)}


def scrubbed_env(home: Path, blas_threads: int) -> dict[str, str]:
    """The worker's whole environment: PATH, LANG, HOME and the BLAS thread variables; nothing else (no tokens)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home)}
    env.update({name: str(blas_threads) for name in BLAS_THREAD_VARIABLES})
    return env


def copy_submission(src: Path, dst: Path) -> None:
    """Copy regular files and folders of `src` to `dst`; symlinks and special files are left out."""
    def ignore(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if os.path.islink(os.path.join(directory, n)) or n == "__pycache__"]
    shutil.copytree(src, dst, symlinks=False, ignore=ignore)


class Worker:
    """One sandboxed worker process serving requests for one submission (use as a context manager)."""

    def __init__(self, submission_dir: Path | None, limits: limits_mod.Limits | None = None,
                 blas_threads: int = 1, label: str = "worker") -> None:
        self.submission_dir = Path(submission_dir) if submission_dir is not None else None
        self.limits = limits or limits_mod.Limits()
        self.blas_threads = blas_threads
        self.label = label
        self.sandbox: SandboxRecord | None = None
        self.ready: dict = {}
        self._proc: subprocess.Popen | None = None
        self._tmp: Path | None = None
        self._deadline = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> "Worker":
        self._tmp = Path(tempfile.mkdtemp(prefix=f"tito-{self.label}-"))
        root = self._tmp / "submission"
        if self.submission_dir is not None:
            copy_submission(self.submission_dir, root)
        else:
            root.mkdir()
        (self._tmp / "home").mkdir()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        status_r, status_w = os.pipe()
        log = open(self._tmp / "worker.log", "wb")
        limits = self.limits

        def preexec() -> None:  # runs in the child between fork and exec
            method = network.isolate()
            os.write(status_w, (method or "").encode())
            limits_mod.apply(limits)

        cmd = [sys.executable, "-I", "-B", "-m", "competition.sandbox.worker",
               "--read-fd", str(to_worker_r), "--write-fd", str(from_worker_w), "--root", str(root)]
        try:
            self._proc = subprocess.Popen(
                cmd, cwd=root, env=scrubbed_env(self._tmp / "home", self.blas_threads), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, pass_fds=(to_worker_r, from_worker_w),
                preexec_fn=preexec, start_new_session=True, close_fds=True,
            )
        except (OSError, subprocess.SubprocessError) as err:
            os.close(status_r)
            os.close(to_worker_w)
            os.close(from_worker_r)
            raise WorkerError(f"{self.label}: could not start the worker process: {err}") from None
        finally:
            log.close()
            for fd in (to_worker_r, from_worker_w, status_w):
                os.close(fd)
        method = os.read(status_r, 200).decode()
        os.close(status_r)
        self._write_fd, self._read_fd = to_worker_w, from_worker_r
        self._deadline = time.monotonic() + limits.wall_seconds
        self.ready = self._receive(timeout=60.0)[0]
        isolated = bool(method) and set(self.ready.get("interfaces", [])) <= {"lo"}
        how = f"{method}; loopback only" if isolated else "no network namespace (not permitted here)"
        if os.geteuid() == 0:
            how += "; runs as root: RLIMIT_NPROC not enforced, fork refused by the audit hook"
        self.sandbox = SandboxRecord(network_isolated=isolated, method=how, limits=limits.as_record())
        return self

    def close(self) -> None:
        """Ask the worker to exit, then kill its process group and delete the temporary copy."""
        if self._proc is not None:
            if self._proc.poll() is None:
                try:
                    channel.send(self._write_fd, {"op": "exit"})
                    self._proc.wait(timeout=2.0)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill_group()
            for fd in (self._write_fd, self._read_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._proc = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Worker":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------------------------------
    def request(self, op: str, arrays: list[np.ndarray] | tuple = (), timeout: float | None = None,
                **params: object) -> tuple[dict, list[np.ndarray]]:
        """Send one request and wait for its reply; raise WorkerError on a submission error, crash or timeout."""
        if self._proc is None:
            raise WorkerError(f"{self.label} worker is not running")
        try:
            channel.send(self._write_fd, {"op": op, **params}, list(arrays))
        except OSError:
            raise WorkerError(self._death_message("the worker stopped before the request")) from None
        header, out = self._receive(timeout)
        if "error" in header:
            raise WorkerError(f"{self.label}: {header['error']}")
        return header, out

    def _receive(self, timeout: float | None) -> tuple[dict, list[np.ndarray]]:
        deadline = self._deadline if timeout is None else min(self._deadline, time.monotonic() + timeout)
        try:
            return channel.receive(self._read_fd, deadline=deadline)
        except channel.ChannelError as err:
            timed_out = "timed out" in str(err)
            self._kill_group()
            if timed_out:
                limit = self.limits.wall_seconds if timeout is None else min(timeout, self.limits.wall_seconds)
                raise WorkerError(f"{self.label}: stopped after the wall-clock limit ({limit:g} s); "
                                  "the whole process group was killed") from None
            raise WorkerError(self._death_message(str(err))) from None

    def _kill_group(self) -> None:
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._proc.poll() is None:  # left its group somehow: kill the process itself
            self._proc.kill()
        try:
            self._proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass

    def _death_message(self, what: str) -> str:
        code = self._proc.poll() if self._proc is not None else None
        reason = what
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            reason = {"SIGXCPU": "stopped at the CPU-time limit", "SIGXFSZ": "stopped at the file-size limit",
                      "SIGKILL": "killed (memory or wall-clock limit)"}.get(name, f"killed by {name}")
        elif code is not None:
            reason = f"exited with code {code}"
        return f"{self.label}: worker {reason}; last output: {self.log_tail()!r}"

    def log_tail(self, n_chars: int = 800) -> str:
        """The end of the worker's stdout/stderr (for error messages)."""
        if self._tmp is None or not (self._tmp / "worker.log").exists():
            return ""
        return (self._tmp / "worker.log").read_bytes()[-n_chars:].decode("utf-8", "replace")
