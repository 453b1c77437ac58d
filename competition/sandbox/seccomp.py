"""The jail's seccomp filter: the system calls that would undo the harness's placement are refused inside the jail.

Every worker runs with transparent huge pages off and on the one worker CPU (limits.place_worker, before bwrap;
docs/measurement.md, "Process luck"). Any process of the jail could turn huge pages back on for itself with prctl (a
hook-free child interpreter with ctypes does) and run 20-35 % faster than its rivals, or, where no cgroup cpuset
binds the CPU, widen its affinity to every core. bwrap loads this classic BPF program (`--seccomp FD`, with
no_new_privs) before it executes the worker, so every process of the jail inherits it: prctl(PR_SET_THP_DISABLE, ...)
and sched_setaffinity fail with EPERM whatever their arguments, as does every system call of another ABI (i386
`int 0x80`, x32), through which they would pass unchecked. Everything else is allowed: the jail's namespaces, not a
system-call list, are the boundary.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

PR_SET_THP_DISABLE = 41
# audit architecture, prctl's and sched_setaffinity's numbers, per machine
ARCHES = {"x86_64": (0xC000003E, 157, 203), "aarch64": (0xC00000B7, 167, 122)}
X32_SYSCALL_BIT = 0x40000000
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (args[0]'s low half on a little-endian machine)


def program(machine: str | None = None) -> bytes | None:
    """The filter as bwrap reads it (struct sock_filter entries), or None on a machine it is not written for."""
    arch = ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, prctl, setaffinity = arch
    refuse = _ERRNO | errno.EPERM
    code = [
        (_LD_ABS, 0, 0, _ARCH),
        (_JEQ, 1, 0, audit_arch),  # another ABI: refused
        (_RET, 0, 0, refuse),
        (_LD_ABS, 0, 0, _NR),
        (_JGE, 0, 1, X32_SYSCALL_BIT),  # x32 numbers: refused
        (_RET, 0, 0, refuse),
        (_JEQ, 0, 1, setaffinity),
        (_RET, 0, 0, refuse),
        (_JEQ, 0, 3, prctl),
        (_LD_ABS, 0, 0, _ARG0),
        (_JEQ, 0, 1, PR_SET_THP_DISABLE),
        (_RET, 0, 0, refuse),
        (_RET, 0, 0, _ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *entry) for entry in code)


def program_fd() -> int | None:
    """A file descriptor at the start of the filter (the caller passes it to bwrap and closes it), None where the
    filter is not available (another machine, or no memfd)."""
    data = program()
    if data is None or not hasattr(os, "memfd_create"):
        return None
    fd = os.memfd_create("tito-seccomp", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
