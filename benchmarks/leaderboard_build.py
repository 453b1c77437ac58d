"""`tito leaderboard build` at 500, 5 000 and 10 000 stored results: cold (every file checked), warm (check index
hit), and the site's size. Prints the ratios against the 500-result build, measured in one run.

    python benchmarks/leaderboard_build.py            # 500, 5 000, 10 000
    python benchmarks/leaderboard_build.py --sizes 200 2000

TEST DATA: the results are built by tests/leaderboard/factory.py (scored by competition.scoring like the harness
does) from a few hundred distinct measurement sets, each copied under many submission names; every file therefore has
its own content and SHA-256, and a cold build checks each one. The store has the shape of a season with
re-benchmarks: n / 10 submissions, each in three events, each event run about 3.3 times (the latest is current).
"""

from __future__ import annotations

import argparse
import copy
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


def timed_build(folder: Path, store: Path, index: Path) -> tuple[float, int]:
    out = folder / f"out-{time.perf_counter_ns()}"
    start = time.perf_counter()
    build(store, out / "LEADERBOARD.md", out / "site", folder / "awards.yaml", config_file(folder), None, None,
          False, index)
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in (out / "site").rglob("*") if p.is_file())
    return seconds, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000, 10000])
    args = parser.parse_args()
    base = templates()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / str(n)
            store = folder / "store"
            fill_store(store, n, base)
            cold, size = timed_build(folder, store, folder / "index.json")
            warm, _ = timed_build(folder, store, folder / "index.json")
            rows.append((n, cold, warm, size))
            print(f"{n:>6} results: cold {cold:6.2f} s, warm {warm:6.2f} s, site {size / 1e6:6.2f} MB", flush=True)
    n0, cold0, warm0, _ = rows[0]
    for n, cold, warm, _ in rows[1:]:
        print(f"{n} vs {n0}: {n / n0:.0f}x the results, cold {cold / cold0:.1f}x, warm {warm / warm0:.1f}x the time")


if __name__ == "__main__":
    main()
