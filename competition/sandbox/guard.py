"""Audit hook installed in the worker after start-up: the runtime guard behind the static check.

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

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            _check_open(args, writable, readable, unreadable)
        elif event.startswith(REFUSED_PREFIXES):
            raise SandboxViolation(f"sandbox: '{event}' is not allowed in a submission")
        elif event in PATH_CHANGE_EVENTS:
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)) and not _inside(_norm(arg), (writable,)):
                    raise SandboxViolation(f"sandbox: '{event}' outside the submission's temporary folder")

    sys.addaudithook(hook)


def _check_open(args: tuple, writable: str, readable: tuple[str, ...], unreadable: tuple[str, ...]) -> None:
    path, mode, flags = (tuple(args) + (None, None, None))[:3]
    if isinstance(path, int):
        raise SandboxViolation("sandbox: opening a file descriptor by number is not allowed")
    if path is None:
        return
    target = _norm(path)
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & WRITE_FLAGS)
    if writing and not _inside(target, (writable,)):
        raise SandboxViolation(f"sandbox: writing '{target}' outside the submission's temporary folder")
    if _inside(target, unreadable) or not _inside(target, readable):
        raise SandboxViolation(f"sandbox: reading '{target}' is not allowed (only the submission's own files)")


def _norm(path: object) -> str:
    path = os.fsdecode(os.fspath(path))  # type: ignore[arg-type]
    return os.path.realpath(path)


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
