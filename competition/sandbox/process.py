"""Launch, meter and talk to one worker: in the OS jail (jail.py) where it works, else in the process sandbox.

The parent never imports submission code. `Worker` copies the submission folder to a temporary directory, starts
`python -I -B -m WORKER_MODULE` on it and exchanges framed messages (channel.py) over two pipes. Every request has a
wall-clock deadline; when it passes, everything the worker started is killed (the whole pid namespace in the jail,
the process group otherwise). Memory is metered from outside: the worker's cgroup peak, else its VmHWM. Between its
turns (`turn`, `pause`/`resume`) every task of the worker is frozen and its CPU read from outside (freezer.py).

isolation "jail": bubblewrap namespaces, read-only file system, unprivileged uid, cgroup + rlimits (jail.py).
isolation "process": a fresh process with a scrubbed environment, rlimits and a network namespace where permitted;
what a student's laptop without bubblewrap gets (results so isolated are never ranked).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from competition.sandbox import cgroup as cgroup_mod, channel, jail, limits as limits_mod, network, seccomp
from competition.sandbox.freezer import FreezeError, FreezeGroup, TaskStopper

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# The module the worker runs as (`python -I -B -m WORKER_MODULE`); trusted code never imports it.
WORKER_MODULE = "competition.worker"
ISOLATIONS = ("auto", "jail", "process")
# A reply carries outputs (scores, logits, tokens, trained weights): far below this. A bigger array is refused
# before the parent allocates it (the channel's own bound, 1 GiB per array, is for the inputs the parent sends).
REPLY_ARRAY_BYTES = 64 << 20
# CPU a frozen worker may show between two turns without being disqualified: none of its tasks runs, but the kernel
# may account a task's last work after it reported the group frozen (0 us in 400 turns at load 3; once 1.1 ms for an
# honest baseline in a training round at load 3, which the old 1 ms slack disqualified). What stays under the slack is
# charged to the next turn (Turn.off_turn_ns); a task that escaped the freeze runs on and shows tens of milliseconds.
FROZEN_SLACK_NS = 5_000_000


class WorkerError(RuntimeError):
    """The submission failed inside the worker, broke a limit or the protocol; the message says which."""


class OffTurnError(WorkerError):
    """The worker's tasks used CPU while it was frozen between its turns (a task escaped the freeze)."""


@dataclass
class Turn:
    """One turn of a worker (`Worker.turn`): its wall seconds awake and the CPU its tasks used outside the body of
    the turn, i.e. while frozen since the last turn (within FROZEN_SLACK_NS) and while being thawed and frozen around
    the request (0 for an idle worker; a thread that keeps running after the reply burns it)."""

    seconds: float = 0.0
    off_turn_ns: int = 0

    @property
    def off_turn_s(self) -> float:
        return self.off_turn_ns / 1e9


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


def scrubbed_env(home: str | Path, blas_threads: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's whole environment: PATH, LANG, HOME, the BLAS thread variables and the caller's `extra`
    variables; nothing else (no tokens). glibc's allocator keeps its defaults on purpose (docs/measurement.md,
    "Freed memory goes back to the kernel")."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home)}
    env.update({name: str(blas_threads) for name in BLAS_THREAD_VARIABLES})
    env.update(extra or {})
    return env


def copy_submission(src: Path, dst: Path) -> None:
    """Copy regular files and folders of `src` to `dst`; symlinks and special files are left out. The copy is
    readable by everyone (folders 755, files 644): the jailed worker may run as nobody."""
    def ignore(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if os.path.islink(os.path.join(directory, n)) or n == "__pycache__"]
    shutil.copytree(src, dst, symlinks=False, ignore=ignore, copy_function=shutil.copyfile)
    for folder, _, files in os.walk(dst):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
            evict_page_cache(os.path.join(folder, name))


def evict_page_cache(path: str) -> None:
    """Write `path` out and drop its cached pages. Page cache is charged to the cgroup that first touched it: left
    cached by the parent's copy, a worker that mmaps its files would hold them in memory the parent's cgroup pays
    for, outside its own memory meter. Evicted, the worker's first read charges its own group. (No effect on a
    tmpfs /tmp, whose pages cannot be evicted.)"""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


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


def running(pid: int) -> bool:
    """True while host process `pid` exists and is not a zombie (a zombie runs nothing; its reaper may be slow)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def mounts_below(folder: Path) -> list[str]:
    """Mount points at or below `folder` in this process's mount namespace (/proc/self/mountinfo)."""
    prefix = str(folder.resolve())
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[4] for line in lines if len(line.split()) > 4]
    return [p for p in points if p == prefix or p.startswith(prefix + os.sep)]


