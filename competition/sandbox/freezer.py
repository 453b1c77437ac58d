"""Between its turns a worker is frozen, checked task by task, and the CPU its tasks use is read from outside.

Two mechanisms, chosen per worker (`Worker.pause`/`resume`):

- `FreezeGroup`, a freezer cgroup the worker joins in preexec, before it starts anything: cgroup v2 `cgroup.freeze`
  (the worker's v2 group, a group in the unified hierarchy of a hybrid layout, or a child of a delegated group), else
  the v1 `freezer` controller; its CPU is the group's `cpu.stat` usage_usec (v2) or `cpuacct.usage` (v1). A task
  cannot leave the group (the jail has no cgroupfs), so a thread whose leader exited (a zombie leader) and every
  forked child are frozen with it, and CPU of tasks that exited stays counted.
- `TaskStopper` where no cgroup can be made: SIGSTOP to every process of the worker that has a task not stopped,
  read task by task (`/proc/<pid>/task/*/stat`; the threads of a zombie leader are stopped through its thread group,
  which the kernel still delivers to). CPU is the sum of the tasks' `schedstat` run times. Not covered there: the CPU
  of a thread or process that exits between two readings is gone from /proc with it, and outside the jail (process
  isolation) a process that re-parents itself away from the worker's tree (setsid + double fork) is not found.

After freezing, both check that no task of the worker is running (every /proc/<pid>/task/*/stat of its processes)
and, for a cgroup, that every live process of the worker is a member of the frozen group.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from competition.sandbox import cgroup

FREEZE_SECONDS = 10.0  # a worker not frozen by then is killed (a loaded 2-core machine took over 2 s at times)
SPIN_CHECKS = 200  # polls without sleeping before the wait yields the core for a millisecond at a time
STOPPED = frozenset("TtZXx")  # stopped, traced-stopped, zombie, dead: runs nothing


class FreezeError(RuntimeError):
    """The worker's tasks could not be frozen (or one kept running); the message says which."""


def _pause(check: int) -> None:
    """Between two polls of a freeze: yield the core at once, then sleep a millisecond (so a long wait on a loaded
    machine leaves the core to the tasks that must still reach the freezer)."""
    time.sleep(0 if check < SPIN_CHECKS else 0.001)


def tasks(pids: list[int]) -> list[tuple[int, int, str]]:
    """(pid, tid, state letter) of every task of processes `pids` that still exists."""
    found = []
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                state = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rpartition(")")[2].split()[0]
            except (OSError, IndexError):
                continue
            found.append((pid, int(tid), state))
    return found


