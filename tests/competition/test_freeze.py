"""Idle means frozen: attacks from inside the jail on the freeze between turns, each checked from outside.

The attacker (tests/fixtures/submissions/redteam_zombie_leader_spinner) starts at load() a helper process whose
leader thread exits (state Z) while its other thread spins, and a forked child that spins; both spin whenever the
worker is not inside predict. Before, Worker.pause skipped processes in state Z and the helper's thread took the
shared worker CPU from the baseline: 2.45x to 3.77x "faster". Each test runs under every freeze mechanism this
machine offers: cgroup v2 `cgroup.freeze`, the cgroup v1 freezer, and SIGSTOP task by task where there is no cgroup.
CPU is read here independently of the harness's meters: the schedstat run time of every task of the jail.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from competition.measure import contender as contender_module
from competition.measure.contender import OFF_TURN_ALLOWANCE_S, Contender
from competition.measure.verify import Disqualified
from competition.sandbox import cgroup, freezer, jail
from competition.sandbox.freezer import FreezeGroup, TaskStopper
from competition.sandbox.limits import Limits
from competition.sandbox.process import descendant_pids
from tests.competition.test_protocol_attacks import entrant, measured, small, templates  # noqa: F401
from tests.competition.test_redteam import past_static_check

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not jail.status().available, reason=f"no OS jail here: {jail.status().reason}")]
SPINNER = "redteam_zombie_leader_spinner"


def _offers(kind: str) -> bool:
    group = FreezeGroup.create("probe", None)
    if group is None:
        return False
    group.close()
    if kind == "v2":
        return group.kind == "v2"
    return all((cgroup.ROOT / c).is_dir() for c in ("freezer", "cpuacct"))


MECHANISMS = [
    pytest.param("v2", marks=pytest.mark.skipif(not _offers("v2"), reason="no cgroup v2 freezer can be made here")),
    pytest.param("v1", marks=pytest.mark.skipif(not _offers("v1"), reason="no cgroup v1 freezer here")),
    "sigstop",
]


@pytest.fixture(params=MECHANISMS)
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force one freeze mechanism for the workers this test starts."""
    if request.param == "v1":
        monkeypatch.setattr(freezer, "_v2_bases", lambda: [])
        if cgroup.version() == "v2":
            pytest.skip("the workers' memory cgroup is v2 here: their freezer is that group's")
    elif request.param == "sigstop":
        monkeypatch.setattr(FreezeGroup, "create", classmethod(lambda cls, label, group: None))
    return request.param


def jail_tasks(contender: Contender) -> list[tuple[int, int]]:
    """(pid, tid) of every task of every process in the contender's jail."""
    pids = descendant_pids(contender.worker._ns_init)
    return [(pid, int(tid.name)) for pid in pids for tid in Path(f"/proc/{pid}/task").glob("*")]


def cpu_ms(contender: Contender) -> float:
    """Run time of every task of the jail in milliseconds (schedstat), read here."""
    total = 0
    for pid, tid in jail_tasks(contender):
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except OSError:
            continue
    return total / 1e6


def state(pid: int, tid: int) -> str:
    return Path(f"/proc/{pid}/task/{tid}/stat").read_text().rpartition(")")[2].split()[0]


def spinner(tmp_path: Path, templates: Path) -> Contender:
    """The attacker, started and loaded: its helper (zombie leader + spinning thread) and forked child are up."""
    return Contender("candidate", entrant(tmp_path, templates, SPINNER), Limits(), blas_threads=1).start(
        "cnn_marathon_offline", load=True)


def test_a_zombie_leaders_thread_and_a_forked_child_get_no_cpu_while_frozen(tmp_path: Path, templates: Path,
                                                                            mechanism: str) -> None:
    contender = spinner(tmp_path, templates)
    try:
        method = contender.worker.sandbox_record()["method"]
        assert "idle: " + {"v2": "cgroup v2 freeze", "v1": "cgroup v1 freezer", "sigstop": "SIGSTOP per task"}[mechanism] in method
        tasks = jail_tasks(contender)
        zombies = [pid for pid, tid in tasks if pid == tid and state(pid, tid) == "Z"]
        assert zombies and any(pid in zombies and tid != pid for pid, tid in tasks)  # a Z leader with a live thread
        assert len({pid for pid, _ in tasks}) >= 3  # worker, helper, forked child
        with contender.awake():  # the attack is live: awake, the two spinners take the worker's CPU
            before = cpu_ms(contender)
            time.sleep(0.3)
            assert cpu_ms(contender) - before > 20  # (on a loaded machine: 60 of 300 ms seen)
        assert all(state(pid, tid) != "R" for pid, tid in jail_tasks(contender))
        before = cpu_ms(contender)
        time.sleep(0.5)  # another contender's turn
        assert cpu_ms(contender) - before < 2
        assert contender.request("noop", shapes=[[1, 10]])[1][0].shape == (1, 10)
    finally:
        contender.close()
    assert not any(Path(f"/proc/{pid}").exists() and state(pid, tid) != "Z" for pid, tid in tasks)


def test_cpu_used_while_frozen_disqualifies(tmp_path: Path, templates: Path, mechanism: str) -> None:
    """A task that escapes the freeze (simulated from outside: the group is thawed behind the harness's back) is
    caught by the CPU counter when the contender's next turn begins."""
    contender = spinner(tmp_path, templates)
    try:
        contender.worker._freezer.thaw()
        time.sleep(0.2)
        with pytest.raises(Disqualified, match=r"candidate: its tasks used [\d.]+ ms of CPU while it was frozen"):
            contender.request("noop", shapes=[[1, 10]])
    finally:
        contender.close()


