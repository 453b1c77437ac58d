"""Audit hook installed in the worker after start-up: an early, friendly error behind the static check.

Not the defence (Python's audit hooks are not a sandbox; `_posixsubprocess.fork_exec` raises no event): the OS jail
is. The hook keeps everything it consults in its closure, so reassigning this module's globals does not disarm it.

Refused once armed: sockets, subprocesses, os.system/exec/spawn/fork, signals to other processes, ctypes,
opening file descriptors by number, writes or file-system changes outside the worker's temporary directory,
and reads outside the temporary directory, the Python installation and the code of numpy/tinytorch/competition
(dataset files such as tinytorch's bundled data are never readable: labels stay in the parent).
"""

from __future__ import annotations

import os
import sys

REFUSED_PREFIXES = (
    "socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "os.kill", "os.killpg", "os.setuid", "os.setgid", "os.chroot", "pty.", "ctypes.", "webbrowser.", "urllib.",
    "http.", "ftplib.", "smtplib.", "imaplib.", "poplib.", "nntplib.", "telnetlib.", "sys.remote_exec",
    "os.symlink", "os.link", "winreg.", "resource.setrlimit", "resource.prlimit", "sys.addaudithook",
)
PATH_CHANGE_EVENTS = frozenset(
    {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.utime",
     "shutil.rmtree", "shutil.copyfile", "shutil.copytree", "shutil.move", "os.chflags", "os.lchflags"}
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class SandboxViolation(PermissionError):
    """Raised by the audit hook when submission code tries something the sandbox forbids."""


def install(writable_root: str, readable_roots: list[str], unreadable_roots: list[str]) -> None:
    """Install the audit hook (it cannot be removed). Paths are resolved with realpath before comparing."""
    writable = _norm(writable_root)
    readable = tuple(_norm(p) for p in readable_roots) + (writable,)
    unreadable = tuple(_norm(p) for p in unreadable_roots)

    def hook(event: str, args: tuple, refused: tuple = REFUSED_PREFIXES, changes: frozenset = PATH_CHANGE_EVENTS,
             check_open=_check_open, norm=_norm, inside=_inside, violation=SandboxViolation) -> None:
        if event == "open":
            check_open(args, writable, readable, unreadable, norm, inside)
        elif event.startswith(refused):
            raise violation(f"sandbox: '{event}' is not allowed in a submission")
        elif event in changes:
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)) and not inside(norm(arg), (writable,)):
                    raise violation(f"sandbox: '{event}' outside the submission's temporary folder")

    sys.addaudithook(hook)


def _check_open(args: tuple, writable: str, readable: tuple[str, ...], unreadable: tuple[str, ...], norm, inside,
                write_flags: int = WRITE_FLAGS, violation: type = SandboxViolation) -> None:
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(path, int):
        raise violation("sandbox: opening a file descriptor by number is not allowed")
    if path is None:
        return
    target = norm(path)
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & write_flags)
    if writing and not inside(target, (writable,)):
        raise violation(f"sandbox: writing '{target}' outside the submission's temporary folder")
    if inside(target, unreadable) or not inside(target, readable):
        raise violation(f"sandbox: reading '{target}' is not allowed (only the submission's own files)")


def _norm(path: object, fsdecode=os.fsdecode, fspath=os.fspath, realpath=os.path.realpath) -> str:
    return realpath(fsdecode(fspath(path)))  # type: ignore[arg-type]


def _inside(path: str, roots: tuple[str, ...], sep: str = os.sep) -> bool:
    return any(path == root or path.startswith(root.rstrip(sep) + sep) for root in roots)
