"""What a jailed process learns from /proc/self/mountinfo and /proc/self/cgroup, read from inside, checked outside.

The jail has its own mount namespace and a fresh /proc: mountinfo lists only the jail's own mounts. A bind mount's
root column is the source's path within its host file system, so the host paths of the read-only binds remain
visible by name (the interpreter prefix, which the jail sees at the same path anyway, the checkout's competition and
tinytorch folders, the venv's numpy/yaml/threadpoolctl and the submission copy's temporary folder). Nothing is
reachable through them (none is mounted at its host path but the prefix), and none names which contender the worker
is (candidate, weights probe, baseline, twin). The cgroup namespace shows every group as "/".
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from competition.sandbox import jail
from competition.sandbox.limits import Limits
from competition.sandbox.process import Worker, WorkerError

STATUS = jail.status()
pytestmark = pytest.mark.skipif(not STATUS.available, reason=f"the OS jail cannot run here: {STATUS.reason}")
LABEL = "secret-label-5c1d"
READER = '''
import os, sys, _posixsubprocess


def run(argv):
    """argv with its output on the worker's log (fork_exec: no audit event, no hook in the child)."""
    err_r, err_w = os.pipe()
    pid = _posixsubprocess.fork_exec(argv, [argv[0].encode()], True, (err_w,), None, None, -1, -1, -1, -1, -1, -1,
                                     err_r, err_w, True, False, -1, None, None, None, -1, None, False)
    os.close(err_w)
    os.waitpid(pid, 0)


def load(event):
    run(["/bin/sh", "-c", "echo BEGIN; cat /proc/self/mountinfo; echo CGROUP; cat /proc/self/cgroup; echo LIST; "
         "for root in $(cut -d' ' -f4 /proc/self/mountinfo); do ls -d \\"$root\\" 2>/dev/null; done; echo END"])
    raise RuntimeError("read")
'''


def inside(tmp_path: Path) -> tuple[list[list[str]], list[str], list[str], Path]:
    """(mountinfo fields per line, cgroup lines, host mount roots that exist inside, the worker's temporary folder)."""
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "model.py").write_text(READER)
    with Worker(folder, limits=Limits(), label=LABEL, isolation="jail") as worker:
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError, match="read"):
            worker.request("load", event="x", timeout=60)
        log, tmp = worker.log_tail(1 << 20), worker._tmp
    text = log[log.index("BEGIN\n") + 6:log.index("END\n")]
    mounts, _, rest = text.partition("CGROUP\n")
    cgroups, _, listed = rest.partition("LIST\n")
    return [line.split() for line in mounts.splitlines()], cgroups.splitlines(), listed.splitlines(), tmp


def test_mountinfo_shows_only_the_jails_binds_and_no_contender_label(tmp_path: Path) -> None:
    mounts, cgroups, reachable, tmp = inside(tmp_path)
    text = "\n".join(" ".join(fields) for fields in mounts)
    assert LABEL not in text and LABEL not in "\n".join(cgroups)
    assert all(line.endswith(":/") for line in cgroups), cgroups  # the cgroup namespace hides the host's groups
    points = {fields[4] for fields in mounts}
    assert {"/", "/usr", "/proc", "/dev", "/tmp", jail.SUBMISSION} <= points
    assert not any(p.startswith(("/home", "/root/.", "/etc", "/run", "/sys", "/work", "/var")) for p in points
                   if not p.startswith(jail.interpreter()[1]))  # no host mount point beyond the jail's own
    # what remains, exactly: the host sources of the jail's read-only binds (and files bound back below them)
    _, prefix = jail.interpreter()
    sources = {os.path.realpath(src) for src, _ in jail.package_binds()} | {prefix, str(tmp / "submission")}
    system = {"/usr", "/bin", "/lib", "/lib64", "/sbin", "/lib32"}
    roots = {fields[3] for fields in mounts
             if fields[fields.index("-") + 1] not in ("tmpfs", "devtmpfs", "proc", "devpts") and fields[4] not in system}
    assert all(any(r == s or r.startswith(s + "/") for s in sources) for r in roots), roots - sources
    assert str(tmp / "submission") in roots and LABEL not in str(tmp)
    # and none of them leads anywhere: only the prefix is mounted at its host path
    assert set(reachable) <= {prefix, "/", *system}, reachable