def descendant_pids(pid: int) -> list[int]:
    """Host pids of every process below `pid`: the children of each of their threads, recursively. In a jail the
    namespace init's descendants are the whole pid namespace (orphans are re-parented to it)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = [int(p) for p in task.read_text().split()]
            except (OSError, ValueError):
                continue
            new = [c for c in children if c not in found]
            found += new
            todo += new
    return found


def process_state(pid: int) -> str:
    """The one-letter state of host process `pid` ("R", "S", "T" stopped, "Z"...), "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return ""


def child_pids(pid: int) -> list[int]:
    """Host pids of the children of `pid` (from /proc/<pid>/task/<pid>/children, else a scan of /proc)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        pass
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                children.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return children


class Worker:
    """One isolated worker process serving requests for one submission (use as a context manager).

    isolation: "auto" (the jail where jail.status() says it works, else the process sandbox), "jail" (raise
    WorkerError without it) or "process".
    """

    def __init__(self, submission_dir: Path | None, limits: limits_mod.Limits | None = None,
                 blas_threads: int = 1, label: str = "worker", env: dict[str, str] | None = None,
                 isolation: str = "auto") -> None:
        if isolation not in ISOLATIONS:
            raise ValueError(f"isolation must be one of {ISOLATIONS}, not {isolation!r}")
        self.submission_dir = Path(submission_dir) if submission_dir is not None else None
        self.limits = limits or limits_mod.Limits()
        self.blas_threads = blas_threads
        self.label = label
        self.extra_env = dict(env or {})
        self.isolation = isolation
        self.memory_meter = "none"
        self.sandbox: SandboxRecord | None = None
        self.ready: dict = {}
        self._proc: subprocess.Popen | None = None
        self._tmp: Path | None = None
        self._deadline = 0.0
        self._ns_init: int | None = None  # host pid of the jail's pid-namespace init (bwrap's reaper)
        self._host_pid: int | None = None
        self._group: cgroup_mod.Cgroup | None = None
        self._freezer: FreezeGroup | TaskStopper | None = None
        self._frozen_ns: int | None = None  # the worker's CPU counter when it was last frozen

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> "Worker":
        self._tmp = Path(tempfile.mkdtemp(prefix="tito-worker-"))  # no label: the jail sees the path (mountinfo)
        root = self._tmp / "submission"
        if self.submission_dir is not None:
            copy_submission(self.submission_dir, root)
        else:
            root.mkdir(mode=0o755)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self._write_fd, self._read_fd = to_worker_w, from_worker_r
        fds = (to_worker_r, from_worker_w)
        try:
            if self._use_jail():
                method = self._start_jailed(root, fds)
            else:
                method = self._start_process(root, fds)
        finally:
            for fd in fds:
                os.close(fd)
        self._deadline = time.monotonic() + self.limits.wall_seconds
        self.ready = self._receive(timeout=60.0)[0]
        if self._ns_init is not None:
            self._host_pid = next(iter(child_pids(self._ns_init)), None)
            if self._host_pid is None:
                raise WorkerError(f"{self.label}: the jailed worker process was not found under its namespace init")
        self._record(method)
        return self

    def _use_jail(self) -> bool:
        if self.isolation == "process":
            return False
        state = jail.status()
        if not state.available and self.isolation == "jail":
            raise WorkerError(f"{self.label}: the OS jail is not available: {state.reason}")
        return state.available

    def _worker_args(self, fds: tuple[int, int], root: str) -> list[str]:
        return ["--read-fd", str(fds[0]), "--write-fd", str(fds[1]), "--root", root]

    def _start_jailed(self, root: Path, fds: tuple[int, int]) -> str:
        """bwrap around the worker; returns the method text of the sandbox record."""
        limits = self.limits
        self._tmp.chmod(0o711)  # bwrap, running as nobody, must reach the stage folders below it
        self._group = cgroup_mod.Cgroup.create(self.label, limits.memory_bytes, limits.processes,
                                               limits_mod.worker_cpu())
        freeze_group = FreezeGroup.create(self.label, self._group)
        self._freezer = freeze_group or TaskStopper(self._worker_pids)
        info_r, info_w = os.pipe()
        filter_fd = seccomp.program_fd()
        command = ["-I", "-B", "-c", jail.bootstrap(limits_mod.rlimits(limits), WORKER_MODULE),
                   *self._worker_args(fds, jail.SUBMISSION)]
        plan = jail.Plan.for_worker(jail.status().bwrap or "bwrap", root, self._tmp / "stage", command,
                                    scrubbed_env("/tmp", self.blas_threads, self.extra_env), info_w,
                                    limits.tmpfs_bytes, self._group, freeze_group, filter_fd)
        try:
            self._popen(plan.argv, (*fds, info_w, *([filter_fd] if filter_fd is not None else [])), plan.preexec,
                        cwd="/")
        finally:
            os.close(info_w)
            if filter_fd is not None:
                os.close(filter_fd)
        try:
            info = _read_json(info_r, deadline=time.monotonic() + 30)
        finally:
            os.close(info_r)
        self._ns_init = int(info["child-pid"]) if info and "child-pid" in info else None
        if self._ns_init is None:
            self._kill_all()
            raise WorkerError(self._death_message("bubblewrap did not start the jail"))
        user = f"uid {jail.NOBODY}" if plan.drop_root else f"uid {os.getuid()}"
        cpu = f"CPU {limits_mod.worker_cpu()} ({'cpuset' if self._group and self._group.cpuset else 'affinity'})"
        if limits_mod.huge_pages_disabled(self._ns_init):
            cpu += ", no transparent huge pages"
        limit = (f"cgroup {self._group.kind} memory+pids, rlimits, {cpu}" if self._group else
                 f"rlimits (no writable cgroup), {cpu}")
        return (f"bwrap: user/pid/mount/net/ipc/uts/cgroup ns, {user}, ro root, own /tmp, empty env; "
                f"idle: {self._freezer.method}; limits: {limit}")  # at most 200 characters (result schema)

    def _start_process(self, root: Path, fds: tuple[int, int]) -> str:
        """The process sandbox (no jail here); returns the method text of the sandbox record."""
        (self._tmp / "home").mkdir()
        self._freezer = TaskStopper(self._worker_pids)
        status_r, status_w = os.pipe()
        limits = self.limits

        def preexec() -> None:  # runs in the child between fork and exec
            os.write(status_w, (network.isolate() or "").encode())
            limits_mod.apply(limits)
            limits_mod.place_worker()

        cmd = [sys.executable, "-I", "-B", "-m", WORKER_MODULE, *self._worker_args(fds, str(root))]
        try:
            self._popen(cmd, (*fds,), preexec, cwd=str(root),
                        env=scrubbed_env(self._tmp / "home", self.blas_threads, self.extra_env))
        finally:
            os.close(status_w)
            method = os.read(status_r, 200).decode()
            os.close(status_r)
        how = f"{method}; loopback only" if method else "no network namespace (not permitted here)"
        if os.geteuid() == 0:
            how += "; runs as root: RLIMIT_NPROC not enforced, fork refused by the audit hook"
        return f"process sandbox: scrubbed environment, rlimits, {how}; idle: {self._freezer.method}"

    def _popen(self, argv: list[str], fds: tuple[int, ...], preexec, cwd: str, env: dict | None = None) -> None:
        log = open(self._tmp / "worker.log", "wb")
        try:
            self._proc = subprocess.Popen(
                argv, cwd=cwd, env=env if env is not None else {}, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, pass_fds=fds, preexec_fn=preexec, start_new_session=True, close_fds=True)
        except (OSError, subprocess.SubprocessError) as err:
            self._close_pipes()
            raise WorkerError(f"{self.label}: could not start the worker process: {err}") from None
        finally:
            log.close()

    def _record(self, method: str) -> None:
        jailed = self._ns_init is not None
        isolated = network_namespace_differs(self.host_pid)
        if self._group is not None:
            self.memory_meter = self._group.meter
        elif read_vm_hwm(self.host_pid) is not None:
            self.memory_meter = "vmhwm"
        self.sandbox = SandboxRecord(network_isolated=isolated, method=method, limits=self.limits.as_record(),
                                     isolation="jail" if jailed else "process", memory_meter=self.memory_meter)

    def _worker_pids(self) -> list[int]:
        """Host pids of every process the worker started (in a jail: every process of its pid namespace)."""
        if self._ns_init is not None:
            return descendant_pids(self._ns_init)
        return [self._proc.pid, *descendant_pids(self._proc.pid)] if self._proc is not None else []

    def cpu_ns(self) -> int | None:
        """CPU every task of the worker used so far, in nanoseconds, read from outside (its freezer cgroup, else
        /proc); None when it cannot be read."""
        try:
            return self._freezer.cpu_ns() if self._freezer is not None else None
        except (OSError, ValueError):
            return None

    def pause(self) -> int | None:
        """Freeze every task the worker started until `resume` (its freezer cgroup, else SIGSTOP of every process
        with a running task), then check that none runs: an idle worker computes nothing, so no thread or child of a
        submission can burn CPU (slow the others, or precompute) while another request is timed. Returns the CPU
        counter read once frozen (None when the worker is not running). A worker that cannot be frozen is killed."""
        if self._proc is None or self._proc.poll() is not None or self._freezer is None:
            return None
        try:
            self._freezer.freeze(self._worker_pids)
        except (FreezeError, OSError) as err:
            self._kill_all()
            raise WorkerError(f"{self.label}: the worker could not be frozen between requests: {err}; everything "
                              f"it started was killed") from None
        self._frozen_ns = self.cpu_ns()
        return self._frozen_ns

    def resume(self) -> int | None:
        """Thaw the worker frozen by `pause`, after checking that its tasks used no CPU meanwhile (else it is killed
        and OffTurnError names how much). Returns the CPU counter read before thawing (None if it was not frozen)."""
        frozen, self._frozen_ns = self._frozen_ns, None
        if frozen is None or self._freezer is None:
            return None
        now = self.cpu_ns()
        if now is not None and now - frozen > FROZEN_SLACK_NS:
            self._kill_all()
            raise OffTurnError(f"{self.label}: its tasks used {(now - frozen) / 1e6:.1f} ms of CPU while it was "
                               f"frozen between its turns (a task escaped the freeze); everything it started was "
                               f"killed")
        self._freezer.thaw()
        return now

    @contextmanager
    def turn(self) -> Iterator[Turn]:
        """The worker runs only inside this block: thawed before, frozen after (neither on any clock). The Turn
        gets the block's wall seconds and, once frozen, the CPU the worker's tasks used outside the block's body
        since the previous turn."""
        turn = Turn()
        frozen = self._frozen_ns
        before = self.resume()
        start, began = self.cpu_ns(), time.monotonic()
        try:
            yield turn
        finally:
            end = self.cpu_ns()
            turn.seconds = time.monotonic() - began
            after = self.pause()
        if None not in (before, start, end, after):
            while_frozen = max(0, before - frozen) if frozen is not None else 0  # under FROZEN_SLACK_NS (resume)
            turn.off_turn_ns = while_frozen + max(0, start - before) + max(0, after - end)

    def close(self) -> None:
        """Ask the worker to exit, kill everything it started, remove its cgroup and the temporary copy."""
        if self._proc is not None:
            self._thaw()
            if self._proc.poll() is None and self._ns_init is None:
                try:
                    channel.send(self._write_fd, {"op": "exit"})
                    self._proc.wait(timeout=2.0)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill_all()
            self._close_pipes()
            self._proc = None
        if self._freezer is not None:
            self._freezer.close()
            self._freezer = None
        if self._group is not None:
            self._group.close()
            self._group = None
        if self._tmp is not None:
            if not mounts_below(self._tmp):  # never recurse into a staged bind mount (e.g. the interpreter)
                shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _close_pipes(self) -> None:
        for fd in (self._write_fd, self._read_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "Worker":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a caller that lost a started worker (e.g. its load raised) still frees it
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to report to
            pass

    # -- outside meters --------------------------------------------------------------------------------------------
    @property
    def host_pid(self) -> int:
        """The worker's pid as this (host) process sees it."""
        if self._proc is None:
            raise WorkerError(f"{self.label} worker is not running")
        return self._host_pid if self._host_pid is not None else self._proc.pid

    def reset_peak_memory(self) -> None:
        """Start a new peak-memory window (the next peak_memory_bytes() counts from the current usage)."""
        if self._group is not None:
            self._group.reset_peak()
        elif self.memory_meter == "vmhwm":
            reset_vm_hwm(self.host_pid)

    def peak_memory_bytes(self) -> int:
        """The worker's memory peak since start or the last reset, read from outside (its cgroup's peak, else its
        VmHWM); 0 when memory_meter is "none" (no /proc: the result must say "not measured")."""
        if self._group is not None:
            return self._group.peak_bytes()
        if self.memory_meter == "vmhwm":
            return read_vm_hwm(self.host_pid) or 0
        return 0

    def sandbox_record(self) -> dict:
        """The result's `sandbox` object: isolation level, method, network, limits and memory meter."""
        if self.sandbox is None:
            raise WorkerError(f"{self.label} worker was not started")
        return self.sandbox.as_record()

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
            limit = self._limit_reason()
            raise WorkerError(f"{self.label}: {inert(header['error'])}" + (f" (the worker {limit})" if limit else ""))
        return header, out

    def _receive(self, timeout: float | None) -> tuple[dict, list[np.ndarray]]:
        deadline = self._deadline if timeout is None else min(self._deadline, time.monotonic() + timeout)
        try:
            return channel.receive(self._read_fd, deadline=deadline, max_array_bytes=REPLY_ARRAY_BYTES)
        except channel.ChannelError as err:
            timed_out, died = "timed out" in str(err), "closed the pipe" in str(err)
            if died:  # let bwrap report how before anything is killed
                self._wait(2.0)
            self._kill_all()
            if not (timed_out or died):  # a malformed or oversized reply: the worker broke the protocol
                raise WorkerError(f"{self.label}: the worker broke the reply protocol: {inert(err)}") from None
            if timed_out:
                limit = self.limits.wall_seconds if timeout is None else min(timeout, self.limits.wall_seconds)
                what = "pid namespace" if self._ns_init is not None else "process group"
                raise WorkerError(f"{self.label}: stopped after the wall-clock limit ({limit:g} s); "
                                  f"the whole {what} was killed") from None
            raise WorkerError(self._death_message(str(err))) from None

    def _kill_all(self) -> None:
        """Kill everything the worker started: the jail's namespace init (the kernel then kills every process of
        the pid namespace), or the process group; then bwrap or the worker itself."""
        if self._proc is None:
            return
        if self._ns_init is not None:
            try:
                os.kill(self._ns_init, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._thaw()  # a task frozen by the v1 freezer dies of SIGKILL only once thawed
            self._wait(2.0)  # bwrap reaps its namespace init and exits
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._thaw()
        if self._proc.poll() is None:
            self._proc.kill()
        self._wait(5.0)

    def _thaw(self) -> None:
        self._frozen_ns = None
        if self._freezer is not None:
            self._freezer.thaw()

    def _wait(self, seconds: float) -> None:
        try:
            self._proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass

    def _limit_reason(self) -> str:
        """Which cgroup limit the worker ran into, if any."""
        if self._group is None:
            return ""
        if self._group.hit_memory_limit():
            return f"killed at its memory limit ({self.limits.memory_bytes / 2**20:g} MiB)"
        if self._group.hit_process_limit():
            return f"reached its process-count limit of {self.limits.processes}"
        return ""

    def _death_message(self, what: str) -> str:
        code = self._proc.poll() if self._proc is not None else None
        limit = self._limit_reason()
        if code is not None and code < 0:  # the process sandbox's worker died of a signal
            reason = signal_reason(-code)
        elif code is not None and code > 128 and self._ns_init is not None:  # bwrap exits with 128 + signal
            reason = signal_reason(code - 128)
        elif code is not None:
            reason = f"exited with code {code}"
        else:
            reason = what
        if limit:
            reason = limit
        return f"{self.label}: worker {reason}; last output: {self.log_tail()!r}"

    def log_tail(self, n_chars: int = 800) -> str:
        """The end of the worker's stdout/stderr (for error messages)."""
        if self._tmp is None or not (self._tmp / "worker.log").exists():
            return ""
        return (self._tmp / "worker.log").read_bytes()[-n_chars:].decode("utf-8", "replace")


def inert(text: object, limit: int = 2000) -> str:
    """Text a worker sent, safe to print, store and render: at most `limit` characters, every control character
    (terminal escape sequences, line breaks) replaced by a space."""
    return "".join(c if c.isprintable() else " " for c in str(text)[:limit])


def signal_reason(number: int) -> str:
    """Why a worker that died of signal `number` stopped."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"killed by signal {number}"
    return {"SIGXCPU": "stopped at the CPU-time limit", "SIGXFSZ": "stopped at the file-size limit",
            "SIGKILL": "killed (memory or wall-clock limit)"}.get(name, f"killed by {name}")


def _read_json(fd: int, deadline: float) -> dict | None:
    """One JSON object written by bwrap to its --info-fd (None if bwrap failed before writing it)."""
    import select

    data = b""
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        try:
            return json.loads(data)
        except ValueError:
            continue
    return None
