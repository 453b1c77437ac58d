"""`tito leaderboard build` at 500, 5 000 and 10 000 stored results: cold (every file checked: a new, empty check
index, as on a fresh clone or CI machine), warm (check index hit), and the site's size. Each build runs --repeat
times and the fastest counts (the machine is shared: the minimum is the least disturbed run). Prints the ratios
against the first size, measured in one run, the targets (issue 11), and the load average (2-core machine). The
CPU seconds (this process and the check workers) do not depend on what else runs on the machine: wall time of an
idle machine is about the warm CPU time plus the rest of the cold CPU time divided by the cores.

    python benchmarks/leaderboard_build.py            # 500, 5 000, 10 000
    python benchmarks/leaderboard_build.py --sizes 200 2000 --repeat 1

TEST DATA: the results are built by tests/leaderboard/factory.py (scored by competition.scoring like the harness
does) from a few hundred distinct measurement sets, each copied under many submission names; every file therefore has
its own content and SHA-256, and a cold build checks each one. The store has the shape of a season with
re-benchmarks: n / 10 submissions, each in three events, each event run about 3.3 times (the latest is current).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from competition.leaderboard.build import build  # noqa: E402
from competition.results import dumps  # noqa: E402
from tests.leaderboard.factory import REGISTERED, make_scored_result  # noqa: E402

TEMPLATES = 201  # a multiple of the number of events
EVENTS = (("cnn_marathon", "reference", 0.80), ("cnn_marathon_offline", "local", 0.96),
          ("memory_master_offline", "local", 0.96))


def templates() -> list[dict]:
    """Distinct scored results: speedups, sizes and peak memories spread over the board (some tie the baseline)."""
    made = []
    for i in range(TEMPLATES):
        event_id, runner, accuracy = EVENTS[i % len(EVENTS)]
        made.append(make_scored_result(f"t{i}", event_id=event_id, runner_class=runner, accuracy=accuracy,
                                       speedup=0.9 + (i % 97) * 0.02, model_size=300_000 + (i % 13) * 60_000,
                                       peak_memory=20_000_000 + (i % 17) * 1_500_000,
                                       division="open" if i % 5 == 0 else "closed"))
    return made


def fill_store(store: Path, n: int, base: list[dict]) -> None:
    """n result files: n / 10 submissions x 3 events, the runs beyond the first of each pair being reruns."""
    store.mkdir(parents=True)
    names, events = max(1, n // 10), len(EVENTS)
    for i in range(n):
        sub, event, run = (i // events) % names, i % events, i // (events * names)
        result = copy.deepcopy(base[events * ((sub + 7 * run) % (len(base) // events)) + event])
        name = f"s{sub}"
        moment = datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(days=run, seconds=sub)
        result["submission"]["name"] = name
        result["result_id"] = (f"{name}--{result['event']['id']}--{result['runner']['class']}--"
                               f"{moment:%Y%m%dT%H%M%SZ}")
        result["started_at"] = f"{moment:%Y-%m-%dT%H:%M:%SZ}"
        (store / f"{result['result_id']}.json").write_text(dumps(result), encoding="utf-8")


def config_file(folder: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text("runners:\n" + "".join(f"  - fingerprint: {r.fingerprint}\n    class: {r.runner_class}\n"
                                           f"    name: {r.name}\n" for r in REGISTERED.runners), encoding="utf-8")
    return path


def timed_build(folder: Path, store: Path, index: Path) -> tuple[float, int, float]:
    """(wall seconds, site bytes, CPU seconds of this process and its check workers) of one build."""
    out = folder / f"out-{time.perf_counter_ns()}"
    before, start = os.times(), time.perf_counter()
    build(store, out / "LEADERBOARD.md", out / "site", folder / "awards.yaml", config_file(folder), None, None,
          False, index)
    seconds, after = time.perf_counter() - start, os.times()
    cpu = sum(after[i] - before[i] for i in range(4))  # user + system, self + children
    size = sum(p.stat().st_size for p in (out / "site").rglob("*") if p.is_file())
    return seconds, size, cpu


TARGET_SECONDS, TARGET_SIZE, TARGET_RATIO = 10.0, 20e6, 12.0  # issue 11: 10 000 results, site, 5 000 vs 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=3, help="builds per measurement; the fastest counts")
    args = parser.parse_args()
    base = templates()
    rows = []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / str(n)
            store = folder / "store"
            fill_store(store, n, base)
            colds = [timed_build(folder, store, folder / f"index-{i}.json") for i in range(args.repeat)]
            warms = [timed_build(folder, store, folder / "index-0.json") for _ in range(args.repeat)]
            cold, size, cold_cpu = min(colds)
            warm, _, warm_cpu = min(warms)
            rows.append((n, cold, warm, size))
            print(f"{n:>6} results: cold {cold:6.2f} s, warm {warm:6.2f} s, site {size / 1e6:6.2f} MB "
                  f"(CPU: cold {cold_cpu:.2f} s, warm {warm_cpu:.2f} s)", flush=True)
    n0, cold0, warm0, _ = rows[0]
    for n, cold, warm, size in rows[1:]:
        print(f"{n} vs {n0}: {n / n0:.0f}x the results, cold {cold / cold0:.1f}x, warm {warm / warm0:.1f}x the time")
        if n == 10 * n0:
            print(f"  target: <= {TARGET_RATIO:.0f}x (linear): {'met' if cold / cold0 <= TARGET_RATIO else 'MISSED'}")
        if n == 10000:
            print(f"  target: 10 000 cold <= {TARGET_SECONDS:.0f} s: {'met' if cold <= TARGET_SECONDS else 'MISSED'}; "
                  f"site <= {TARGET_SIZE / 1e6:.0f} MB: {'met' if size <= TARGET_SIZE else 'MISSED'}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
