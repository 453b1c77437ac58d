"""The OS jail every submission worker runs in: bubblewrap namespaces, a read-only file system and binding limits.

`status()` says whether the jail works on this machine (and why not, with the fix); `require(runner_class)` refuses
reference and edge runs without it. `Plan` builds the bwrap command line for one worker: new user, pid, mount, net,
ipc, uts and cgroup namespaces, no environment but the one given, a root file system that is an empty read-only
tmpfs holding only /usr, the interpreter, the packages the worker imports (under JAIL_LIB) and the submission copy
(read-only at SUBMISSION), a private /tmp (the only writable place, bounded), a fresh /proc and a minimal read-only
/dev (its device nodes work; /dev/shm cannot be filled). The worker runs as an unprivileged
uid: the parent's own, or `nobody` (65534) when the parent is root, so RLIMIT_NPROC binds. See docs/architecture.md.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import competition
from competition.sandbox import cgroup, limits as limits_mod
from competition.sandbox.freezer import FreezeGroup
from competition.sandbox.libc import LIBC

NOBODY = 65534
JAIL_LIB = "/jail/lib"  # the worker's import path: only the packages bound below
SUBMISSION = "/tmp/submission"  # the read-only submission copy, the worker's cwd; /tmp is the jail's private tmpfs
HARNESS_PACKAGES = ("competition", "tinytorch")  # taken from the parent's own import, so any checkout works
WORKER_PACKAGES = ("numpy", "threadpoolctl", "yaml")  # third-party packages the worker may import (absent: skipped)
# Folders of the packages that an empty read-only tmpfs covers in every jail, with the files (glob) kept visible: the
# bundled datasets (test labels; the training images a scrambled MLP Sprint could be matched against) and the
# pretrained weights (a model trained before the run; weights an entry could use without shipping them, outside its
# measured size). The model cards (architectures) stay.
HIDDEN_IN_PACKAGES = {"tinytorch/data/bundled": (), "tinytorch/models/weights": ("*.json",)}
APPARMOR_SYSCTL = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
APPARMOR_FIX = "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"

_MS_BIND, _MS_REC, _MS_PRIVATE = 0x1000, 0x4000, 0x40000
_CLONE_NEWNS = 0x00020000


class JailUnavailable(RuntimeError):
    """A run that must be jailed (runner class reference or edge) cannot start: the message says why and the fix."""


@dataclass(frozen=True)
class JailStatus:
    """Whether the jail works here; `reason` explains a failure and names the fix."""

    available: bool
    reason: str
    bwrap: str | None = None
    cgroup: str = "none"

    @property
    def warning(self) -> str:
        """The one line a local run prints when it falls back to the process sandbox."""
        return (f"warning: no OS jail on this machine ({self.reason}); submission code runs in the weaker process "
                "sandbox and the result is recorded as isolation 'process' (never ranked)")


def find_bwrap() -> str | None:
    """The bubblewrap executable, or None."""
    return shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap",) if os.access(p, os.X_OK)), None)


@functools.lru_cache(maxsize=1)
def status() -> JailStatus:
    """Probe the jail once per process: bwrap present, unprivileged user namespaces allowed, a jailed start works."""
    if not sys.platform.startswith("linux"):
        return JailStatus(False, f"bubblewrap needs Linux namespaces; this is {sys.platform}")
    bwrap = find_bwrap()
    if bwrap is None:
        return JailStatus(False, "bubblewrap is not installed (sudo apt-get install bubblewrap)")
    groups = cgroup.version()
    probe = Plan.for_probe(bwrap)
    try:
        done = subprocess.run(probe.argv, preexec_fn=probe.preexec, capture_output=True, timeout=30,
                              env={}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as err:
        return JailStatus(False, f"bubblewrap could not start: {err}", bwrap, groups)
    if done.returncode == 0 and done.stdout.strip() == b"jailed":
        return JailStatus(True, "bubblewrap works with unprivileged user namespaces", bwrap, groups)
    return JailStatus(False, _failure_reason(done.stderr.decode("utf-8", "replace").strip()), bwrap, groups)


@functools.lru_cache(maxsize=4)
def supported_options(bwrap: str) -> frozenset[str]:
    """The newer bwrap options this bwrap knows (--disable-userns since 0.8, --size since 0.7)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(option for option in ("--disable-userns", "--size") if option in text)


