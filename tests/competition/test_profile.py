"""Per-layer profile through tinytorch forward hooks, run in the sandbox worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from competition.profile import ProfileError, profile_event

CNN = '''
import tinytorch as tt
from tinytorch import nn


def load(event):
    tt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(8 * 14 * 14, 10)).eval()


def predict(model, inputs):
    with tt.no_grad():
        return model(tt.from_numpy(inputs)).numpy()
'''


def test_profile_reports_each_layer_with_flops_and_memory(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(CNN)
    layers = profile_event("cnn_marathon_offline", tmp_path)
    assert [layer["type"] for layer in layers] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    conv, linear = layers[0], layers[-1]
    assert conv["flops"] == 2 * 100 * 8 * 28 * 28 * 9 and conv["parameters"] == 8 * 9 + 8
    assert linear["flops"] == 2 * 100 * 10 * 8 * 14 * 14
    assert conv["peak_bytes"] >= 100 * 8 * 28 * 28 * 4  # at least its float32 output
    assert all(layer["calls"] == 1 and layer["time_s"] > 0 for layer in layers)
    assert sum(layer["time_fraction"] for layer in layers) == pytest.approx(1.0)


def test_profile_of_a_numpy_model_has_no_layers(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("import numpy as np\ndef load(e):\n    return {}\n"
                                       "def predict(m, x):\n    return np.zeros((len(x), 10))\n")
    assert profile_event("cnn_marathon_offline", tmp_path) == []


def test_profile_refuses_code_that_fails_the_static_check(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("import os\n")
    with pytest.raises(ProfileError, match="model.py:1: import of 'os'"):
        profile_event("cnn_marathon_offline", tmp_path)


def test_render_profile_is_slowest_first_in_human_units_and_names_the_bottleneck(tmp_path: Path) -> None:
    from rich.console import Console

    from competition.profile import render_profile
    from tinytorch.profiler import MachineRates

    (tmp_path / "model.py").write_text(CNN)
    rows = profile_event("cnn_marathon_offline", tmp_path)
    console = Console(width=80, record=True, color_system=None)
    console.print(render_profile(rows, "cnn_marathon_offline", MachineRates(1e11, 1e10)))
    lines = console.export_text().splitlines()
    assert max(map(len, lines)) <= 80
    slowest = max(rows, key=lambda row: row["time_s"])
    table_rows = [line.split()[0] for line in lines if line.split() and line.split()[0] in {r["name"] for r in rows}]
    assert table_rows[0] == slowest["name"] and len(table_rows) == len(rows)
    assert f"Bottleneck: {slowest['name']}" in "\n".join(lines) and "100 GFLOP/s" in "\n".join(lines)
    assert any(unit in "\n".join(lines) for unit in (" ms", " us")) and " MB" in "\n".join(lines)
