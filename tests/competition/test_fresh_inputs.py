"""Timed work is work a deployed model would do: on inputs it has never seen (issue 16; competition/measure/audit.py,
draws.py, verify.distinct_outputs).

Caches run from inside the jail against the honest entrant of test_protocol_attacks on full (not --quick) runs,
scaled down in rounds (budget_scale): a cache keyed on the image rounded back to the 8-bit grid (cheat_cache_rounded,
66-110x "faster" before) and a nearest-neighbour cache with jittered outputs (cheat_cache_nearest). Each either gains
nothing or is disqualified, read from the result alone. An exact cache (cheat_memo_image) is run by
test_protocol_attacks.py; outputs that repeat (a constant) here on a quick run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from competition.measure import audit, verify
from competition.results import validate_result
from competition.run import run_event
from tests.competition.test_protocol_attacks import entrant, measured, small, templates  # noqa: F401 - fixtures

FULL_SCALE = 0.2  # a full protocol (respawns, 3 passes a round, 100 latency samples) with a fifth of its rounds
# Random-feature passes per predict: the baseline's audit half then lasts over audit.MIN_AUDIT_S even on a quiet
# machine, as the real CNN's does (every stored CNN result has time_checked true). At 12 a quiet machine ran it in
# under MIN_AUDIT_S, so its time went unjudged (a nearest-neighbour cache's 3.1x and 2.8x in one run).
HEAVY_WORK = 48


def heavy(folder: Path) -> Path:
    """The entrant with the honest model doing HEAVY_WORK passes (a cache then has as much to gain as on the CNN,
    and the audit's halves last long enough to time)."""
    honest = folder / "honest.py"
    honest.write_text(honest.read_text().replace("WORK = 2 ", f"WORK = {HEAVY_WORK} "))
    assert f"WORK = {HEAVY_WORK} " in honest.read_text()
    return folder


def full_run(event: str, candidate: Path, baseline: Path) -> dict:
    """A full run of `candidate` against `baseline`, both made heavy."""
    result = run_event(event, heavy(candidate), heavy(baseline), quick=False, budget_scale=FULL_SCALE)
    validate_result(result)
    assert result["config"]["quick"] is False
    return result


def test_the_audit_pool_is_secret_disjoint_and_its_size_recorded() -> None:
    small = audit.split_pool(1000, 1000, np.random.default_rng(1))
    assert small.audit.size == small.timed.size == 500
    assert np.intersect1d(small.audit, small.timed).size == 0 and np.union1d(small.audit, small.timed).size == 1000
    assert not np.array_equal(small.audit, audit.split_pool(1000, 1000, np.random.default_rng(2)).audit)
    record = small.record()
    assert record["complete"] is False and "too few for a full audit" in record["limit"]
    full = audit.split_pool(10_000, 1000, np.random.default_rng(1))
    assert (full.audit.size, full.timed.size) == (1000, 9000)
    assert full.record() == {"timed_pool": 9000, "audit_pool": 1000, "complete": True, "limit": None}


def test_outputs_that_repeat_for_different_inputs_are_disqualified() -> None:
    honest = np.random.default_rng(0).standard_normal((1000, 10))
    assert verify.distinct_outputs(verify.row_keys(honest), "c") == 0.0
    cached = np.concatenate([honest[:400], honest[:400], honest[:200]])  # 60 % repeats of an earlier row
    with pytest.raises(verify.Disqualified, match="repeat, bit for bit"):
        verify.distinct_outputs(verify.row_keys(cached), "c")
    with pytest.raises(verify.Disqualified, match="constant output"):
        verify.distinct_outputs(verify.row_keys(np.ones((1000, 10))), "c")
    assert verify.row_keys(honest[:1] + 1e-12)[0] != verify.row_keys(honest[:1])[0]  # one changed bit is new


def test_distinct_float32_rows_never_count_as_repeats() -> None:
    """float32 scores widened to float64 end in 29 zero bits: a multiply-add hash of those bits kept ~35 bits and
    confused two of these 300 000 rows (and two honest rows in 18 500 on two CI runs); the keys are the bytes."""
    rows = np.random.default_rng(1).standard_normal((300_000, 10)).astype(np.float32)
    assert verify.distinct_outputs(verify.row_keys(rows), "c") == 0.0


def judged(candidate_audit_s: float, audit_correct: int, baseline_audit_s: float = 1.0) -> tuple[dict, dict]:
    """audit.judge of six timed rounds where the candidate is 2x faster than the baseline (two passes over a timed
    pool of 100 images, all correct) and an audit of 100 more images, where the candidate takes `candidate_audit_s`
    against the baseline's `baseline_audit_s` (per half) and gets `audit_correct` right."""
    labels = np.arange(200) % 10
    pools = audit.Pools(timed=np.arange(100), audit=np.arange(100, 200), n_inferences=100)
    ledger = audit.Ledger(labels)
    rng = np.random.default_rng(0)
    for label in ("candidate", "baseline"):
        for _ in range(2):
            ledger.add(label, pools.timed, np.eye(10)[labels[pools.timed]] + rng.random((100, 10)) * 0.1)
    scores = np.eye(10)[labels[pools.audit]] + rng.random((100, 10)) * 0.1
    wrong = scores.copy()
    wrong[audit_correct:] = np.roll(wrong[audit_correct:], 1, axis=1)
    halves = {"candidate": [candidate_audit_s] * 2, "baseline": [baseline_audit_s] * 2,
              "baseline_aa": [baseline_audit_s] * 2}
    fresh = audit.Audit(pools.audit, halves,
                        {"candidate": wrong, "baseline": scores, "baseline_aa": scores})
    values = {"candidate": [0.5] * 6, "baseline": [1.0] * 6, "baseline_aa": [1.0] * 6}
    return audit.judge(fresh, values, ledger, pools)


def test_faster_or_more_accurate_on_seen_inputs_is_disqualified() -> None:
    accuracy, record = judged(0.55, 100)  # 2x faster when timed, 1.8x on fresh inputs
    assert accuracy == {"candidate": 1.0, "baseline": 1.0} and np.allclose(record["ratios"], [1.1, 1.1])
    assert record["aa_ratios"] == [1.0, 1.0] and record["repeated_outputs"] == 0.0 and record["time_checked"]
    with pytest.raises(verify.Disqualified, match="faster on inputs it had seen before: caching is not allowed"):
        judged(1.0, 100)  # 2x when timed, 1x on fresh inputs
    with pytest.raises(verify.Disqualified, match="more accurate on inputs it had seen before"):
        judged(0.5, 85)  # 100 % on the timed pool, 85 % on fresh inputs
    accuracy, _ = judged(0.5, 96)  # a 4-point gap is sampling noise here
    assert accuracy["candidate"] == pytest.approx(0.98)  # the whole test set: timed pool and audit pool
    _, record = judged(0.01, 100, baseline_audit_s=0.01)  # 2x on the clock, 1x on an audit too short to time
    assert record["time_checked"] is False and record["ratios"] == [2.0, 2.0]


@pytest.mark.slow
def test_an_honest_entry_passes_the_audit_on_a_full_run(tmp_path: Path, templates: Path) -> None:
    result = full_run("cnn_marathon_offline", entrant(tmp_path, templates, "honest"),
                      entrant(tmp_path / "twin", templates, "honest"))
    assert result["status"] == "ok", result["errors"]
    fresh = result["event"]["dataset"]["fresh_inputs"]
    assert fresh["audit_pool"] == fresh["timed_pool"] == 500 and fresh["complete"] is False  # the bundled subset
    assert "too few for a full audit" in fresh["limit"]
    assert min(fresh["ratios"]) <= fresh["tolerance"] and min(fresh["aa_ratios"]) <= fresh["tolerance"]
    assert fresh["repeated_outputs"] == 0.0 and fresh["time_checked"] is True
    assert abs(fresh["accuracy_timed"] - fresh["accuracy_audit"]) < 0.1
    assert result["candidate"]["accuracy"] == result["baseline"]["accuracy"] > 0.6


@pytest.mark.slow
def test_a_cache_on_pixels_rounded_to_the_grey_levels_gains_nothing(tmp_path: Path, templates: Path) -> None:
    result = full_run("cnn_marathon_offline", entrant(tmp_path, templates, "cheat_cache_rounded"),
                      entrant(tmp_path, templates, "honest"))
    assert result["status"] == "ok", result["errors"]
    assert result["candidate"]["accuracy"] == result["baseline"]["accuracy"]
    # every sight of an image is shifted and noised by more than a grey level: the rounded key is new almost every
    # time, so the cache does the honest work plus its own (before: a 66-110x "speedup" on cnn_marathon_offline);
    # a chance hit would be possible, a useful hit rate is not
    assert result["scores"]["speedup"]["value"] < 1.25
    assert result["event"]["dataset"]["fresh_inputs"]["repeated_outputs"] < 0.001


@pytest.mark.slow
def test_a_nearest_neighbour_cache_is_disqualified_by_the_audit(tmp_path: Path, templates: Path) -> None:
    result = full_run("cnn_marathon_offline", entrant(tmp_path, templates, "cheat_cache_nearest"),
                      entrant(tmp_path, templates, "honest"))
    assert result["status"] == "disqualified" and result["candidate"] is None
    assert result["errors"][-1]["stage"] == "verify"
    message = result["errors"][-1]["message"]
    assert "faster on inputs it had seen before: caching is not allowed" in message
    assert result["scores"]["qualified"] is False


@pytest.mark.slow
def test_a_constant_output_is_disqualified(tmp_path: Path, templates: Path, small: None) -> None:
    folder = entrant(tmp_path, templates, "honest")
    (folder / "model.py").write_text("import numpy as np\nfrom honest import load  # noqa: F401\n\n\n"
                                     "def predict(model, inputs):\n    return np.tile(np.arange(10.0), (len(inputs), 1))\n")
    result = measured("cnn_marathon_offline", folder, entrant(tmp_path / "twin", templates, "honest"))
    assert result["status"] == "disqualified" and "constant output" in result["errors"][-1]["message"]