def _failure_reason(stderr: str) -> str:
    if _read_int(APPARMOR_SYSCTL) == 1:
        return (f"AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1); "
                f"fix: {APPARMOR_FIX} ({stderr or 'bwrap failed'})")
    if _read_int(Path("/proc/sys/user/max_user_namespaces")) == 0:
        return f"user namespaces are disabled; fix: sudo sysctl -w user.max_user_namespaces=15000 ({stderr})"
    if _read_int(Path("/proc/sys/kernel/unprivileged_userns_clone")) == 0:
        return f"unprivileged user namespaces are disabled; fix: sudo sysctl -w kernel.unprivileged_userns_clone=1"
    return f"bubblewrap failed: {stderr or 'no output'}"


def require(runner_class: str) -> JailStatus:
    """The jail status; raises JailUnavailable for runner classes that must be jailed ("reference", "edge")."""
    state = status()
    if not state.available and runner_class in ("reference", "edge"):
        raise JailUnavailable(f"runner class '{runner_class}' runs submissions only inside the OS jail, which does "
                              f"not work here: {state.reason}")
    return state


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


# -- what the jail contains ----------------------------------------------------------------------------------------
def package_binds() -> list[tuple[str, str]]:
    """(host path, jail path) of every package the worker may import, each bound read-only under JAIL_LIB."""
    binds = [(str(Path(competition.__file__).parent), f"{JAIL_LIB}/competition")]
    for name in (*HARNESS_PACKAGES[1:], *WORKER_PACKAGES):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if spec.submodule_search_locations else origin
        binds.append((str(source), f"{JAIL_LIB}/{source.name}"))
        libs = source.parent / f"{name}.libs"  # manylinux wheels keep their shared libraries next to the package
        if libs.is_dir():
            binds.append((str(libs), f"{JAIL_LIB}/{libs.name}"))
    return binds


def interpreter() -> tuple[str, str]:
    """(the base interpreter's executable, its installation prefix): the jail runs Python outside any venv."""
    exe = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    return exe, os.path.realpath(sys.base_prefix)


def _system_binds() -> list[list[str]]:
    """/usr read-only plus the top-level /bin, /lib, /lib64, /sbin as the host has them (symlinks or folders)."""
    args = [["--ro-bind", "/usr", "/usr"]]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args.append(["--symlink", os.readlink(top), top])
        elif os.path.isdir(top):
            args.append(["--ro-bind", top, top])
    return args


