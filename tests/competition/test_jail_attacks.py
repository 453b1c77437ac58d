"""Hostile submissions against the OS jail, each checked from OUTSIDE: canary secrets never reach the attacker's
output, host paths stay unwritten, listeners stay silent, no process survives, limits bind and the parent is fine.

The fixtures switch the in-process audit hook off first (or go around it with `_posixsubprocess.fork_exec`), and
the workers are started directly, past the static check: only the jail stands between them and the host.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from competition.sandbox import jail
from competition.sandbox.limits import Limits
from competition.sandbox.process import Worker, WorkerError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "submissions"
BUNDLED = REPO / "tinytorch" / "data" / "bundled"
STATUS = jail.status()

pytestmark = pytest.mark.skipif(not STATUS.available, reason=f"the OS jail cannot run here: {STATUS.reason}")


def attack(order: dict, limits: Limits | None = None) -> str:
    """Run one attack of hostile_escapes at load time; the attacker's whole output (error text and log)."""
    with Worker(FIXTURES / "hostile_escapes", limits=limits, label="attacker", isolation="jail") as worker:
        assert worker.sandbox_record()["isolation"] == "jail"
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError) as info:
            worker.request("load", event=json.dumps(order), timeout=60)
        return f"{info.value}\n{worker.log_tail(1 << 20)}"


