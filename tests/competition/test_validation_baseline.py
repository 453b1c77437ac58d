"""submissions/baseline: the first entrant validates, its weights are the committed reference weights, its
architectures equal the model cards', and every event it enters has a threshold its own model card meets."""

import filecmp
import importlib.util

import numpy as np
import pytest
import yaml

from competition.rules import load_rules
from competition.validation import BASELINE_DIR, validate_path

WEIGHTS_DIR = BASELINE_DIR.parents[1] / "tinytorch" / "models" / "weights"
MODELS = ("mnist_mlp", "mnist_cnn", "shakespeare_gpt")
EVENT_CARDS = {"mlp_sprint_offline": "mnist_mlp", "cnn_marathon_offline": "mnist_cnn",
               "transformer_decathlon": "shakespeare_gpt"}


def _needs_weights(*names):
    missing = [m for m in names or MODELS if not (WEIGHTS_DIR / f"{m}.json").is_file()]
    if missing:
        pytest.skip(f"tinytorch/models/weights has no {', '.join(missing)} yet")


def _baseline_module():
    spec = importlib.util.spec_from_file_location("baseline_model", BASELINE_DIR / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _card(name):
    import json

    return json.loads((WEIGHTS_DIR / f"{name}.json").read_text())


def test_baseline_manifest_lists_known_events():
    manifest = yaml.safe_load((BASELINE_DIR / "submission.yaml").read_text())
    assert set(manifest["events"]) <= set(load_rules().events)


def test_baseline_folder_is_valid():
    _needs_weights()
    assert validate_path(BASELINE_DIR) == []


@pytest.mark.parametrize("name", ["mnist_cnn", "shakespeare_gpt"])
def test_baseline_weights_are_the_committed_ones(name):
    _needs_weights(name)
    assert filecmp.cmp(BASELINE_DIR / f"{name}.npz", WEIGHTS_DIR / f"{name}.npz", shallow=False)


@pytest.mark.parametrize("event_id", sorted(EVENT_CARDS))
def test_reference_models_meet_their_event_thresholds(event_id):
    _needs_weights(EVENT_CARDS[event_id])
    event, metrics = load_rules().event(event_id), _card(EVENT_CARDS[event_id])["metrics"]
    if event.accuracy_floor is not None:
        assert metrics["accuracy"] >= event.accuracy_floor
    if event.max_perplexity is not None:
        assert metrics["val_perplexity"] <= event.max_perplexity


def test_baseline_trains_an_mlp_epoch_by_epoch():
    _needs_weights("mnist_mlp")
    rng = np.random.default_rng(0)
    inputs, labels = rng.random((128, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 128)
    module = _baseline_module()
    epochs = module.train("mlp_sprint_offline", inputs, labels, seed=0)
    model = next(epochs)
    assert module.predict(model, inputs[:5]).shape == (5, 10)
    assert next(epochs) is model


def test_baseline_cnn_predicts_in_process(monkeypatch):
    _needs_weights("mnist_cnn")
    monkeypatch.chdir(BASELINE_DIR)  # the worker runs model.py from a copy of the folder
    module = _baseline_module()
    model = module.load("cnn_marathon_offline")
    logits = module.predict(model, np.zeros((2, 1, 28, 28), np.float32))
    assert logits.shape == (2, 10) and logits.dtype == np.float32
