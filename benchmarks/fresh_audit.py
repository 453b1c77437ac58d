"""The honest spread of the fresh-input audit's ratio (competition/measure/audit.py): how far an entry that caches
nothing strays from 1, so that audit.TIME_TOLERANCE is never tripped by an honest entry.

One real run of the harness (run_event, jailed workers, a full protocol scaled by --budget) per pair below; its audit
pass is repeated --audits times on the same audit pool, each with a fresh order and perturbation (an honest model
cannot tell seen images from unseen ones, so every repeat is a sample of what the audit would measure). Each
repeat's ratio is the run's timed speedup over the speedup on that audit pass, for the candidate and for the A/A
twin, per half and the smaller of the two (what the verdict uses): median, 5th/95th percentile and extremes.
Noisy on a shared machine, by design: the tolerance must hold there too. Never a test.

    python benchmarks/fresh_audit.py [--audits 20] [--budget 0.5] [--pairs baseline:baseline,int8-cnn:baseline]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from competition.measure import audit
from competition.run import run_event

ROOT = Path(__file__).resolve().parents[1]


def spread(event: str, candidate: Path, baseline: Path, audits: int, budget: float) -> dict[str, list[float]]:
    """[ratio of each half] of `audits` repeated audit passes in one run of `event`, for the candidate and the
    A/A twin."""
    passes: list[audit.Audit] = []
    captured: dict = {}
    real_pass, real_judge = audit.audit_pass, audit.judge

    def many_passes(*args, **kwargs):
        passes.extend(real_pass(*args, **kwargs) for _ in range(audits))
        return passes[0]

    def judge(fresh, values, ledger, pools):
        captured["values"] = values
        return real_judge(fresh, values, ledger, pools)

    audit.audit_pass, audit.judge = many_passes, judge
    try:
        result = run_event(event, candidate, baseline, budget_scale=budget)
    finally:
        audit.audit_pass, audit.judge = real_pass, real_judge
    if "values" not in captured:
        raise SystemExit(f"the run did not reach the audit: {result['status']} {result['errors'][-1:]}")
    return {label: [audit.ratios_of_ratios(captured["values"], p.seconds, label) for p in passes]
            for label in ("candidate", "baseline_aa")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audits", type=int, default=20)
    parser.add_argument("--budget", type=float, default=0.5)
    parser.add_argument("--event", default="cnn_marathon_offline")
    parser.add_argument("--pairs", default="baseline:baseline,int8-cnn:baseline")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.event}; {args.audits} audit passes per run; "
          f"tolerance {audit.TIME_TOLERANCE}")
    print(f"{'candidate vs baseline':<34} {'who':<12} {'of':<6} {'median':>7} {'p5':>6} {'p95':>6} {'min':>6} "
          f"{'max':>6}")
    for pair in args.pairs.split(","):
        cand, base = (Path(p) if "/" in p else ROOT / "submissions" / p for p in pair.split(":"))
        for who, ratios in spread(args.event, cand, base, args.audits, args.budget).items():
            for of, r in (("halves", np.ravel(ratios)), ("min", np.min(ratios, axis=1))):
                print(f"{cand.name + ' vs ' + base.name:<34} {who:<12} {of:<6} {np.median(r):>7.3f} "
                      f"{np.percentile(r, 5):>6.3f} {np.percentile(r, 95):>6.3f} {r.min():>6.3f} {r.max():>6.3f}")


if __name__ == "__main__":
    main()
