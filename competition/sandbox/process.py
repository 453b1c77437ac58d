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
# The module the worker runs as (`python -I -B -m WORKER_MODULE`); trusted code never imports it.
WORKER_MODULE = "competition.sandbox.worker"


class WorkerError(RuntimeError):
    """The submission failed inside the worker, broke a limit or the protocol; the message says which."""


@dataclass
class SandboxRecord:
    """How the worker was isolated: the result's `sandbox` object."""

    network_isolated: bool
    method: str
    limits: dict[str, float] = field(default_factory=dict)
    isolation: str = "process"
    memory_meter: str = "none"

    def as_record(self) -> dict:
        return {"isolation": self.isolation, "method": self.method, "network_isolated": self.network_isolated,
                "limits": dict(self.limits), "memory_meter": self.memory_meter}


def scrubbed_env(home: Path, blas_threads: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's whole environment: PATH, LANG, HOME, the BLAS thread variables and the caller's `extra`
    variables; nothing else (no tokens)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home)}
    env.update({name: str(blas_threads) for name in BLAS_THREAD_VARIABLES})
    env.update(extra or {})
    return env


def read_vm_hwm(pid: int) -> int | None:
    """VmHWM (resident high-water mark) of host process `pid` in bytes, or None when /proc cannot tell."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def reset_vm_hwm(pid: int) -> bool:
    """Reset the VmHWM of host process `pid` to its current RSS (clear_refs "5"); False where not possible."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def network_namespace_differs(pid: int) -> bool:
    """True when host process `pid` lives in another network namespace than this process (checked from outside)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    except OSError:
        return False


def copy_submission(src: Path, dst: Path) -> None:
    """Copy regular files and folders of `src` to `dst`; symlinks and special files are left out."""
    def ignore(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if os.path.islink(os.path.join(directory, n)) or n == "__pycache__"]
    shutil.copytree(src, dst, symlinks=False, ignore=ignore)


class Worker:
    """One sandboxed worker process serving requests for one submission (use as a context manager)."""

    def __init__(self, submission_dir: Path | None, limits: limits_mod.Limits | None = None,
                 blas_threads: int = 1, label: str = "worker", env: dict[str, str] | None = None) -> None:
        self.submission_dir = Path(submission_dir) if submission_dir is not None else None
        self.limits = limits or limits_mod.Limits()
        self.blas_threads = blas_threads
        self.label = label
        self.extra_env = dict(env or {})
        self.memory_meter = "none"
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

        cmd = [sys.executable, "-I", "-B", "-m", WORKER_MODULE,
               "--read-fd", str(to_worker_r), "--write-fd", str(from_worker_w), "--root", str(root)]
        try:
            self._proc = subprocess.Popen(
                cmd, cwd=root, env=scrubbed_env(self._tmp / "home", self.blas_threads, self.extra_env),
                stdin=subprocess.DEVNULL,
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
        isolated = bool(method) and network_namespace_differs(self.host_pid)
        how = f"{method}; loopback only" if isolated else "no network namespace (not permitted here)"
        if os.geteuid() == 0:
            how += "; runs as root: RLIMIT_NPROC not enforced, fork refused by the audit hook"
        self.memory_meter = "vmhwm" if read_vm_hwm(self.host_pid) is not None else "none"
        self.sandbox = SandboxRecord(network_isolated=isolated, method=how, limits=limits.as_record(),
                                     memory_meter=self.memory_meter)
        return self

    # -- outside meters --------------------------------------------------------------------------------------------
    @property
    def host_pid(self) -> int:
        """The worker's pid as this (host) process sees it."""
        if self._proc is None:
            raise WorkerError(f"{self.label} worker is not running")
        return self._proc.pid

    def reset_peak_memory(self) -> None:
        """Start a new peak-memory window (the next peak_memory_bytes() counts from the current resident size)."""
        if self.memory_meter == "vmhwm":
            reset_vm_hwm(self.host_pid)

    def peak_memory_bytes(self) -> int:
        """The worker's resident peak since start or the last reset, read from outside; 0 when memory_meter is
        "none" (no /proc: the result must say "not measured")."""
        if self.memory_meter == "vmhwm":
            return read_vm_hwm(self.host_pid) or 0
        return 0

    def sandbox_record(self) -> dict:
        """The result's `sandbox` object: isolation level, method, network, limits and memory meter."""
        if self.sandbox is None:
            raise WorkerError(f"{self.label} worker was not started")
        return self.sandbox.as_record()

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
