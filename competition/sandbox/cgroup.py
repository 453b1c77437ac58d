"""A per-worker control group: memory and process-count limits that bind, and the memory meter read from outside.

Both cgroup versions are supported. v2 (unified, GitHub's Ubuntu runners): one directory with memory.max, pids.max
and memory.peak (reset per open file by writing to it). v1 (this machine): one directory per controller, memory
(limit_in_bytes, max_usage_in_bytes reset by writing 0) and pids (pids.max). The group is created next to the
parent's own group where the parent may write there, else `Cgroup.create` returns None and rlimits are the limit.
The child joins from preexec (before it drops privileges); `close` removes the directories once the group is empty.
Where the cpuset controller is available too, the group is also bound to one CPU (`cpu`): a submission's own threads
then share the one core the baseline's single BLAS thread gets, whatever they do to their affinity.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "tito-"  # group names: tito-<label>-<creator pid>-<random>


def version() -> str:
    """"v2" (unified with memory and pids), "v1" (memory and pids hierarchies) or "none"."""
    if (ROOT / "cgroup.controllers").exists():
        controllers = (ROOT / "cgroup.controllers").read_text().split()
        return "v2" if {"memory", "pids"} <= set(controllers) else "none"
    return "v1" if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir() else "none"


def own_path(controller: str) -> str:
    """The parent's group in `controller`'s hierarchy ("" for v2's single hierarchy), from /proc/self/cgroup."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller == "" and names == "") or controller in names.split(","):
            return path
    return "/"


def _candidates_v2() -> list[Path]:
    """Where a v2 group may go: a `tinymlperf` group at the root (a group with processes cannot delegate
    controllers to children), then the parent's own group (works under delegation, e.g. a systemd user scope)."""
    own = ROOT / own_path("").lstrip("/")
    return [ROOT / "tinymlperf", own]


class Cgroup:
    """One worker's control group (create with Cgroup.create; the worker joins in preexec via `join`)."""

    def __init__(self, kind: str, dirs: dict[str, Path]) -> None:
        self.kind = kind
        self.dirs = dirs  # controller name (or "" for v2) -> directory
        self.cpuset = False  # True once the group is bound to one CPU by the cpuset controller
        self._peak_fd: int | None = None

    @classmethod
    def create(cls, label: str, memory_bytes: int, processes: int, cpu: int | None = None) -> "Cgroup | None":
        """A new group limited to `memory_bytes` and `processes` (and to CPU `cpu` where the cpuset controller can
        be used), or None where this process may not make one."""
        name = f"{PREFIX}{label}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        kind = version()
        try:
            group = (cls._create_v1(name, memory_bytes, processes) if kind == "v1" else
                     cls._create_v2(name, memory_bytes, processes) if kind == "v2" else None)
        except OSError:
            return None
        if group is not None and cpu is not None:
            group.cpuset = group._bind_cpu(name, cpu)
        return group

    def _bind_cpu(self, name: str, cpu: int) -> bool:
        """Restrict the group to `cpu` with the cpuset controller; False where it cannot be used (affinity only)."""
        try:
            if self.kind == "v1":
                if not (ROOT / "cpuset").is_dir():
                    return False
                path = ROOT / "cpuset" / own_path("cpuset").lstrip("/") / name
                remove_orphans(path.parent)
                path.mkdir()
                self.dirs["cpuset"] = path
                write(path / "cpuset.mems", (path.parent / "cpuset.mems").read_text().strip())
                write(path / "cpuset.cpus", cpu)
                return True
            base = self.dirs[""].parent
            if "cpuset" not in (base / "cgroup.subtree_control").read_text().split():
                write(base / "cgroup.subtree_control", "+cpuset")
            write(self.dirs[""] / "cpuset.cpus", cpu)
            return True
        except OSError:
            return False

    @classmethod
    def _create_v1(cls, name: str, memory_bytes: int, processes: int) -> "Cgroup":
        dirs = {c: ROOT / c / own_path(c).lstrip("/") / name for c in ("memory", "pids")}
        for path in dirs.values():
            remove_orphans(path.parent)
        group = cls("v1", {})
        for controller, path in dirs.items():
            path.mkdir()
            group.dirs[controller] = path
        try:
            write(dirs["memory"] / "memory.limit_in_bytes", memory_bytes)
            write_optional(dirs["memory"] / "memory.memsw.limit_in_bytes", memory_bytes)  # no escape into swap
            write(dirs["pids"] / "pids.max", processes)
        except OSError:
            group.close()
            raise
        return group

    @classmethod
    def _create_v2(cls, name: str, memory_bytes: int, processes: int) -> "Cgroup":
        for base in _candidates_v2():
            try:
                base.mkdir(exist_ok=True)
                enabled = (base / "cgroup.subtree_control").read_text().split()
                if not {"memory", "pids"} <= set(enabled):
                    write(base / "cgroup.subtree_control", "+memory +pids")
                remove_orphans(base)
                path = base / name
                path.mkdir()
            except OSError:
                continue
            group = cls("v2", {"": path})
            try:
                write(path / "memory.max", memory_bytes)
                write_optional(path / "memory.swap.max", 0)
                write(path / "pids.max", processes)
            except OSError:
                group.close()
                continue
            return group
        raise OSError("no writable cgroup v2 location with the memory and pids controllers")

    def join(self) -> None:
        """Move the calling process into the group (call in the child's preexec, before dropping privileges)."""
        for path in self.dirs.values():
            write(path / "cgroup.procs", os.getpid())

    # -- the memory meter ------------------------------------------------------------------------------------------
    @property
    def meter(self) -> str:
        return "cgroup-v2 memory.peak" if self.kind == "v2" else "cgroup-v1 memory.max_usage_in_bytes"

    def reset_peak(self) -> None:
        """Start a new peak window at the group's current usage."""
        if self.kind == "v1":
            write(self.dirs["memory"] / "memory.max_usage_in_bytes", 0)
            return
        if self._peak_fd is None:  # v2 resets per open file: keep one open and read through it
            self._peak_fd = os.open(self.dirs[""] / "memory.peak", os.O_RDWR)
        os.write(self._peak_fd, b"reset\n")

    def peak_bytes(self) -> int:
        """The group's memory high-water mark (all its processes, including tmpfs files) since the last reset."""
        if self.kind == "v1":
            return int((self.dirs["memory"] / "memory.max_usage_in_bytes").read_text())
        if self._peak_fd is not None:
            return int(os.pread(self._peak_fd, 64, 0))
        return int((self.dirs[""] / "memory.peak").read_text())

    def hit_memory_limit(self) -> bool:
        """True once the group's memory limit forced the OOM killer."""
        try:
            name = "memory.oom_control" if self.kind == "v1" else "memory.events"
            fields = (self.dirs.get("memory", self.dirs.get("")) / name).read_text().split()
            return int(fields[fields.index("oom_kill") + 1]) > 0
        except (OSError, ValueError):
            return False

    def hit_process_limit(self) -> bool:
        """True once a fork was refused at pids.max."""
        path = self.dirs.get("pids", self.dirs.get(""))
        try:
            events = (path / "pids.events").read_text().split()
            return int(events[events.index("max") + 1]) > 0
        except (OSError, ValueError, AttributeError):
            return False

    def close(self) -> None:
        """Kill anything left in the group and remove its directories."""
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None
        for path in self.dirs.values():
            kill_members(path)
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.dirs = {}


def remove_orphans(parent: Path) -> None:
    """Remove the empty groups left below `parent` by parents that died without closing their workers."""
    for path in parent.glob(f"{PREFIX}*"):
        creator = path.name.rsplit("-", 2)[-2] if path.name.count("-") >= 3 else ""
        if creator.isdigit() and not Path(f"/proc/{creator}").exists():
            for name, thawed in (("cgroup.freeze", 0), ("freezer.state", "THAWED")):
                write_optional(path / name, thawed)  # a frozen orphan dies of its pending SIGKILL once thawed
            try:
                path.rmdir()  # fails harmlessly while the group still has members
            except OSError:
                pass


def kill_members(path: Path) -> None:
    try:
        pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return
    for pid in pids:
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def write(path: Path, value: object) -> None:
    with open(path, "w") as handle:
        handle.write(str(value))


def write_optional(path: Path, value: object) -> None:
    if path.exists():
        try:
            write(path, value)
        except OSError:
            pass
