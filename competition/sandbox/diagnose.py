"""Prove that the jail works on this machine: start a jailed probe worker and check it from outside.

`diagnose()` (wired into `tito setup --validate`) returns one Check per guarantee: bubblewrap and user namespaces,
the limits' mechanism, how idle workers are frozen (no task running), a non-root uid, loopback-only network, a host
canary file and a canary environment variable out of reach, a process-count limit that binds and nothing left
running after close. The probe's model.py goes
around the in-process guard (fork_exec raises no audit event), so each check tests the jail, not the guard.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from competition.sandbox import jail
from competition.sandbox.freezer import tasks
from competition.sandbox.limits import Limits
from competition.sandbox.process import Worker, WorkerError, child_pids, running

PROBE_PROCESSES = 12  # the probe's process-count limit; it tries to start twice as many sleepers
PROBE = '''
import json, os, _posixsubprocess


def spawn(argv):
    err_r, err_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        pid = _posixsubprocess.fork_exec(argv, [argv[0].encode()], True, (err_w, out_w), None, None, -1, -1, -1,
                                         out_w, -1, out_w, err_r, err_w, True, False, -1, None, None, None, -1,
                                         None, False)
    finally:
        os.close(err_r), os.close(err_w), os.close(out_w)
    return pid, out_r


def load(event):
    order = json.loads(event)
    pid, out = spawn(["/bin/sh", "-c", "cat " + order["file"] + " 2>&1; echo; cat /proc/self/environ"])
    seen = os.read(out, 1 << 16).decode("utf-8", "replace")
    os.waitpid(pid, 0)
    started = 0
    try:
        for _ in range(order["spawn"]):
            spawn(["/bin/sh", "-c", "sleep 60"])
            started += 1
    except OSError as err:
        seen += " refused: " + str(err)
    raise RuntimeError("probe: started " + str(started) + "; " + seen + " env: " + repr(dict(os.environ)))
'''


@dataclass(frozen=True)
class Check:
    """One verified guarantee of the jail: `fix` says what to do when `ok` is False."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def diagnose() -> list[Check]:
    """Start a jailed probe worker and check every guarantee from outside; the list of checks."""
    state = jail.status()
    checks = [Check("bubblewrap jail", state.available, state.reason,
                    "" if state.available else state.reason.rpartition("fix: ")[2] or state.reason)]
    if not state.available:
        return checks
    with tempfile.TemporaryDirectory(prefix="tito-diagnose-") as tmp:
        return checks + _probe(Path(tmp))


def _probe(tmp: Path) -> list[Check]:
    (tmp / "probe").mkdir()
    (tmp / "probe" / "model.py").write_text(PROBE)
    secret_file, secret_env, env_name = tmp / "canary.txt", f"canary-{uuid.uuid4().hex}", "TITO_DIAGNOSE_CANARY"
    secret_file.write_text(f"canary-{uuid.uuid4().hex}")
    os.environ[env_name] = secret_env
    worker = Worker(tmp / "probe", limits=Limits(processes=PROBE_PROCESSES), label="diagnose", isolation="jail")
    try:
        worker.start()
        del os.environ[env_name]
        checks = _inside_checks(worker)
        worker.request("import", timeout=60)
        try:
            worker.request("load", event=json.dumps({"file": str(secret_file), "spawn": 2 * PROBE_PROCESSES}),
                           timeout=60)
            reply = "the probe returned without its report"
        except WorkerError as err:
            reply = str(err)
        descendants = _descendants(worker.host_pid)
        ns_init = worker._ns_init
    except WorkerError as err:
        return [Check("jailed worker starts", False, str(err), "run `tito setup --validate` again; report the text")]
    finally:
        os.environ.pop(env_name, None)
        worker.close()
    secret = secret_file.read_text()
    started = reply.partition("started ")[2].partition(";")[0]
    checks += [
        Check("host file unreadable", secret not in reply and "started" in reply,
              "a canary file in a host folder is absent in the jail" if secret not in reply else
              "the probe read a host file", "the jail must bind only the interpreter, packages and submission"),
        Check("environment empty", secret_env not in reply and env_name not in reply and "started" in reply,
              "a canary variable of the parent is not in the worker's environment",
              "bwrap must run with --clearenv"),
        Check("process-count limit binds", started.isdigit() and len(descendants) <= PROBE_PROCESSES,
              f"the probe started {started or '?'} of {2 * PROBE_PROCESSES} sleepers; {len(descendants)} processes "
              f"seen from outside (limit {PROBE_PROCESSES})",
              "run the harness as a non-root user, or as root so workers drop to nobody (RLIMIT_NPROC)"),
        Check("nothing survives close", _gone(ns_init, descendants), "the jail's pid namespace is gone after close",
              "the jail must run bwrap with --unshare-pid and kill its namespace init"),
    ]
    return checks


def _inside_checks(worker: Worker) -> list[Check]:
    """Checks read from outside while the worker idles: its limits' mechanism, uid and network interfaces."""
    record = worker.sandbox_record()
    limits = record["method"].partition("limits: ")[2]
    pid = worker.host_pid
    uids = _status_field(pid, "Uid:")
    interfaces = _interfaces(pid)
    idle = record["method"].partition("idle: ")[2].partition(";")[0]
    worker.pause()
    running_tasks = [tid for _, tid, state in tasks(worker._worker_pids()) if state == "R"]
    worker.resume()
    return [
        Check("limits", True, f"{limits}; memory meter: {record['memory_meter']}",
              "" if "cgroup" in limits else "cgroups are not writable here: per-process rlimits bind instead"),
        Check("idle workers frozen", not running_tasks,
              f"between requests: {idle}; " + (f"tasks {running_tasks} kept running" if running_tasks else
                                                "no task of the paused probe runs"),
              "" if "cgroup" in idle and not running_tasks else
              "no freezer cgroup here: idle workers are stopped task by task (CPU of a task that exits between two "
              "readings goes uncounted); run the runner in a delegated cgroup (systemd Delegate=yes)"),
        Check("unprivileged uid", bool(uids) and "0" not in uids, f"worker uids (host view): {' '.join(uids)}",
              "the parent must drop to nobody before bwrap"),
        Check("network: loopback only", record["network_isolated"] and interfaces == ["lo"],
              f"interfaces in the worker's network namespace: {', '.join(interfaces) or 'unknown'}",
              "bwrap must run with --unshare-net"),
    ]


def _status_field(pid: int, name: str) -> list[str]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name):
                return line.split()[1:]
    except OSError:
        pass
    return []


def _interfaces(pid: int) -> list[str]:
    """Network interfaces of `pid`'s network namespace, read from the host's /proc."""
    try:
        lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    except OSError:
        return []
    return sorted(line.split(":")[0].strip() for line in lines)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        children = child_pids(todo.pop())
        found += children
        todo += children
    return found


def _gone(ns_init: int | None, pids: list[int], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(running(pid) for pid in [ns_init or 0, *pids] if pid):
            return True
        time.sleep(0.05)
    return False
