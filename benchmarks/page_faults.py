"""What the kernel's fresh pages cost a CNN pass: glibc's default allocator against one that keeps freed memory.

NumPy allocates every activation anew; by default glibc hands large freed blocks back to the kernel (munmap, or
trimming the top of the heap), so the next batch's arrays arrive as fresh pages the kernel must fault in and zero,
4 KiB at a time with transparent huge pages off (as the harness runs every worker). Two workers placed like the
harness's alternate 100-image passes, side by side in one run: glibc's defaults (what the harness uses) against
fixed thresholds that keep freed memory in the process (process_luck.KEEP_FREED_MEMORY). The harness pays the faults
on purpose: kept pages stay with a process for life, and so does their luck (process_luck.py, docs/measurement.md).
Never a test.

    python benchmarks/page_faults.py [--passes 60]
"""

from __future__ import annotations

import argparse
import os
import statistics

from process_luck import KEEP_FREED_MEMORY, Worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=60)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.passes} alternating 100-image passes per allocator")
    workers = {"glibc defaults (the harness)": Worker("off"), "freed memory kept": Worker("off", KEEP_FREED_MEMORY)}
    seconds: dict[str, list[float]] = {name: [] for name in workers}
    try:
        faults_before = {name: w.minor_faults() for name, w in workers.items()}
        for i in range(args.passes):
            for name in list(workers)[:: 1 if i % 2 == 0 else -1]:
                seconds[name].append(workers[name].time_pass(100))
        faults = {name: (w.minor_faults() - faults_before[name]) / args.passes for name, w in workers.items()}
    finally:
        for worker in workers.values():
            worker.close()
    base = statistics.median(seconds["glibc defaults (the harness)"])
    print(f"{'allocator':<30} {'median pass ms':>14} {'page faults/pass':>16} {'time / defaults':>15}")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:<30} {1e3 * median:>14.1f} {faults[name]:>16.0f} {median / base:>15.2f}")


if __name__ == "__main__":
    main()
