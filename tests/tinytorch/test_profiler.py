"""tinytorch.profiler: per-layer self time and shares, FLOPs and bytes, roofline classification, comparisons."""
from __future__ import annotations

import time

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn
from tinytorch.profiler import (BottleneckAnalyzer, MachineRates, OptimizationComparer, PerformanceProfiler,
                                format_bytes, format_count, format_flops, format_rate, format_seconds, model_size_bytes)

ROOFS = MachineRates(gemm_flops_per_s=1e11, bandwidth_bytes_per_s=1e10)  # balance 10 FLOP/byte


class Sleep(nn.Module):
    """A deliberately slow layer."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds)
        return x


class Wrapper(nn.Module):
    """A container with a parameter of its own and a slow child: its row must hold only its own time."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.inner = Sleep(0.06)

    def forward(self, x):
        return self.inner(x) * self.scale


def _profiled(model, x, **kwargs) -> PerformanceProfiler:
    profiler = PerformanceProfiler(model, **kwargs)
    with profiler.profile("forward"), tt.no_grad():
        model(tt.from_numpy(x))
    return profiler


def test_a_slow_layer_is_the_bottleneck_and_shares_sum_to_one():
    model = nn.Sequential(nn.Linear(16, 16), Sleep(0.05), nn.ReLU(), nn.Linear(16, 4))
    profiler = _profiled(model, np.ones((8, 16), np.float32))
    analyzer = BottleneckAnalyzer(profiler, machine=ROOFS)
    worst = analyzer.bottleneck()
    assert (worst.name, worst.type) == ("1", "Sleep") and worst.share > 0.5
    assert sum(f.share for f in analyzer.analyze()) == pytest.approx(1.0)
    assert profiler.total_layer_time() <= profiler.sections["forward"].time_s
    assert worst.bound == "unknown"  # no cost model for a custom layer: not guessed


def test_layer_time_is_self_time_without_children():
    model = nn.Sequential(Wrapper(), nn.Linear(4, 4))
    layers = {layer.name: layer for layer in _profiled(model, np.ones((2, 4), np.float32)).layers}
    assert layers["0.inner"].time_s >= 0.06
    assert layers["0"].time_s < 0.03 and layers["0"].parameters == 1  # the wrapper's own work only
    assert all(layer.calls == 1 for layer in layers.values() if layer.name != "(between layers)")


def test_hooks_are_removed_after_the_block():
    model = nn.Sequential(nn.Linear(4, 4))
    _profiled(model, np.ones((2, 4), np.float32))
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_flops_and_bytes_of_linear_conv_and_attention():
    linear = nn.Linear(20, 30)
    (row,) = [r for r in _profiled(linear, np.ones((8, 20), np.float32)).layers]
    assert row.flops == 2 * 8 * 30 * 20
    assert row.bytes_moved == 4 * (8 * 20 + 8 * 30 + 30 * 20 + 30)
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert PerformanceProfiler.count_flops(conv, np.ones((2, 3, 10, 10), np.float32)) == 2 * 2 * 8 * 100 * 27
    attention = nn.MultiheadAttention(16, 2, batch_first=True)
    profiler = PerformanceProfiler(attention)
    x = tt.from_numpy(np.ones((3, 5, 16), np.float32))
    with profiler.profile("attention"), tt.no_grad():
        attention(x, x, x)
    rows = {r.name: r for r in profiler.layers}
    assert rows["MultiheadAttention"].flops == 2 * 3 * 15 * 16 * 16 + 4 * 3 * 5 * 5 * 16
    assert rows["out_proj"].flops == 2 * 3 * 5 * 16 * 16


def test_compute_and_memory_bound_against_the_machine_balance():
    model = nn.Sequential(nn.Linear(256, 256), nn.ReLU())
    findings = {f.type: f for f in BottleneckAnalyzer(_profiled(model, np.ones((256, 256), np.float32)),
                                                      machine=ROOFS).analyze()}
    assert findings["Linear"].intensity == pytest.approx(2 * 256 ** 3 / (4 * (3 * 256 * 256 + 256)))
    assert findings["Linear"].bound == "compute" and findings["ReLU"].bound == "memory"
    efficiency = findings["Linear"].efficiency  # None when it ran faster than the stated roof ("above roof")
    assert (efficiency is None or 0 < efficiency <= 1) and findings["ReLU"].intensity < ROOFS.balance


def test_memory_counts_the_output_and_the_traced_peak():
    layer = nn.Linear(10, 1000)
    (row,) = _profiled(layer, np.ones((1000, 10), np.float32)).layers
    assert row.output_bytes == 4 * 1000 * 1000 and row.peak_bytes >= 4 * 1000 * 1000
    model = nn.Sequential(nn.Linear(10, 1000), nn.ReLU())
    profiler = PerformanceProfiler(model)
    with profiler.profile("outer"), tt.no_grad():
        model(tt.from_numpy(np.ones((1000, 10), np.float32)))
        with profiler.profile("inner"):
            model(tt.from_numpy(np.ones((10, 10), np.float32)))
    outer, inner = profiler.sections["outer"], profiler.sections["inner"]
    assert outer.peak_bytes >= 2 * 4 * 1000 * 1000 > inner.peak_bytes > 0  # Linear and ReLU outputs coexist
    assert outer.time_s >= inner.time_s and [r.calls for r in profiler.layers[:2]] == [2, 2]  # hooked once
    untraced = _profiled(layer, np.ones((1000, 10), np.float32), trace_memory=False)
    assert untraced.layers[0].peak_bytes == 0 and "not traced" in untraced.report()


