"""Measurement building blocks: timing calibration, interleaving, energy counters, memory, sizes, text metrics."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from competition.datasets import load_event_data, text_eval_set
from competition.measure import energy, hardware, memory, provenance, text, timing, weights


def test_calibrated_timed_value_lasts_at_least_100_ms() -> None:
    fn = lambda: time.sleep(0.004)  # noqa: E731
    loops, seconds = timing.calibrate(fn)
    assert seconds >= timing.MIN_TIMED_SECONDS
    start = time.perf_counter()
    (value,) = timing.timed_values(fn, loops)
    assert time.perf_counter() - start >= timing.MIN_TIMED_SECONDS
    assert 0.004 <= value < 0.05  # per call, not per loop: a sleep never ends early; load may stretch it


def test_interleaved_rounds_visit_everyone_each_round_in_varying_order() -> None:
    order: list[str] = []
    measure = {label: (lambda label=label: order.append(label) or 1.0) for label in "abc"}
    values = timing.interleaved_rounds(measure, rounds=6, seed=1)
    assert all(len(v) == 6 for v in values.values())
    rounds = [tuple(order[i:i + 3]) for i in range(0, 18, 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds) and len(set(rounds)) > 1


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


def test_traced_peak_counts_numpy_buffers() -> None:
    peak = memory.traced_peak_bytes(lambda: np.ones(1_000_000).sum())
    assert 8_000_000 <= peak < 9_000_000
    assert memory.max_rss_bytes() > 10_000_000


class _Quantized:
    def __init__(self) -> None:
        self.w = np.zeros((100, 10), dtype=np.int8)
        self.scale = np.ones(10, dtype=np.float32)
        self.name = "not an array"


def test_model_size_counts_stored_dtypes() -> None:
    assert weights.weights_summary(_Quantized()) == (1000 + 40, 1010)
    assert weights.weights_summary({"w": np.zeros(4, np.float16)}) == (8, 4)
    assert weights.weights_summary(object()) == (None, None)


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
    assert {"cpu_model", "machine", "cores", "ram_bytes", "os", "python", "numpy", "blas", "blas_threads"} == set(hw)
    assert hw["cores"] >= 1 and hw["numpy"] == np.__version__


def test_dataset_hash_depends_on_the_subset() -> None:
    full = load_event_data("mnist_bundled", "test", "inference")
    part = load_event_data("mnist_bundled", "test", "inference", max_examples=100)
    assert full.inputs.dtype == np.float32 and full.inputs.shape[1:] == (1, 28, 28)
    assert 0.0 <= full.inputs.min() and full.inputs.max() <= 1.0
    assert part.split == "test[:100]" and part.n_examples == 100 and part.sha256 != full.sha256


def test_text_eval_set_is_deterministic_and_shaped() -> None:
    tokens = np.arange(10_000) % 50
    a = text_eval_set(tokens, n_windows=8, window=32, n_prompts=2, prompt_tokens=16, new_tokens=64)
    b = text_eval_set(tokens, n_windows=8, window=32, n_prompts=2, prompt_tokens=16, new_tokens=64)
    assert a.windows.shape == (8, 33) and a.prompts.shape == (2, 16) and a.references.shape == (2, 64)
    assert a.sha256 == b.sha256
    assert (a.references[0, 0] - a.prompts[0, -1]) % 50 == 1


def test_rounds_fit_the_timing_budget_within_bounds() -> None:
    from competition.measure.protocols import FULL, planned_rounds

    assert planned_rounds(0.5, FULL) == FULL.rounds  # cheap rounds: the maximum
    assert planned_rounds(8.0, FULL) == 7  # 60 s budget / 8 s per round
    assert planned_rounds(3.0, FULL) == 20
    assert planned_rounds(100.0, FULL) == FULL.min_rounds  # never fewer than the minimum


def test_a_long_first_call_needs_no_more_calibration() -> None:
    calls = []
    loops, seconds = timing.calibrate(lambda: calls.append(time.sleep(0.12)))
    assert (loops, len(calls)) == (1, 1) and seconds >= 0.12