@dataclass
class Plan:
    """The bwrap command for one worker and what its preexec must do (join the cgroup, stage binds, drop root)."""

    argv: list[str]
    binds: list[tuple[str, str]] = field(default_factory=list)  # (host source, stage dir) prepared by preexec
    group: cgroup.Cgroup | None = None
    drop_root: bool = False
    freeze_group: FreezeGroup | None = None

    @classmethod
    def for_worker(cls, bwrap: str, submission: Path, stage: Path, command: list[str], env: dict[str, str],
                   info_fd: int, tmpfs_bytes: int, group: cgroup.Cgroup | None,
                   freeze_group: FreezeGroup | None = None, seccomp_fd: int | None = None) -> "Plan":
        """The plan of a worker jail; `stage` is an empty folder of the parent's temporary directory; `seccomp_fd`
        holds the filter bwrap loads before it executes the worker (seccomp.py)."""
        exe, prefix = interpreter()
        sources = [(prefix, prefix), *package_binds(), (str(submission), SUBMISSION)]
        plan = cls([], group=group, drop_root=os.geteuid() == 0, freeze_group=freeze_group)
        optional = supported_options(bwrap)
        argv = [bwrap, "--unshare-all", "--unshare-user", *optional & {"--disable-userns"}, "--die-with-parent",
                "--new-session", "--clearenv", "--hostname", "jail"]
        for key, value in env.items():
            argv += ["--setenv", key, value]
        for args in _system_binds():
            argv += args
        size = ["--size", str(tmpfs_bytes)] if "--size" in optional else []  # bubblewrap >= 0.7
        argv += ["--proc", "/proc", "--dev", "/dev", *size, "--perms", "1777", "--tmpfs", "/tmp"]
        for index, (source, dest) in enumerate(sources):
            argv += ["--ro-bind", plan.stage(source, stage / str(index)), dest]
        site = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})["purelib"]
        hidden: dict[str, list[Path]] = {}  # jail path -> the files bound back into its empty tmpfs
        if os.path.isdir(site) and site.startswith(prefix + os.sep):
            hidden[site] = []
        for rel, patterns in HIDDEN_IN_PACKAGES.items():
            host = _host_path(sources, rel)
            if host and os.path.isdir(host):
                hidden[f"{JAIL_LIB}/{rel}"] = sorted(p for pat in patterns for p in Path(host).glob(pat) if p.is_file())
        for path, kept in hidden.items():
            argv += ["--perms", "0555", "--tmpfs", path]
            for index, file in enumerate(kept):
                staged = plan.stage(str(file), stage / f"{Path(path).name}-{index}")
                argv += ["--ro-bind", staged, f"{path}/{file.name}"]
            argv += ["--remount-ro", path]
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        argv += ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", SUBMISSION, "--info-fd", str(info_fd),
                 "--", exe, *command]
        plan.argv = argv
        return plan

    @classmethod
    def for_probe(cls, bwrap: str) -> "Plan":
        """A minimal jail that only prints "jailed": what status() runs."""
        argv = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--clearenv"]
        for args in _system_binds():
            argv += args
        argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--remount-ro", "/",
                 "--", "/usr/bin/echo", "jailed"]
        return cls(argv, drop_root=os.geteuid() == 0)

    def stage(self, source: str, stage_dir: Path) -> str:
        """The path bwrap binds for `source`. As root, bwrap runs as nobody, who may not traverse the way to the
        source (e.g. /root/.pyenv): preexec then bind-mounts it onto a stage folder in a private mount namespace."""
        if not self.drop_root:
            return source
        stage_dir.mkdir(parents=True, exist_ok=True)
        if os.path.isfile(source):
            stage_dir = stage_dir / "file"
            stage_dir.touch()
        self.binds.append((source, str(stage_dir)))
        return str(stage_dir)

    def preexec(self) -> None:
        """Runs in the child between fork and exec: join the cgroups, stage the binds, drop root to nobody."""
        if self.group is not None:
            self.group.join()
        if self.freeze_group is not None:
            self.freeze_group.join()
        limits_mod.place_worker()
        if self.binds:
            _stage_mounts(self.binds)
        if self.drop_root:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)


def _host_path(sources: list[tuple[str, str]], rel: str) -> str:
    """The host path of `rel` (relative to JAIL_LIB) given the bind list."""
    top, _, rest = rel.partition("/")
    for source, dest in sources:
        if dest == f"{JAIL_LIB}/{top}":
            return os.path.join(source, rest)
    return ""


def _stage_mounts(binds: list[tuple[str, str]]) -> None:
    """A private mount namespace for bwrap's launcher in which each source is bind-mounted on its stage folder."""
    if LIBC.unshare(_CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
    if LIBC.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "making the mount namespace private failed")
    for source, target in binds:
        if LIBC.mount(os.fsencode(source), os.fsencode(target), None, _MS_BIND | _MS_REC, None) != 0:
            raise OSError(ctypes.get_errno(), f"staging {source} failed")


def bootstrap(limits: dict[str, tuple[int, int]], module: str) -> str:
    """The `python -c` program the jailed interpreter runs: set rlimits (inside the fresh user namespace, so
    RLIMIT_NPROC counts only the jail's processes), put JAIL_LIB first on sys.path and run the worker module."""
    calls = "".join(f"resource.setrlimit(resource.{name}, {pair!r}); " for name, pair in limits.items())
    return (f"import resource, runpy, sys; {calls}sys.path.insert(0, {JAIL_LIB!r}); "
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