@pytest.fixture()
def slow_freeze(monkeypatch: pytest.MonkeyPatch) -> float:
    """Every freeze starts 20 ms late: what a thread that keeps running after the reply gets on a slow machine."""
    delay = 0.02
    for cls in (FreezeGroup, TaskStopper):
        original = cls.freeze

        def late(self, pids, original=original) -> None:
            time.sleep(delay)
            original(self, pids)
        monkeypatch.setattr(cls, "freeze", late)
    return delay


def test_cpu_after_the_reply_is_charged_then_disqualifies(tmp_path: Path, templates: Path, mechanism: str,
                                                          slow_freeze: float, monkeypatch: pytest.MonkeyPatch) -> None:
    contender = spinner(tmp_path, templates)
    try:
        # no limit while the charge is read: under load the spinners' CPU around load() and this request (charged
        # too) may pass the limit at once (51 ms seen at load 2.5)
        limit = contender_module.OFF_TURN_LIMIT_S
        monkeypatch.setattr(contender_module, "OFF_TURN_LIMIT_S", math.inf)
        before = contender.off_turn_s
        seconds, _ = contender.clocked_request("noop", shapes=[[1, 10]])
        charged = contender.off_turn_s - before
        assert charged > 0.1 * slow_freeze  # the spinners' CPU between the reply and the freeze...
        assert seconds > charged  # ...is on the request's bill
        monkeypatch.setattr(contender_module, "OFF_TURN_LIMIT_S", limit)  # (undo() would end the slow freeze too)
        with pytest.raises(Disqualified, match=r"candidate: its tasks used \d+ ms of CPU outside its turns"):
            for _ in range(50):
                contender.request("noop", shapes=[[1, 10]])
    finally:
        contender.close()


def test_an_idle_honest_worker_is_charged_nothing(tmp_path: Path, templates: Path, mechanism: str,
                                                  slow_freeze: float) -> None:
    honest = Contender("baseline", entrant(tmp_path, templates, "honest"), Limits(), blas_threads=1).start(
        "cnn_marathon_offline", load=True)
    try:
        for _ in range(20):
            with honest.awake() as turn:
                honest.request("noop", shapes=[[1, 10]])
            assert turn.off_turn_s < OFF_TURN_ALLOWANCE_S
        assert honest.off_turn_s == 0.0
    finally:
        honest.close()


@pytest.mark.parametrize("fallback", [False, True], ids=["cgroup", "sigstop"])
def test_spinning_helpers_gain_nothing_on_a_full_run(tmp_path: Path, templates: Path, small: None,
                                                     monkeypatch: pytest.MonkeyPatch, fallback: bool) -> None:
    if fallback:
        monkeypatch.setattr(FreezeGroup, "create", classmethod(lambda cls, label, group: None))
    elif FreezeGroup.create("probe", None) is None:
        pytest.skip("no freezer cgroup can be made here")
    attacker = past_static_check(entrant(tmp_path, templates, SPINNER), monkeypatch, "memmap")
    result = measured("cnn_marathon_offline", attacker, entrant(tmp_path, templates, "honest"))
    if result["status"] == "disqualified":  # its spinners burned CPU until each freeze reached them
        assert "CPU outside its turns" in result["errors"][-1]["message"]
        assert result["scores"]["qualified"] is False
    else:  # frozen in time: what they burned between reply and freeze is on its own bill
        assert result["status"] == "ok", result["errors"]
        assert result["candidate"]["accuracy"] == result["baseline"]["accuracy"]
        assert result["scores"]["speedup"]["value"] < 1.1, result["scores"]["speedup"]
    honest = measured("cnn_marathon_offline", entrant(tmp_path / "a", templates, "honest"),
                      entrant(tmp_path / "b", templates, "honest"))
    assert honest["status"] == "ok", honest["errors"]  # the same freezing and charging leave an honest entry be


@pytest.mark.skipif(not _offers("v1"), reason="no cgroup v1 freezer here")
def test_a_frozen_group_left_by_a_dead_parent_is_thawed_and_its_tasks_die(tmp_path: Path) -> None:
    """A v1-frozen task does not die of SIGKILL (what --die-with-parent sends) until thawed: the next worker's
    cleanup of orphan groups thaws them, so nothing stays frozen for ever."""
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    base = cgroup.ROOT / "freezer" / cgroup.own_path("freezer").lstrip("/")
    group = base / f"{cgroup.PREFIX}orphan-freeze-{dead.pid}-0123456789ab"
    group.mkdir()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        cgroup.write(group / "cgroup.procs", sleeper.pid)
        cgroup.write(group / "freezer.state", "FROZEN")
        while (group / "freezer.state").read_text().strip() != "FROZEN":
            time.sleep(0.01)
        sleeper.kill()
        with pytest.raises(subprocess.TimeoutExpired):
            sleeper.wait(timeout=0.3)  # frozen: the SIGKILL waits
        cgroup.remove_orphans(base)
        assert sleeper.wait(timeout=5) == -9
        for _ in range(50):
            cgroup.remove_orphans(base)
            if not group.exists():
                break
            time.sleep(0.05)
        assert not group.exists()
    finally:
        cgroup.write_optional(group / "freezer.state", "THAWED")
        sleeper.kill()
        if group.exists():
            group.rmdir()
