"""Measurement building blocks: the parent's clock, slot order, secret draws, energy counters, the outside memory
meter, shipped-weight sizes, text metrics."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from competition.datasets import load_event_data, perplexity_windows, prompt_at
from competition.measure import draws, energy, hardware, memory, provenance, text, timing, verify, weights


def test_interleaved_rounds_visit_everyone_each_round_in_varying_order() -> None:
    order: list[str] = []
    measure = {label: (lambda r, label=label: order.append(label) or float(r)) for label in "abc"}
    values = timing.interleaved_rounds(measure, rounds=12, rng=np.random.default_rng(1))
    assert values == {label: [float(r) for r in range(12)] for label in "abc"}
    rounds = [tuple(order[i:i + 3]) for i in range(0, 36, 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds) and len(set(rounds)) > 2
    firsts = [r[0] for r in rounds]
    assert all(firsts.count(label) == 4 for label in "abc")  # 12 rounds = 2 full cycles: each is first 4 times
    assert len(set(rounds)) == 6


def test_passes_of_a_round_are_spread_between_the_others_and_the_fastest_counts() -> None:
    order: list[str] = []
    times = {"a": iter([3.0, 1.0, 2.0, 5.0, 4.0, 6.0]), "b": iter([2.0, math.nan, 7.0, math.nan, math.nan, math.nan])}
    measure = {label: (lambda r, label=label: order.append(label) or next(times[label])) for label in "ab"}
    values = timing.interleaved_rounds(measure, rounds=2, rng=np.random.default_rng(3), passes=3)
    assert values["a"] == [1.0, 4.0] and values["b"][0] == 2.0 and math.isnan(values["b"][1])
    sweeps = [order[i:i + 2] for i in range(0, 12, 2)]
    assert all(sorted(sweep) == ["a", "b"] for sweep in sweeps)  # a, b alternate: never a's three passes in a row
    assert [s[0] for s in sweeps].count("a") == 3  # and each is first in half the sweeps


def test_interleaved_rounds_report_round_r_of_n_after_each_round() -> None:
    heard: list[str] = []
    measure = {label: (lambda r: float(r)) for label in "ab"}
    timing.interleaved_rounds(measure, rounds=3, rng=np.random.default_rng(0), progress=heard.append)
    assert heard == ["round 1/3", "round 2/3", "round 3/3"]


def test_before_round_runs_ahead_of_every_round() -> None:
    events: list[str] = []
    measure = {label: (lambda r, label=label: events.append(f"{label}{r}") or 0.0) for label in "ab"}
    timing.interleaved_rounds(measure, rounds=3, rng=np.random.default_rng(0),
                              before_round=lambda r: events.append(f"fresh{r}"))
    assert [e for e in events if e.startswith("fresh")] == ["fresh0", "fresh1", "fresh2"]
    assert all(events[3 * r] == f"fresh{r}" for r in range(3))


def test_respawner_gives_every_contender_a_fresh_worker_every_k_rounds() -> None:
    from competition.measure.protocols import RunConfig, respawner

    class Fake:
        def __init__(self) -> None:
            self.restarts, self.resets = 0, 0

        def restart(self, event_id: str, load: bool) -> None:
            assert event_id == "cnn_marathon_offline" and load
            self.restarts += 1

        def reset_peak_memory(self) -> None:
            self.resets += 1

    contenders = {label: Fake() for label in ("candidate", "baseline", "baseline_aa")}
    assert respawner(contenders, "cnn_marathon_offline", RunConfig(respawn_every=0)) is None
    respawn = respawner(contenders, "cnn_marathon_offline", RunConfig(respawn_every=2))
    for r in range(7):
        respawn(r)
    assert all(c.restarts == 3 and c.resets == 3 for c in contenders.values())  # before rounds 2, 4 and 6


def test_expected_training_rounds_follow_the_pace_within_the_configured_bounds() -> None:
    from competition.measure.protocols import Sampler
    from competition.measure.training import expected_rounds

    def sampler(elapsed: float) -> Sampler:
        return Sampler(0.02, 1, min_units=3, max_rounds=80, max_budget_s=45.0, started=time.perf_counter() - elapsed)

    assert expected_rounds(1, sampler(4.9)) == 9  # 4.9 s a round: 9 fit in 45 s
    assert expected_rounds(2, sampler(60.0)) == 3  # slower than the budget: the minimum still runs
    assert expected_rounds(5, sampler(0.5)) == 80  # fast rounds stop at the cap
    assert expected_rounds(4, sampler(200.0)) == 4  # never fewer than the rounds already done


def test_slow_placement_is_charged_to_the_round() -> None:
    assert timing.charged(1.0, 0.5, 0.010) == pytest.approx(1.49)  # 0.49 s of work hidden in the store is charged
    assert timing.charged(1.0, 0.009, 0.010) == 1.0  # a quicker store earns nothing


def test_a_round_keeps_each_contenders_fastest_charged_pass_summed_over_its_requests() -> None:
    from competition.measure.protocols import fastest_passes

    # one round of two passes of two requests each; the candidate's slow store (0.5 s against the harness's
    # quickest 0.01 s of the same inputs) is charged to its first pass, the twin's 0.02 s store alike
    requests = {"candidate": [[(0.5, 1.0), (0.01, 1.0), (0.01, 1.5), (0.01, 1.2)]],
                "baseline": [[(0.01, 2.0), (0.01, 2.0), (0.01, 1.0), (0.01, 1.0)]],
                "baseline_aa": [[(0.01, 1.0), (0.02, 1.0), (0.01, 2.0), (0.01, 2.0)]]}
    values = fastest_passes(requests, ("baseline", "baseline_aa"), requests_per_pass=2)
    assert values == {"candidate": [pytest.approx(2.49)], "baseline": [2.0], "baseline_aa": [pytest.approx(2.01)]}
    assert fastest_passes(requests, ("baseline", "baseline_aa"))["candidate"] == [1.0]  # a pass a request


def test_passes_are_cut_into_requests_of_about_50_ms_of_the_fastest_contender() -> None:
    from competition.measure.protocols import request_batches

    assert request_batches({"candidate": 0.3, "baseline": 0.6}, 10) == 2  # 30 ms a batch: 2 batches a request
    assert request_batches({"candidate": 0.04, "baseline": 0.6}, 10) == 10  # a 40 ms pass stays one request
    assert request_batches({"candidate": 5.0, "baseline": 6.0}, 10) == 1  # never less than a batch


def test_lockstep_alternates_the_contenders_request_by_request() -> None:
    log: list[str] = []

    def run(label: str, steps: int):
        for _ in range(steps):
            log.append(label)
            yield
        return f"{label} done"

    results = timing.lockstep({"a": run("a", 4), "b": run("b", 4), "c": run("c", 2)}, np.random.default_rng(0))
    assert results == {"a": "a done", "b": "b done", "c": "c done"}
    sweeps = [log[0:3], log[3:6], log[6:8], log[8:10]]  # c finishes after its 2 steps (plus its final call)
    assert all(sorted(s) == ["a", "b", "c"] for s in sweeps[:2]) and all(sorted(s) == ["a", "b"] for s in sweeps[2:])
    assert len({tuple(s) for s in sweeps[:2]}) == 2  # the order changes from sweep to sweep


def test_clocked_times_the_call_in_the_parent() -> None:
    seconds, value = timing.clocked(lambda x: time.sleep(0.02) or x, 7)
    assert value == 7 and 0.02 <= seconds < 1.0


def test_image_draws_cover_the_pool_before_repeating_and_depend_on_the_secret() -> None:
    pool = np.arange(10, 20)
    a = draws.ImageDraws(pool, np.random.default_rng(1))
    first, second = a.take(6), a.take(6)
    assert sorted(np.concatenate([first, second[:4]])) == list(pool)  # a whole permutation, then the next
    assert not np.array_equal(first, draws.ImageDraws(pool, np.random.default_rng(2)).take(6))


def test_perturbation_is_new_every_time_stays_in_range_and_no_rounding_undoes_it() -> None:
    rng = np.random.default_rng(0)
    x = np.round(np.random.default_rng(1).random((10, 1, 12, 12)) * 255).astype(np.float32) / 255
    p, q = draws.perturbed(x, rng), draws.perturbed(x, rng)
    assert p.dtype == np.float32 and p.shape == x.shape and p.min() >= 0 and p.max() <= 1
    assert all(p[i].tobytes() != q[i].tobytes() for i in range(10))  # every image's bytes change
    rounded_p, rounded_q = np.round(p * 255), np.round(q * 255)  # back to the 8-bit grid: still new bytes
    assert all(rounded_p[i].tobytes() != rounded_q[i].tobytes() for i in range(10))
    assert np.mean(rounded_p != np.round(x * 255)) > 0.5  # most pixels land off their own grey level


def test_perturbation_shifts_each_image_by_its_own_sub_pixel_offset() -> None:
    x = np.zeros((2, 1, 5, 5), np.float32)
    x[:, 0, 2, 2] = 1
    draws._shift(x, np.array([0.5, -0.25]), -1)
    assert np.allclose(x[0, 0, 2], [0, 0, 0.5, 0.5, 0]) and np.allclose(x[1, 0, 2], [0, 0.25, 0.75, 0, 0])
    flat = np.full((3, 1, 6, 6), 0.5, np.float32)  # a flat image stays flat under any shift: edges are replicated
    shifted = draws.perturbed(flat, np.random.default_rng(0))
    assert np.abs(shifted - 0.5).max() <= draws.NOISE + 1e-6


def test_secret_seed_is_fresh_and_only_its_hash_is_kept() -> None:
    (rng_a, hash_a), (rng_b, hash_b) = draws.secret_seed(), draws.secret_seed()
    assert len(hash_a) == 64 and hash_a != hash_b and rng_a.integers(1 << 62) != rng_b.integers(1 << 62)


def _powercap(root: Path, energy_uj: int, max_uj: int) -> None:
    domain = root / "intel-rapl:0"
    domain.mkdir(parents=True, exist_ok=True)
    (domain / "name").write_text("package-0\n")
    (domain / "energy_uj").write_text(f"{energy_uj}\n")
    (domain / "max_energy_range_uj").write_text(f"{max_uj}\n")


def test_rapl_difference_handles_wrap_around(tmp_path: Path) -> None:
    _powercap(tmp_path, 999_000, 1_000_000)
    rapl, reason = energy.find_rapl(tmp_path)
    assert reason is None
    before = rapl.read()
    _powercap(tmp_path, 1_000, 1_000_000)  # wrapped: 1 000 uJ to the top + 1 + 1 000 uJ
    assert rapl.joules(before, rapl.read()) == pytest.approx(2_001 / 1e6)


def test_missing_rapl_gives_null_with_reason(tmp_path: Path) -> None:
    rapl, reason = energy.find_rapl(tmp_path / "absent")
    assert rapl is None and "does not exist" in reason
    record = energy.energy_record(None, 0, reason)
    assert record["measured"] is False and record["joules_per_inference"] is None and record["reason"] == reason
    assert energy.energy_record(2.0, 4)["joules_per_inference"] == 0.5


class _Meter:
    memory_meter = "vmhwm"

    def __init__(self, peak: int) -> None:
        self.peak = peak

    def peak_memory_bytes(self) -> int:
        return self.peak


def test_memory_is_read_through_the_outside_meter() -> None:
    assert memory.peak_bytes(_Meter(5_000)) == 5_000
    none = _Meter(5_000)
    none.memory_meter = "none"
    assert memory.peak_bytes(none) is None
    record = memory.peak_record(5_000, 1_000, "vmhwm")
    assert record == {"tracemalloc_bytes": None, "external_bytes": 5_000, "rss_delta_bytes": 4_000, "meter": "vmhwm"}
    assert memory.peak_record(None, 1_000, "vmhwm")["meter"] == "none"


def _npz(path: Path, **arrays: np.ndarray) -> None:
    np.savez(path, **arrays)


def test_model_size_is_the_shipped_array_bytes_of_the_files_load_needs(tmp_path: Path) -> None:
    _npz(tmp_path / "used.npz", w=np.zeros((100, 10), np.int8), scale=np.ones(10, np.float32))
    _npz(tmp_path / "unused.npz", w=np.zeros(1000, np.float32))
    (tmp_path / "model.py").write_text("# 12 bytes\n")
    (tmp_path / "README.md").write_text("not shipped to the worker")
    loads = lambda folder: (folder / "used.npz").exists()  # noqa: E731 - the probe: load() needs used.npz
    assert weights.npz_summary(tmp_path / "used.npz") == (1000 + 40, 1010)
    item = weights.shipped(tmp_path, "inference", loads)
    try:
        assert item.npz == ("used.npz",) and item.model_size_bytes == 1040 + 11 and item.parameter_count == 1010
        assert sorted(p.name for p in item.folder.iterdir()) == ["model.py", "used.npz"]  # the rest never reaches it
    finally:
        weights.discard(item)
    training = weights.shipped(tmp_path, "training", loads)
    assert [p.name for p in training.folder.iterdir()] == ["model.py"] and training.model_size_bytes is None
    weights.discard(training)


def test_object_arrays_in_weights_are_refused(tmp_path: Path) -> None:
    from competition.validation.weights import WeightsError

    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    import zipfile
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        archive.write(tmp_path / "x.npy", "x.npy")
    with pytest.raises(WeightsError, match="objects"):
        weights.npz_summary(tmp_path / "bad.npz")


def test_perplexity_of_uniform_logits_is_the_vocabulary_size() -> None:
    assert text.perplexity(np.zeros((2, 5, 7)), np.ones((2, 5), np.int64)) == pytest.approx(7.0)
    sharp = np.full((1, 3, 4), -50.0)
    sharp[0, np.arange(3), [1, 2, 3]] = 50.0
    assert text.perplexity(sharp, np.array([[1, 2, 3]])) == pytest.approx(1.0)


def test_corpus_bleu() -> None:
    assert text.corpus_bleu([[1, 2, 3, 4, 5]], [[1, 2, 3, 4, 5]]) == 1.0
    assert text.corpus_bleu([[9, 9, 9, 9]], [[1, 2, 3, 4]]) == 0.0
    # 1-gram 4/5, 2-gram 3/4, 3-gram 2/3, 4-gram 1/2, no brevity penalty
    expected = math.exp((math.log(4 / 5) + math.log(3 / 4) + math.log(2 / 3) + math.log(1 / 2)) / 4)
    assert text.corpus_bleu([[1, 2, 3, 4, 6]], [[1, 2, 3, 4, 5]]) == pytest.approx(expected)
    short = text.corpus_bleu([[1, 2, 3, 4]], [[1, 2, 3, 4, 5, 6, 7, 8]])
    assert short == pytest.approx(math.exp(1 - 2))


def test_tree_hash_covers_paths_and_bytes(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("a")
    first = provenance.tree_sha256(tmp_path)
    (tmp_path / "model.py").write_text("b")
    second = provenance.tree_sha256(tmp_path)
    (tmp_path / "model.py").rename(tmp_path / "other.py")
    assert len({first, second, provenance.tree_sha256(tmp_path)}) == 3
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"junk")
    assert provenance.tree_sha256(tmp_path) == provenance.tree_sha256(tmp_path)


def test_hardware_fingerprint_has_the_schema_fields() -> None:
    hw = hardware.fingerprint(1)
    assert {"cpu_model", "machine", "cores", "ram_bytes", "os", "python", "numpy", "blas", "blas_threads",
            "blas_info"} == set(hw)
    assert hw["cores"] >= 1 and hw["numpy"] == np.__version__
    blas = hw["blas_info"]
    assert blas["library"] == "openblas" and blas["threads"] == 1 and blas["architecture"]  # the kernel that runs


def test_dataset_hash_depends_on_the_subset() -> None:
    full = load_event_data("mnist_bundled", "test", "inference")
    part = load_event_data("mnist_bundled", "test", "inference", max_examples=100)
    assert full.inputs.dtype == np.float32 and full.inputs.shape[1:] == (1, 28, 28)
    assert 0.0 <= full.inputs.min() and full.inputs.max() <= 1.0
    assert part.split == "test[:100]" and part.n_examples == 100 and part.sha256 != full.sha256


def test_perplexity_windows_and_prompts_are_cut_from_the_text() -> None:
    tokens = np.arange(10_000) % 50
    windows = perplexity_windows(tokens, n_windows=8, window=32)
    assert windows.shape == (8, 33) and np.array_equal(windows, perplexity_windows(tokens, 8, 32))
    prompt, reference = prompt_at(tokens, 120, 16, 64)
    assert prompt.shape == (1, 16) and reference.shape == (64,) and (reference[0] - prompt[0, -1]) % 50 == 1
    with pytest.raises(ValueError, match="does not fit"):
        prompt_at(tokens, 9_990, 16, 64)


def test_scores_are_checked_for_dtype_shape_and_values() -> None:
    good = np.zeros((4, 10), np.float32)
    assert verify.scores(good, 4, 10, "c").dtype == np.float64
    for bad, reason in [(np.zeros((4, 9)), "shape"), (np.full((4, 10), np.inf), "NaN"),
                        (np.full((4, 10), 1e31), "absurdly"), (np.array([["x"] * 10] * 4), "numeric")]:
        with pytest.raises(verify.Disqualified, match=reason):
            verify.scores(bad, 4, 10, "c")


def test_rounds_must_agree_and_accuracy_comes_from_them() -> None:
    labels = np.arange(100) % 10
    idx = np.arange(100)
    honest = [(idx, labels.copy()) for _ in range(4)]
    assert verify.rounds_agree(honest, labels, "c") == 1.0
    noisy = [(idx, labels.copy()) for _ in range(4)]
    noisy[2][1][0] = 3  # one flip in 400 repeated predictions: tolerated
    assert verify.rounds_agree(noisy, labels, "c") == pytest.approx(399 / 400)
    garbage = honest[:3] + [(idx, np.zeros(100, np.int64))]
    with pytest.raises(verify.Disqualified, match="do not agree"):
        verify.rounds_agree(garbage, labels, "c")
    flips = [(idx, (labels + r) % 10) for r in range(4)]  # every image a different class in every round
    with pytest.raises(verify.Disqualified, match="majority"):
        verify.rounds_agree(flips, labels, "c")


def test_greedy_check_accepts_greedy_decoding_and_ties_and_finds_the_first_deviation() -> None:
    table = np.random.default_rng(0).standard_normal((20, 20))
    table[5, 7] = table[5, 8] = table[5].max() + 1  # a tie: either token is greedy

    seq = [1]
    for _ in range(40):
        seq.append(int(np.argmax(table[seq[-1]])))
    sequence = np.array([seq])
    assert verify.greedy_mismatches(sequence, 1, table[sequence[0, :40]]) == []
    cheat = sequence.copy()
    cheat[0, 30:] = 0
    assert verify.greedy_mismatches(cheat, 1, table[cheat[0, :40]])[0] == 30
    assert verify.greedy_mismatches(cheat, 1, table[cheat[0, :20]]) == []  # rows reach only the first 20 tokens
    tie = np.array([[5, 8]])
    assert verify.greedy_mismatches(tie, 1, table[tie[0, :1]]) == []
    with pytest.raises(verify.Disqualified, match="changed the prompt"):
        verify.tokens(np.array([[2, 3, 4]]), np.array([[1, 3]]), 1, "c")


def test_flops_are_counted_by_the_parent_only_for_closed_inference_from_shipped_weights() -> None:
    from competition.measure import flops

    baseline = Path(__file__).resolve().parents[2] / "submissions" / "baseline"
    images = np.zeros((10, 1, 28, 28), np.float32)
    ten = flops.pass_flops("cnn_marathon_offline", "inference", "closed", baseline, images)
    assert ten and ten == 10 * flops.pass_flops("cnn_marathon_offline", "inference", "closed", baseline, images[:1])
    assert flops.pass_flops("cnn_marathon_offline", "inference", "open", baseline, images) is None
    assert flops.pass_flops("mlp_sprint_offline", "training", "closed", baseline, images) is None
    record = flops.throughput(2_000_000_000, 0.5, 8.0)
    assert record == {"achieved_gflops": 4.0, "percent_of_peak": 50.0}


def test_budget_scale_multiplies_rounds_and_budgets_and_refuses_nonsense() -> None:
    from competition.measure.protocols import FULL, scaled

    four = scaled(FULL, 4)
    assert (four.rounds, four.timing_budget_s) == (4 * FULL.rounds, 4 * FULL.timing_budget_s)
    assert (four.training_rounds, four.training_budget_s) == (4 * FULL.training_rounds, 4 * FULL.training_budget_s)
    assert four.min_rounds == FULL.min_rounds and four.repeats == FULL.repeats  # the protocol itself is unchanged
    assert scaled(FULL, 1) == FULL
    with pytest.raises(ValueError, match="positive"):
        scaled(FULL, 0)


def fake_rounds(spread: float, seed: int = 0):
    """measure callables of three contenders whose times are 1 s with `spread` relative noise per call."""
    rng = np.random.default_rng(seed)
    return {label: (lambda r: float(np.exp(rng.normal(0.0, spread)))) for label in ("candidate", "baseline",
                                                                                  "baseline_aa")}


def test_adaptive_stop_ends_at_the_target_once_enough_units_are_in() -> None:
    from competition.measure.protocols import Sampler

    sampler = Sampler(target=0.02, rounds_per_unit=2, min_units=4, max_rounds=100, max_budget_s=600.0)
    values = timing.interleaved_rounds(fake_rounds(0.002), 100, np.random.default_rng(0), until=sampler.until())
    assert len(values["baseline"]) == 8  # 4 units of 2 rounds: the first check may stop
    record = sampler.record()
    assert record["stop"] == "target_reached" and record["units"] == 4 and record["rounds_per_unit"] == 2
    assert 0 < record["halfwidth"] <= 0.02 and 0 < record["aa_halfwidth"] <= 0.02


def test_adaptive_stop_spends_the_budget_when_the_interval_stays_wide() -> None:
    from competition.measure.protocols import Sampler

    sampler = Sampler(target=0.02, rounds_per_unit=1, min_units=4, max_rounds=12, max_budget_s=600.0)
    values = timing.interleaved_rounds(fake_rounds(0.3), 100, np.random.default_rng(0), until=sampler.until())
    assert len(values["baseline"]) == 12 and sampler.record()["stop"] == "budget_spent"  # the round cap
    assert sampler.record()["halfwidth"] > 0.02

    slow = Sampler(target=0.02, rounds_per_unit=1, min_units=3, max_rounds=100, max_budget_s=0.05)
    measure = {label: (lambda r, noisy=noisy: time.sleep(0.005) or noisy(r))
               for label, noisy in fake_rounds(0.3).items()}
    values = timing.interleaved_rounds(measure, 100, np.random.default_rng(0), until=slow.until())
    assert len(values["baseline"]) == 3 and slow.record()["stop"] == "budget_spent"  # seconds out: the minimum runs


def test_the_stop_is_checked_on_whole_units_and_on_the_values_the_protocol_computes() -> None:
    from competition.measure.protocols import Sampler

    sampler = Sampler(target=0.5, rounds_per_unit=3, min_units=2, max_rounds=30, max_budget_s=600.0)
    asked: list[int] = []

    def values_now() -> dict[str, list[float]]:  # e.g. fastest_passes over every placement so far
        asked.append(sampler.rounds_done)
        return {label: [1.0 + 0.01 * (r % 2) for r in range(sampler.rounds_done)]
                for label in ("candidate", "baseline", "baseline_aa")}

    done = sampler.until(values_now)
    assert [done(r, {}) for r in range(1, 7)] == [False] * 5 + [True]  # two units of three rounds
    assert asked == [3, 6] and sampler.units(7) == [0, 0, 0, 1, 1, 1, 2]


def test_unit_ratios_pair_rounds_and_leave_out_missing_times() -> None:
    from competition.measure.protocols import unit_ratios

    values = {"candidate": [1.0, math.nan, 2.0], "baseline": [2.0, 2.0, 2.0], "baseline_aa": [2.0, 1.0, math.nan]}
    assert unit_ratios(values, [0, 1, 2]) == ([2.0, 1.0], [0, 2], [1.0, 2.0], [0, 1])


def test_sampler_takes_its_target_budget_and_units_from_the_config_and_kind() -> None:
    from competition.measure.protocols import FULL, QUICK, Sampler

    full = Sampler.for_kind(FULL, "inference")
    assert (full.target, full.rounds_per_unit, full.min_units) == (0.02, FULL.respawn_every, FULL.min_units)
    assert full.max_budget_s == 1.5 * FULL.timing_budget_s == 37.5 and full.max_rounds == 45
    assert Sampler.for_kind(FULL, "generation").target == 0.03
    training = Sampler.for_kind(FULL, "training")
    assert training.rounds_per_unit == 1 and training.max_budget_s == 1.5 * FULL.training_budget_s == 45.0
    quick = Sampler.for_kind(QUICK, "inference")  # one process for the whole run: one unit, paced round by round
    assert (quick.rounds_per_unit, quick.max_rounds, quick.max_budget_s) == (1, QUICK.rounds, QUICK.timing_budget_s)
    values = timing.interleaved_rounds(fake_rounds(0.002), 100, np.random.default_rng(0), until=quick.until())
    assert len(values["baseline"]) == QUICK.rounds and quick.units(3) == [0, 0, 0]
    assert quick.record()["units"] == 1 and quick.record()["halfwidth"] is None  # one process shows no luck