def task_run_ns(pid: int, tid: int) -> int:
    """Run time of task `tid` of `pid` in nanoseconds (schedstat; 0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _name(label: str) -> str:
    return f"{cgroup.PREFIX}{label}-freeze-{os.getpid()}-{uuid.uuid4().hex[:12]}"


class FreezeGroup:
    """A freezer cgroup of one worker (create with `create`; the child joins in preexec via `join`)."""

    def __init__(self, kind: str, path: Path, cpu_path: Path, owned: list[Path]) -> None:
        self.kind = kind  # "v2" or "v1"
        self.path = path  # cgroup.freeze (v2) or freezer.state (v1) lives here
        self.cpu_path = cpu_path  # cpu.stat (v2) or cpuacct.usage (v1)
        self.owned = owned  # the directories this object made (joined in preexec, removed on close)

    @classmethod
    def create(cls, label: str, group: cgroup.Cgroup | None) -> "FreezeGroup | None":
        """The worker's freezer: its v2 `group` itself, else a new v2 group (hybrid unified hierarchy or a child of
        this process's own group), else v1 freezer + cpuacct groups; None where none can be made."""
        if group is not None and group.kind == "v2" and (group.dirs[""] / "cgroup.freeze").exists():
            return cls("v2", group.dirs[""], group.dirs[""], [])
        name = _name(label)
        for base in _v2_bases():
            path = base / name
            try:
                cgroup.remove_orphans(base)
                path.mkdir()
            except OSError:
                continue
            if (path / "cgroup.freeze").exists() and (path / "cpu.stat").exists():
                return cls("v2", path, path, [path])
            _rmdir(path)
        return cls._create_v1(name)

    @classmethod
    def _create_v1(cls, name: str) -> "FreezeGroup | None":
        bases = [cgroup.ROOT / c / cgroup.own_path(c).lstrip("/") for c in ("freezer", "cpuacct")]
        if not all(base.is_dir() for base in bases):
            return None
        made: list[Path] = []
        try:
            for base in bases:
                cgroup.remove_orphans(base)
                (base / name).mkdir()
                made.append(base / name)
        except OSError:
            for path in made:
                _rmdir(path)
            return None
        return cls("v1", made[0], made[1], made)

    @property
    def method(self) -> str:
        """How the worker is frozen between turns (the sandbox record's method names it)."""
        return "cgroup v2 freeze" if self.kind == "v2" else "cgroup v1 freezer"

    def join(self) -> None:
        """Move the calling process into the group (preexec, before privileges are dropped)."""
        for path in self.owned:
            cgroup.write(path / "cgroup.procs", os.getpid())

    def freeze(self, pids: Callable[[], list[int]]) -> None:
        """Freeze the group and wait until the kernel says every task is frozen; then check every process `pids()`
        lists (the worker's): each live one a member, no task running."""
        self._set(True)
        deadline = time.monotonic() + FREEZE_SECONDS
        for check in itertools.count():
            if self.frozen():
                break
            if time.monotonic() > deadline:
                raise FreezeError(f"its cgroup was not frozen within {FREEZE_SECONDS:g} s")
            _pause(check)
        members = self.members()
        for pid, tid, state in tasks(pids()):
            if state in STOPPED:
                continue
            if pid not in members:
                raise FreezeError(f"its process {pid} is outside its freezer cgroup")
            if state == "R":
                raise FreezeError(f"its task {tid} kept running in a frozen cgroup")

    def thaw(self) -> None:
        try:
            self._set(False)
        except OSError:
            pass

    def _set(self, frozen: bool) -> None:
        if self.kind == "v2":
            cgroup.write(self.path / "cgroup.freeze", int(frozen))
        else:
            cgroup.write(self.path / "freezer.state", "FROZEN" if frozen else "THAWED")

    def frozen(self) -> bool:
        if self.kind == "v2":
            return "frozen 1" in (self.path / "cgroup.events").read_text()
        return (self.path / "freezer.state").read_text().strip() == "FROZEN"

    def members(self) -> set[int]:
        return {int(p) for p in (self.path / "cgroup.procs").read_text().split()}

    def cpu_ns(self) -> int:
        """CPU time every task of the group ever used (those that exited included), in nanoseconds."""
        if self.kind == "v1":
            return int((self.cpu_path / "cpuacct.usage").read_text())
        for line in (self.cpu_path / "cpu.stat").read_text().splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) * 1000
        raise OSError(f"no usage_usec in {self.cpu_path / 'cpu.stat'}")

    def close(self) -> None:
        """Thaw (a v1-frozen task does not die of SIGKILL until thawed), kill what is left, remove own groups."""
        self.thaw()
        for path in self.owned:
            cgroup.kill_members(path)
            _rmdir(path)
        self.owned = []


class TaskStopper:
    """Stops every task of a worker's processes with SIGSTOP (no cgroup); `pids()` lists them (for the CPU meter)."""

    method = "SIGSTOP per task"

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids
        self._stopped: set[int] = set()
        self._held: list[tuple[int, int, str]] | None = None  # every task, as seen stopped (none can change meanwhile)

    def freeze(self, pids: Callable[[], list[int]]) -> None:
        """Stop every process `pids()` lists (again after each round: a child forked meanwhile is stopped too)
        until each of their tasks is seen stopped."""
        deadline = time.monotonic() + FREEZE_SECONDS
        for check in itertools.count():
            found = tasks(pids())
            running = sorted({pid for pid, _, state in found
                              if state not in STOPPED and not (state == "D" and pid in self._stopped)})
            if not running:
                self._held = found
                return
            if time.monotonic() > deadline:
                raise FreezeError(f"{len(running)} of its processes kept running")
            for pid in running:
                try:
                    os.kill(pid, signal.SIGSTOP)  # a thread group: reaches its threads even when the leader is a zombie
                except (ProcessLookupError, PermissionError):
                    continue
                self._stopped.add(pid)
            _pause(check)

    def thaw(self) -> None:
        self._held = None
        for pid in self._stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except (ProcessLookupError, PermissionError):
                pass
        self._stopped = set()

    def cpu_ns(self) -> int:
        """Run time of the worker's live tasks, in nanoseconds (while stopped, of the tasks seen stopped)."""
        found = self._held if self._held is not None else tasks(self._pids())
        return sum(task_run_ns(pid, tid) for pid, tid, _ in found)

    def close(self) -> None:
        self.thaw()


def _v2_bases() -> list[Path]:
    """Where a freeze-only v2 group may go: the unified hierarchy of a hybrid layout, or next to this process in a
    pure v2 one (a delegated group; no controller is needed for cgroup.freeze and cpu.stat)."""
    unified = cgroup.ROOT / "unified"
    if (unified / "cgroup.controllers").exists():
        return [unified / cgroup.own_path("").lstrip("/")]
    if (cgroup.ROOT / "cgroup.controllers").exists():
        return [cgroup.ROOT / cgroup.own_path("").lstrip("/")]
    return []


def _rmdir(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
