"""Closed division, run-time half: the harness runs the shipped weights with tinytorch's reference model (no
submission code) and compares the candidate's timed outputs with them. PyTorch is the independent oracle for what
int8, pruned and shrunk weights compute; honest variants conform, cheats fail and are refused."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from competition.conformance import (RTOL, ConformanceError, conformance_record, failed_record, is_refused,
                                     reference_outputs, reference_outputs_from_state)
from competition.conformance import architecture as arch
from competition.validation import BASELINE_DIR
from tests.fixtures.closed_entries import (baseline_state, dequantize, int8_entry_arrays, make_entry, pack_int4,
                                           prune_l1, shrink_cnn)
import tinytorch as tt
from tinytorch import nn
from tinytorch.data.bundled import bundled_mnist

EVENT = "cnn_marathon_offline"
SCHEMA_KEYS = {"division", "verdict", "reason", "max_abs_diff", "tolerance"}


@pytest.fixture(scope="module")
def images():
    inputs, _ = bundled_mnist("test")
    return (inputs[:300].astype(np.float32) / 255)[:, None]


@pytest.fixture(scope="module")
def state():
    return baseline_state()


def torch_cnn(weights, images, quantize_activations=False):
    """The baseline CNN in PyTorch on (possibly shrunk) float weights; optionally int8 dynamic activations."""
    t = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in weights.items()}
    act = _fake_quant if quantize_activations else (lambda x: x)
    x = torch.from_numpy(images)
    x = F.max_pool2d(F.relu(F.conv2d(act(x), t["features.0.weight"], t["features.0.bias"], padding=1)), 2)
    x = F.max_pool2d(F.relu(F.conv2d(act(x), t["features.3.weight"], t["features.3.bias"], padding=1)), 2)
    x = F.relu(F.linear(act(x.flatten(1)), t["classifier.1.weight"], t["classifier.1.bias"]))
    return F.linear(act(x), t["classifier.3.weight"], t["classifier.3.bias"]).numpy()


def _fake_quant(x):
    scale = float(x.max() - min(x.min(), 0)) / 255 or 1.0
    zero = int(round(-min(float(x.min()), 0) / scale))
    return torch.fake_quantize_per_tensor_affine(x, scale, zero, 0, 255)


def test_baseline_weights_reproduce_the_baseline_model(images, state):
    ref = reference_outputs(EVENT, BASELINE_DIR, images)
    np.testing.assert_allclose(ref, torch_cnn(state, images), rtol=1e-4, atol=1e-4)
    record = conformance_record("closed", ref, ref, "logits")
    assert set(record) == SCHEMA_KEYS and record["verdict"] == "conforms" and record["max_abs_diff"] == 0


def test_int8_entry_conforms_with_int8_activations_too(tmp_path, images, state):
    arrays = int8_entry_arrays(state)
    ref = reference_outputs(EVENT, make_entry(tmp_path, arrays), images)
    dequantized = {k: dequantize(arrays[k], arrays[k + "_scale"]) if k + "_scale" in arrays else v
                   for k, v in arrays.items() if not k.endswith("_scale")}
    np.testing.assert_allclose(ref, torch_cnn(dequantized, images), rtol=1e-4, atol=1e-4)
    for candidate in (torch_cnn(dequantized, images), torch_cnn(dequantized, images, quantize_activations=True)):
        record = conformance_record("closed", candidate, ref, "logits")
        assert record["verdict"] == "conforms" and not is_refused(record), record["reason"]
        assert record["max_abs_diff"] < record["tolerance"]


def test_pruned_shrunk_int4_entry_in_a_subfolder_conforms(tmp_path, images, state):
    shrunk = shrink_cnn(state, 20, 40, 64)
    arrays = dict(shrunk)
    arrays["classifier.1.weight"], arrays["classifier.1.weight_scale"], q = pack_int4(shrunk["classifier.1.weight"])
    mask = prune_l1(shrunk["features.3.weight"], 0.5)
    arrays["features.3.weight_orig"], arrays["features.3.weight_mask"] = arrays.pop("features.3.weight"), mask
    folder = make_entry(tmp_path, arrays, weights_path="weights/mnist_cnn.npz")
    ref = reference_outputs(EVENT, folder, images)
    oracle = {**shrunk, "classifier.1.weight": dequantize(q, arrays["classifier.1.weight_scale"]),
              "features.3.weight": shrunk["features.3.weight"] * mask}
    np.testing.assert_allclose(ref, torch_cnn(oracle, images), rtol=1e-4, atol=1e-4)
    assert conformance_record("closed", torch_cnn(oracle, images), ref, "logits")["verdict"] == "conforms"


def test_outputs_of_other_weights_fail_and_are_refused(images, state):
    ref = reference_outputs(EVENT, BASELINE_DIR, images)
    pruned_at_run_time = shrink_cnn(state, 32, 64, 128)
    weak = np.argsort(np.abs(state["features.3.weight"]).reshape(64, -1).sum(1))[:32]
    pruned_at_run_time["features.3.weight"] = state["features.3.weight"].copy()
    pruned_at_run_time["features.3.weight"][weak] = 0
    for cheat in (torch_cnn(pruned_at_run_time, images), np.zeros_like(ref), ref + 2 * RTOL * np.abs(ref).max()):
        record = conformance_record("closed", cheat, ref, "logits")
        assert record["verdict"] == "fails" and is_refused(record)
        assert record["max_abs_diff"] > record["tolerance"] and "worst at index" in record["reason"]


@pytest.mark.parametrize("candidate, words", [(None, "no logits"), (np.zeros((3, 10)), "shape"),
                                              (np.full((300, 10), np.nan), "NaN")])
def test_missing_malformed_or_non_finite_outputs_fail(images, candidate, words):
    ref = reference_outputs(EVENT, BASELINE_DIR, images)
    record = conformance_record("closed", candidate, ref, "logits")
    assert record["verdict"] == "fails" and words in record["reason"] and is_refused(record)


def test_open_division_is_not_checked_and_never_refused():
    record = conformance_record("open", np.zeros((2, 10)), None, "logits")
    assert record == {"division": "open", "verdict": "not_checked", "reason": record["reason"], "max_abs_diff": None,
                      "tolerance": None}
    assert not is_refused(record) and not is_refused(failed_record("open", "no reference"))


def test_a_non_closed_entry_has_no_reference(tmp_path, state):
    arrays = dict(state)
    arrays["conv1.weight"] = arrays.pop("features.0.weight")
    with pytest.raises(ConformanceError, match=r"features.0.weight.*missing"):
        reference_outputs(EVENT, make_entry(tmp_path, arrays), np.zeros((1, 1, 28, 28), np.float32))
    with pytest.raises(ConformanceError, match="exactly one mnist_cnn.npz, found 0"):
        reference_outputs(EVENT, tmp_path / "nothing", np.zeros((1, 1, 28, 28), np.float32))
    record = failed_record("closed", "features.0.weight missing")
    assert record["verdict"] == "fails" and is_refused(record) and "features.0.weight" in record["reason"]


def test_gpt_reference_with_a_shrunk_feed_forward(tmp_path):
    gpt = baseline_state("shakespeare_gpt")
    tokens = np.random.default_rng(0).integers(0, 84, (2, 32))
    full = reference_outputs("transformer_decathlon", BASELINE_DIR, tokens)
    direct = arch.load_into(arch.build("shakespeare_gpt"), gpt)(tokens).numpy()
    np.testing.assert_array_equal(full, direct)
    keep = np.argsort(-np.abs(gpt["blocks.2.linear2.weight"]).sum(0))[:384]
    shrunk = {**gpt, "blocks.2.linear1.weight": gpt["blocks.2.linear1.weight"][keep],
              "blocks.2.linear1.bias": gpt["blocks.2.linear1.bias"][keep],
              "blocks.2.linear2.weight": np.ascontiguousarray(gpt["blocks.2.linear2.weight"][:, keep])}
    folder = make_entry(tmp_path, shrunk, events=("transformer_decathlon",), weights_path="shakespeare_gpt.npz")
    ref = reference_outputs("transformer_decathlon", folder, tokens)
    assert ref.shape == (2, 32, 84) and np.isfinite(ref).all() and not np.array_equal(ref, full)


def test_trained_model_state_is_checked_and_run(state):
    mlp = {k: np.asarray(v.data) for k, v in arch.build("mnist_mlp").state_dict().items()}
    inputs = np.random.default_rng(1).random((4, 784), np.float32)
    out = reference_outputs_from_state("mlp_sprint_offline", mlp, inputs)
    assert out.shape == (4, 10)
    with pytest.raises(ConformanceError, match="layers.0.weight"):
        reference_outputs_from_state("mlp_sprint_offline", {k: v for k, v in mlp.items() if k != "layers.0.weight"}, inputs)


def test_folded_batch_norm_runs_as_identity():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2)).eval()
    weight = np.random.default_rng(2).standard_normal((2, 1, 3, 3)).astype(np.float32)
    folded = arch.load_into(model, {"0.weight": weight, "0.bias": np.array([0.5, -1.0], np.float32)})
    x = np.random.default_rng(3).random((1, 1, 5, 5), np.float32)
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), torch.tensor([0.5, -1.0])).numpy()
    np.testing.assert_allclose(folded(tt.from_numpy(x)).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_check_run_never_raises_and_covers_every_case(tmp_path, images, state):
    from competition.conformance import check_run

    ref = reference_outputs(EVENT, BASELINE_DIR, images)
    assert check_run(EVENT, "closed", BASELINE_DIR, images, ref)["verdict"] == "conforms"
    assert check_run(EVENT, "open", tmp_path, images, None)["verdict"] == "not_checked"
    renamed = {("conv1.weight" if k == "features.0.weight" else k): v for k, v in state.items()}
    record = check_run(EVENT, "closed", make_entry(tmp_path, renamed), images, ref)
    assert is_refused(record) and "features.0.weight" in record["reason"] and record["max_abs_diff"] is None
    record = check_run("mlp_sprint_offline", "closed", tmp_path, images, None)
    assert record["verdict"] == "not_checked" and "trained" in record["reason"]
    nan = {**state, "classifier.3.bias": np.full(10, np.nan, np.float32)}
    record = check_run(EVENT, "closed", make_entry(tmp_path, nan, name="nan"), images, ref)
    assert is_refused(record) and "NaN" in record["reason"] and record["tolerance"] is None


def test_inputs_the_reference_cannot_take_are_a_conformance_error():
    with pytest.raises(ConformanceError, match="cannot run on inputs"):
        reference_outputs(EVENT, BASELINE_DIR, np.zeros((2, 3, 5), np.float32))
