"""Per-layer profile through tinytorch forward hooks, run in the sandbox worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from competition.measure.contender import check_reported_time
from competition.profile import ProfileError, profile_event
from competition.sandbox.process import WorkerError

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


def test_reported_time_must_fit_the_parents_wall_time() -> None:
    check_reported_time("c", 0.2, 0.21)
    with pytest.raises(WorkerError, match="inconsistent"):
        check_reported_time("c", 0.5, 0.2)  # claims more than the request took
    with pytest.raises(WorkerError, match="inconsistent"):
        check_reported_time("c", 0.01, 1.0)  # claims far less: a tampered timer
    with pytest.raises(WorkerError, match="invalid"):
        check_reported_time("c", float("nan"), 1.0)


def test_memory_request_counts_flops_and_traced_peak(tmp_path: Path) -> None:
    import numpy as np

    from competition.sandbox.process import Worker

    (tmp_path / "model.py").write_text(CNN)
    with Worker(tmp_path) as worker:
        worker.request("import")
        worker.request("load", event="cnn_marathon_offline")
        worker.request("store", [np.zeros((10, 1, 28, 28), np.float32)], names=["x"])
        header = worker.request("memory", fn="predict", args=["x"], kwargs={})[0]
    assert header["flops"] == 2 * 10 * (8 * 28 * 28 * 9 + 10 * 8 * 14 * 14)
    assert header["tracemalloc_bytes"] >= 10 * 8 * 28 * 28 * 4 and header["max_rss_bytes"] > 0