def test_report_is_human_readable():
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
    text = _profiled(model, np.ones((32, 64), np.float32)).report()
    assert "forward" in text and "Linear" in text and "%" in text and ("ms" in text or "us" in text)
    assert "kFLOP" in text or "MFLOP" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_units():
    assert format_seconds(0.0123) == "12.3 ms" and format_seconds(2.5) == "2.5 s"
    assert format_seconds(4.2e-5) == "42 us" and format_count(401_536) == "402 k" and format_count(950) == "950"
    assert format_bytes(1_500_000) == "1.5 MB" and format_bytes(512) == "512 B"
    assert format_flops(2.4e9) == "2.4 GFLOP" and format_rate(2.5e9) == "2.5 GFLOP/s"


def _classifier(hidden: int) -> nn.Module:
    tt.manual_seed(0)
    return nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 3))


def test_optimization_comparer_side_by_side():
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((64, 8)).astype(np.float32)
    baseline, small = _classifier(64), _classifier(16)
    with tt.no_grad():
        labels = baseline(tt.from_numpy(inputs)).data.argmax(-1)  # the baseline is right by construction
        small_accuracy = float(np.mean(small(tt.from_numpy(inputs)).data.argmax(-1) == labels))
    comparer = OptimizationComparer(inputs, labels, repeats=3)
    rows = {r.name: r for r in comparer.compare(small=small, baseline=baseline)}
    assert rows["baseline"].speedup == 1.0 and rows["baseline"].accuracy == 1.0
    assert rows["small"].compression == pytest.approx(model_size_bytes(baseline) / model_size_bytes(small))
    assert model_size_bytes(baseline) == 4 * (8 * 64 + 64 + 64 * 3 + 3)
    assert rows["small"].accuracy == small_accuracy
    assert rows["small"].accuracy_change_points == pytest.approx(100 * (small_accuracy - 1.0))
    assert "baseline" in comparer.report() and "x" in comparer.report()


def test_bad_input_gets_clear_errors():
    with pytest.raises(TypeError, match="nn.Module"):
        PerformanceProfiler("model")
    with pytest.raises(ValueError, match="4 inputs but 3 labels"):
        OptimizationComparer(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(TypeError, match="not an nn.Module"):
        OptimizationComparer(np.zeros((4, 2))).compare(baseline=lambda x: x)
    with pytest.raises(ValueError, match="no layers"):
        BottleneckAnalyzer(PerformanceProfiler(), machine=ROOFS).bottleneck()


def _shares_printed(text):
    import re
    return [float(x) for x in re.findall(r"(\d+(?:\.\d+)?) %", text)]


def test_a_layer_faster_than_its_roof_is_flagged_never_an_impossible_share():
    model = nn.Sequential(nn.Linear(256, 256), nn.ReLU())
    slow_roof = MachineRates(gemm_flops_per_s=1e6, bandwidth_bytes_per_s=1e5)  # everything beats it
    analyzer = BottleneckAnalyzer(_profiled(model, np.ones((256, 256), np.float32)), machine=slow_roof)
    findings = analyzer.analyze()
    assert all(f.above_roof and f.efficiency is None for f in findings if f.bound != "unknown")
    text = analyzer.report()
    assert "above roof" in text and max(_shares_printed(text)) <= 100.0


def test_from_model_measures_the_roof_interleaved_with_the_passes(monkeypatch):
    import tinytorch.profiler.bottleneck as bottleneck

    events = []
    monkeypatch.setattr(bottleneck, "probe_machine", lambda: events.append("roof") or ROOFS)
    model = nn.Sequential(nn.Linear(8, 8))
    model.register_forward_hook(lambda *args: events.append("pass"))
    analyzer = BottleneckAnalyzer.from_model(model, np.ones((4, 8), np.float32), repeats=4)
    assert events == ["pass"] + ["roof", "pass"] * 4  # a warm-up pass, then roof and pass alternate
    assert analyzer.machine == ROOFS and analyzer.stability.rounds == 4 and analyzer.stability.roof_spread == 1.0
    assert analyzer.layers[0].calls == 1  # each layer's figures are per pass


def test_an_unsteady_roof_flags_the_report_unstable(monkeypatch):
    import tinytorch.profiler.bottleneck as bottleneck

    rates = iter([ROOFS, MachineRates(5e10, 1e10)] * 3)
    monkeypatch.setattr(bottleneck, "probe_machine", lambda: next(rates))
    analyzer = BottleneckAnalyzer.from_model(nn.Sequential(nn.Linear(8, 8)), np.ones((4, 8), np.float32), repeats=6)
    assert analyzer.stability.roof_spread == pytest.approx(2.0) and not analyzer.stability.stable
    assert analyzer.machine == ROOFS  # the best roof of the rounds
    assert "UNSTABLE" in analyzer.report()


def test_bottleneck_report_fits_80_columns(monkeypatch):
    import tinytorch.profiler.bottleneck as bottleneck

    monkeypatch.setattr(bottleneck, "probe_machine", lambda: ROOFS)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
    text = BottleneckAnalyzer.from_model(model, np.ones((32, 64), np.float32)).report()
    assert "interleaved rounds" in text and all(len(line) <= 80 for line in text.splitlines())
