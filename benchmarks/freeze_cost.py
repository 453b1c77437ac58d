"""What freezing an idle worker between its requests costs, per mechanism, side by side in one run.

The harness cuts every pass into ~50 ms requests and freezes each contender between them (competition/sandbox/
freezer.py), outside the clock. One jailed worker per mechanism, all idle (blocked on their pipe) between turns;
the mechanisms take their turns interleaved in a new random order each round. A turn's overhead is its wall time
(thaw, CPU readings, request, freeze and its every-task check, CPU reading) minus the request's own time:

- cgroup v2 freeze    cgroup.freeze + cgroup.events, CPU from cpu.stat (the unified hierarchy where it exists)
- cgroup v1 freezer   freezer.state, CPU from cpuacct.usage
- SIGSTOP per task    no cgroup: SIGSTOP until every /proc/<pid>/task/* is stopped, CPU from every task's schedstat
- old SIGSTOP         what pause did before: SIGSTOP per process whose leader is not stopped or a zombie, no CPU
                      reading (it let a zombie leader's threads run)

It also prints the CPU an idle worker's tasks use around a request (while thawed and frozen), which the harness
does not charge up to contender.OFF_TURN_ALLOWANCE_S. Never a test.

    python benchmarks/freeze_cost.py [--rounds 20 --turns 10]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from competition.measure.contender import OFF_TURN_ALLOWANCE_S
from competition.sandbox import freezer
from competition.sandbox.freezer import FreezeGroup, TaskStopper
from competition.sandbox.process import Worker, process_state

MODEL = "import numpy as np\n\n\ndef predict(model, inputs):\n    return np.zeros((len(inputs), 10), np.float32)\n"


class OldStopper(TaskStopper):
    """Worker.pause before issue 16: SIGSTOP each process whose leader is not stopped or a zombie."""

    def freeze(self, pids) -> None:
        while running := [p for p in pids() if process_state(p) not in ("T", "t", "Z", "X", "")]:
            for pid in running:
                os.kill(pid, signal.SIGSTOP)
                self._stopped.add(pid)
            time.sleep(0)

    def cpu_ns(self) -> int:
        return 0


def start(mechanism: str, folder: Path) -> Worker:
    with ExitStack() as patches:
        if mechanism == "cgroup v1 freezer":
            patches.enter_context(mock.patch.object(freezer, "_v2_bases", lambda: []))
        elif mechanism in ("SIGSTOP per task", "old SIGSTOP"):
            patches.enter_context(mock.patch.object(FreezeGroup, "create", classmethod(lambda *args: None)))
        worker = Worker(folder, label="freeze-cost", isolation="jail").start()
    if mechanism == "old SIGSTOP":
        worker._freezer = OldStopper(worker._worker_pids)
    expected = {"cgroup v2 freeze": "cgroup v2 freeze", "cgroup v1 freezer": "cgroup v1 freezer"}.get(
        mechanism, "SIGSTOP per task")
    if f"idle: {expected}" not in worker.sandbox_record()["method"]:
        worker.close()
        raise RuntimeError(f"{mechanism} is not available here")
    worker.request("import")
    worker.pause()
    return worker


def turn(worker: Worker) -> tuple[float, int]:
    """(overhead seconds of one turn beyond its request, CPU ns its tasks used outside the request)."""
    began = time.perf_counter()
    with worker.turn() as record:
        t0 = time.perf_counter()
        worker.request("noop", shapes=[[1, 10]])
        request = time.perf_counter() - t0
    return time.perf_counter() - began - request, record.off_turn_ns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="freeze-cost-"))
    (folder / "model.py").write_text(MODEL)
    workers: dict[str, Worker] = {}
    for mechanism in ("cgroup v2 freeze", "cgroup v1 freezer", "SIGSTOP per task", "old SIGSTOP"):
        try:
            workers[mechanism] = start(mechanism, folder)
        except RuntimeError as err:
            print(f"skipped: {err}")
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds x {args.turns} turns per mechanism, "
          f"interleaved in random order")
    overhead: dict[str, list[float]] = {name: [] for name in workers}
    off_turn: dict[str, list[int]] = {name: [] for name in workers}
    try:
        for _ in range(args.rounds):
            for name in random.sample(list(workers), len(workers)):
                for _ in range(args.turns):
                    seconds, cpu = turn(workers[name])
                    overhead[name].append(seconds)
                    off_turn[name].append(cpu)
    finally:
        for worker in workers.values():
            worker.close()
    old = statistics.median(overhead["old SIGSTOP"]) if "old SIGSTOP" in overhead else None
    print(f"{'mechanism':<20} {'median us':>9} {'p90 us':>7} {'/ old':>6} {'% of 50 ms':>10} "
          f"{'idle CPU us (med/max)':>22}")
    for name, times in overhead.items():
        median, p90 = statistics.median(times), statistics.quantiles(times, n=10)[-1]
        ratio = f"{median / old:.2f}" if old else "-"
        cpu = f"{statistics.median(off_turn[name]) / 1e3:.0f} / {max(off_turn[name]) / 1e3:.0f}"
        print(f"{name:<20} {1e6 * median:>9.0f} {1e6 * p90:>7.0f} {ratio:>6} {100 * median / 0.05:>9.2f}% "
              f"{cpu if name != 'old SIGSTOP' else '-':>22}")
    print(f"allowance per turn (not charged): {OFF_TURN_ALLOWANCE_S * 1e6:.0f} us")


if __name__ == "__main__":
    main()