def marked_processes(marker: str) -> list[int]:
    """Host pids whose command line contains `marker` (this test's own process excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def forms(secret: str) -> list[str]:
    """The secret as the attacker would print it: raw and hex-encoded."""
    return [secret, secret.encode().hex()]


def test_secrets_labels_and_host_processes_stay_unreadable(tmp_path: Path, monkeypatch) -> None:
    env_secret, file_secret, proc_secret = (f"canary-{uuid.uuid4().hex}" for _ in range(3))
    monkeypatch.setenv("TITO_CANARY_SECRET", env_secret)
    canary = tmp_path / "secret.txt"
    canary.write_text(file_secret)
    sleeper = subprocess.Popen(["sleep", "60"], env={"TITO_CANARY_PROC": proc_secret})
    try:
        loot = attack({"attack": "read",
                       "files": [str(canary), f"/proc/{sleeper.pid}/environ", f"/proc/{os.getpid()}/environ",
                                 "/proc/1/environ", str(BUNDLED / "mnist_5k.npz"), "/etc/shadow"],
                       "folders": [str(BUNDLED), "/jail/lib/tinytorch/data/bundled", str(REPO), "/root", "/home"]})
    finally:
        sleeper.kill()
        sleeper.wait()
    for secret in (env_secret, file_secret, proc_secret):
        assert not any(form in loot for form in forms(secret)), "a canary secret reached the jailed code"
    assert "TITO_CANARY_SECRET" not in loot
    for label_file in BUNDLED.iterdir():
        assert repr(label_file.name) not in loot, f"{label_file.name} is listed in the jail"
        assert label_file.read_bytes()[:64].hex() not in loot, f"{label_file.name} was read in the jail"
    assert "uid=0" not in loot


def test_writes_to_host_paths_leave_no_trace(tmp_path: Path) -> None:
    targets = [tmp_path / "escaped", REPO / "leaderboard" / f"escaped-{uuid.uuid4().hex}",
               Path(f"/tmp/tito-escaped-{uuid.uuid4().hex}"), FIXTURES / "hostile_escapes" / "escaped"]
    try:
        loot = attack({"attack": "write", "paths": [str(p) for p in targets]})
        written = [p for t in targets for p in (t, Path(f"{t}.sh"), Path(f"{t}.py")) if p.exists()]
        assert written == [], f"the jailed code wrote host files: {written}"
        assert "fresh interpreter" in loot  # the attack did run (its report is cut at 1 900 characters)
    finally:
        for target in targets:
            for path in (target, Path(f"{target}.sh"), Path(f"{target}.py")):
                path.unlink(missing_ok=True)


def test_shell_commands_through_fork_exec_and_module_attributes_have_no_outside_effect(tmp_path: Path) -> None:
    markers = [tmp_path / "fork-exec-ran", Path(f"/tmp/tito-atomic-os-system-{uuid.uuid4().hex}")]
    loot = attack({"attack": "commands", "command": f"touch {markers[0]}; echo done",
                   "command_2": f"touch {markers[1]}"})
    assert "done\\n\") | atomic.os.system" in loot  # the command ran, inside the jail
    assert not any(m.exists() for m in markers)
    markers[1].unlink(missing_ok=True)


def test_listeners_on_the_host_receive_no_connection() -> None:
    name = f"tito-canary-{uuid.uuid4().hex}"
    unix_path = f"/tmp/{name}.sock"
    listeners = []
    for family, address in ((socket.AF_UNIX, unix_path), (socket.AF_UNIX, "\0" + name),
                            (socket.AF_INET, ("127.0.0.1", 0))):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind(address)
        sock.listen(8)
        sock.setblocking(False)
        listeners.append(sock)
    port = listeners[2].getsockname()[1]
    try:
        loot = attack({"attack": "connect", "unix": unix_path, "abstract": name, "port": port})
        for sock in listeners:
            with pytest.raises(BlockingIOError):
                sock.accept()
        assert "connected" not in loot.replace("not connected", "")
        assert "fresh interpreter" in loot  # the attack did run
    finally:
        for sock in listeners:
            sock.close()
        Path(unix_path).unlink(missing_ok=True)


def test_fork_bomb_is_contained_and_the_parent_keeps_working() -> None:
    marker = "tito-hostile-forkbomb-51e2d0"
    start = time.monotonic()
    with Worker(FIXTURES / "hostile_forks_at_import", limits=Limits(processes=32), label="bomber",
                isolation="jail") as worker:
        with pytest.raises(WorkerError, match="process-count limit of 32|Resource temporarily unavailable"):
            worker.request("import", timeout=60)
        assert marked_processes(marker), "the bomb did not run (the test would prove nothing)"
        assert subprocess.run(["true"], timeout=10).returncode == 0  # the host can still fork
    assert time.monotonic() - start < 60
    assert _settle(lambda: marked_processes(marker)) == []


def test_setsid_double_fork_sleepers_do_not_survive_the_worker() -> None:
    marker = "tito-hostile-survivor-7f3a9c"
    with Worker(FIXTURES / "hostile_survives_at_import", label="survivor", isolation="jail") as worker:
        worker.request("import", timeout=60)
        assert _settle(lambda: len(marked_processes(marker)) < 2) is False, "the sleepers did not start"
    assert _settle(lambda: marked_processes(marker)) == []


def test_memory_bomb_is_stopped_with_a_clear_reason() -> None:
    with Worker(None, isolation="jail") as probe:
        cgroup_limit = "cgroup" in probe.sandbox_record()["method"].split("limits:")[-1]
    if cgroup_limit:  # the cgroup binds: address space is no obstacle, resident memory is
        limits = Limits(address_space_bytes=64 << 30, memory_bytes=256 << 20)
        expected = "killed at its memory limit (256 MiB)"
    else:
        limits, expected = Limits(address_space_bytes=512 << 20), "ran out of memory"
    assert expected in attack({"attack": "memory", "mib": 1024}, limits)
    assert subprocess.run(["true"], timeout=10).returncode == 0


def test_private_tmp_is_bounded_and_the_rest_read_only() -> None:
    loot = attack({"attack": "fill_tmp", "mib": 64}, Limits(tmpfs_bytes=16 << 20))
    assert "dd /tmp: (0, \"dd: error writing '/tmp/fill': No space left on device" in loot
    assert "\"dd: failed to open '/dev/shm/fill': Read-only file system" in loot
    assert "\"dd: failed to open '/dev/fill': Read-only file system" in loot


def test_the_worker_is_unprivileged_and_in_its_own_namespaces_seen_from_outside() -> None:
    with Worker(None, isolation="jail") as worker:
        pid = worker.host_pid
        uids = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if line.startswith("Uid:")).split()[1:]
        namespaces = {ns: os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}")
                      for ns in ("user", "pid", "mnt", "net", "ipc", "uts")}
    assert "0" not in uids
    if os.geteuid() == 0:
        assert uids == [str(jail.NOBODY)] * 4
    assert all(namespaces.values()), namespaces


def _settle(probe, seconds: float = 3.0):
    """`probe()` once it is falsy, or its last value after `seconds` (processes take a moment to be reaped)."""
    deadline = time.monotonic() + seconds
    value = probe()
    while value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = probe()
    return value


PRETRAINED_READER = '''
from tinytorch.models import model_card, pretrained


def load(event):
    card = model_card("mnist_mlp")  # the architecture stays readable
    try:
        pretrained(event)
        found = "LOADED " + event
    except Exception as err:
        found = type(err).__name__
    raise RuntimeError(f"card {card['model']}; weights: {found}")
'''


@pytest.mark.parametrize("name", ["mnist_mlp", "mnist_cnn", "shakespeare_gpt"])
def test_pretrained_weights_in_the_package_are_not_in_the_jail(tmp_path: Path, name: str) -> None:
    """A training entry could yield tinytorch's pretrained MLP at its first next(), and an inference entry could use
    pretrained weights without shipping (and so without counting) them: the jail shows the model cards only."""
    (tmp_path / "model.py").write_text(PRETRAINED_READER)
    with Worker(tmp_path, label="candidate", isolation="jail") as worker:
        worker.request("import", timeout=60)
        with pytest.raises(WorkerError) as info:
            worker.request("load", event=name, timeout=60)
    assert "card MLP; weights: FileNotFoundError" in str(info.value)
    assert (REPO / "tinytorch" / "models" / "weights" / f"{name}.npz").is_file()  # they are there outside
