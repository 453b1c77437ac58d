"""Process luck: do two identical workers run at the same speed for their whole life? With and without huge pages.

Pairs of fresh, identical processes (the baseline CNN's 1 000-image inference, one BLAS thread, on the harness's
worker CPU) alternate passes; each pair gives the mean log-ratio of its passes. If processes are interchangeable,
the pair means scatter only by their own measurement error (the within-pair standard error); a spread well above
that is luck a process keeps for life. Printed side by side, measured in one run:

  - huge pages as NumPy asks for them (madvise for every array of 4 MiB or more; the kernel grants them when it can)
  - transparent huge pages off for the process (prctl PR_SET_THP_DISABLE, what the harness does for every worker)
  - huge pages off and glibc keeping the memory a process frees (KEEP_FREED_MEMORY; not what the harness does: a
    pass then reuses the same physical pages for the worker's life instead of fresh ones, see page_faults.py)

    python benchmarks/process_luck.py [--pairs 8] [--passes 12]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys

from competition.sandbox.limits import pin_to_worker_cpu, place_worker, worker_cpu

WORKER = r'''
import sys, time
import numpy as np
from threadpoolctl import threadpool_limits
threadpool_limits(1)
import tinytorch as tt
from tinytorch.models import pretrained
model = pretrained("mnist_cnn").eval()
images = np.random.default_rng(0).random((1000, 1, 28, 28), dtype=np.float32)
def once(count):
    with tt.no_grad():
        for i in range(0, count, 100):
            model(tt.from_numpy(images[i:i + 100]))
once(1000)
print("ready", flush=True)
for line in sys.stdin:
    start = time.perf_counter(); once(int(line)); print(time.perf_counter() - start, flush=True)
'''


# glibc's thresholds that keep freed memory in the process instead of handing large blocks back to the kernel
KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 32)}
SETTINGS = {"on": ("on", None), "off (harness)": ("off", None), "off, kept": ("off", KEEP_FREED_MEMORY)}


class Worker:
    """One persistent process timing a pass of the CNN over the number of images (a multiple of 100) in each line."""

    def __init__(self, huge_pages: str, env: dict[str, str] | None = None) -> None:
        """huge_pages "off": placed as the harness places its workers (limits.place_worker); "on": pinned only.
        `env`: variables added to the worker's environment."""
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1", **(env or {})),
                                     preexec_fn=place_worker if huge_pages == "off" else pin_to_worker_cpu)
        assert self.proc.stdout.readline().strip() == "ready"

    def time_pass(self, images: int = 1000) -> float:
        self.proc.stdin.write(f"{images}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def minor_faults(self) -> int:
        """Page faults the worker has taken so far that needed no disk (fresh zeroed pages), from /proc."""
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[7])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def pair_log_ratio(setting: str, passes: int) -> tuple[float, float, float]:
    """(mean log-ratio, its standard error, median pass seconds) of one fresh pair, passes in ABBA order."""
    a, b = Worker(*SETTINGS[setting]), Worker(*SETTINGS[setting])
    try:
        times_a, times_b = [], []
        for i in range(passes):
            first, second = (a, b) if i % 2 == 0 else (b, a)
            t_first, t_second = first.time_pass(), second.time_pass()
            times_a.append(t_first if first is a else t_second)
            times_b.append(t_second if first is a else t_first)
    finally:
        a.close()
        b.close()
    logs = [math.log(x / y) for x, y in zip(times_a, times_b)]
    return statistics.mean(logs), statistics.stdev(logs) / math.sqrt(passes), statistics.median(times_a + times_b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--passes", type=int, default=12)
    args = parser.parse_args()
    print(f"{args.pairs} pairs x {args.passes} passes each, CPU {worker_cpu()}, load average {os.getloadavg()[0]:.2f}")
    results = {name: [] for name in SETTINGS}
    for _ in range(args.pairs):  # the settings interleaved, so machine drift hits them alike
        for name in results:
            results[name].append(pair_log_ratio(name, args.passes))
    print(f"{'huge pages':<14} {'pair means (%)':<60} {'between sd':>10} {'within SE':>9} {'pass ms':>8}")
    for name, rows in results.items():
        means = [m for m, _, _ in rows]
        print(f"{name:<14} {' '.join(f'{100 * m:+.1f}' for m in means):<60} {100 * statistics.stdev(means):>9.2f}% "
              f"{100 * statistics.mean(se for _, se, _ in rows):>8.2f}% {1e3 * statistics.median(t for *_, t in rows):>8.0f}")
    print("Luck a process keeps for life shows as a between-pair sd well above the within-pair SE.")


if __name__ == "__main__":
    main()
