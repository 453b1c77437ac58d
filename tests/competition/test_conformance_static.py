"""Closed division, static half: hand-built entries from the real baseline weights under the kit's forms pass;
renamed, missing, extra, wider, inconsistently shrunk or stray weights fail, each problem naming file and key."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from competition.validation import validate_path
from tests.fixtures.closed_entries import (baseline_state, int8_entry_arrays, make_entry, pack_int4, prune_l1,
                                           quantize_int8, shrink_cnn)


@pytest.fixture(scope="module")
def state():
    return baseline_state()


def fields(problems):
    return {(Path(p.file).name, p.field) for p in problems}


def test_unchanged_baseline_weights_are_closed(tmp_path, state):
    assert validate_path(make_entry(tmp_path, state)) == []


def test_int8_entry_with_per_channel_scales_and_zero_points(tmp_path, state):
    arrays = int8_entry_arrays(state)
    arrays["classifier.3.weight_zero_point"] = np.zeros(10, np.int64)
    arrays["features.0.bias"] = state["features.0.bias"].astype(np.float16)
    assert validate_path(make_entry(tmp_path, arrays)) == []


def test_int4_packed_entry(tmp_path, state):
    arrays = dict(state)
    for key in ("features.3.weight", "classifier.1.weight", "classifier.3.weight"):
        arrays[key], arrays[key + "_scale"], _ = pack_int4(state[key])
    assert arrays["features.3.weight"].shape == (64, 144) and arrays["classifier.1.weight"].shape == (128, 1568)
    assert validate_path(make_entry(tmp_path, arrays)) == []
    arrays["classifier.1.weight"] = arrays["classifier.1.weight"][:, :-1]
    [problem] = validate_path(make_entry(tmp_path, arrays, name="short"))
    assert problem.field == "classifier.1.weight" and "(128, 1568)" in problem.message


def test_pytorch_pruning_forms_and_applied_masks(tmp_path, state):
    arrays = dict(state)
    mask = prune_l1(state["classifier.1.weight"], 0.9)
    del arrays["classifier.1.weight"]
    arrays["classifier.1.weight_orig"], arrays["classifier.1.weight_mask"] = state["classifier.1.weight"], mask
    arrays["features.3.weight"] = state["features.3.weight"] * prune_l1(state["features.3.weight"], 0.5)
    assert validate_path(make_entry(tmp_path, arrays)) == []
    del arrays["classifier.1.weight_mask"]
    [problem] = validate_path(make_entry(tmp_path, arrays, name="no-mask"))
    assert problem.field == "classifier.1.weight_orig" and "weight_mask" in problem.message


def test_pruned_and_shrunk_int8_entry_in_a_subfolder(tmp_path, state):
    arrays = int8_entry_arrays(shrink_cnn(state, 16, 24, 40))
    folder = make_entry(tmp_path, arrays, weights_path="weights/int8/mnist_cnn.npz")
    assert validate_path(folder) == []


def test_renamed_key_is_missing_plus_extra(tmp_path, state):
    arrays = dict(state)
    arrays["conv1.weight"] = arrays.pop("features.0.weight")
    assert fields(validate_path(make_entry(tmp_path, arrays))) == {("mnist_cnn.npz", "features.0.weight"),
                                                                    ("mnist_cnn.npz", "conv1.weight")}


def test_missing_layer_is_refused_whatever_the_techniques(tmp_path, state):
    arrays = {k: v for k, v in state.items() if not k.startswith("classifier.3.")}
    folder = make_entry(tmp_path, arrays)
    manifest = yaml.safe_load((folder / "submission.yaml").read_text())
    manifest["techniques_used"] = ["fusion", "distillation"]
    (folder / "submission.yaml").write_text(yaml.safe_dump(manifest))
    (folder / "README.md").write_text((folder / "README.md").read_text() + "\nfusion and distillation\n")
    problems = validate_path(folder)
    assert fields(problems) == {("mnist_cnn.npz", "classifier.3.weight"), ("mnist_cnn.npz", "classifier.3.bias")}
    assert all("missing" in p.message for p in problems)


def test_extra_layer_and_stray_weights_anywhere_are_refused(tmp_path, state):
    arrays = {**state, "classifier.5.weight": np.ones((10, 10), np.float32)}
    folder = make_entry(tmp_path, arrays)
    np.savez(folder / "mnist_cnn_lookup.npz", table=np.zeros(3, np.float32))
    (folder / "cache").mkdir()
    np.savez(folder / "cache" / "mnist_cnn.npz", **state)
    problems = validate_path(folder)
    assert fields(problems) == {("mnist_cnn.npz", "classifier.5.weight"), ("mnist_cnn_lookup.npz", None),
                                ("mnist_cnn.npz", None)}
    assert any("second mnist_cnn.npz" in p.message for p in problems)


def test_wider_layer_is_refused(tmp_path, state):
    wide = shrink_cnn(state, 32, 64, 128)
    wide["features.0.weight"] = np.concatenate([wide["features.0.weight"]] * 2)
    wide["features.0.bias"] = np.concatenate([wide["features.0.bias"]] * 2)
    wide["features.3.weight"] = np.concatenate([wide["features.3.weight"]] * 2, axis=1)
    problems = validate_path(make_entry(tmp_path, wide))
    assert ("mnist_cnn.npz", "features.0.weight") in fields(problems)
    assert any("outside 1..32" in p.message for p in problems)


def test_inconsistent_shrink_names_the_consuming_layer(tmp_path, state):
    arrays = dict(state)
    arrays["features.0.weight"], arrays["features.0.bias"] = state["features.0.weight"][:16], state["features.0.bias"][:16]
    [problem] = validate_path(make_entry(tmp_path, arrays))
    assert problem.field == "features.3.weight" and "(64, 16, 3, 3)" in problem.message
    arrays = shrink_cnn(state, 16, 24, 40)
    arrays["classifier.3.weight"] = state["classifier.3.weight"]  # still reads 128 hidden units
    [problem] = validate_path(make_entry(tmp_path, arrays, name="fc"))
    assert problem.field == "classifier.3.weight" and "(10, 40)" in problem.message


@pytest.mark.parametrize("change, field, words", [
    (lambda a: a.update({"features.0.weight": a["features.0.weight"].astype(np.float64)}), "features.0.weight", "float64"),
    (lambda a: a.update({"features.0.weight": quantize_int8(a["features.0.weight"])[0]}), "features.0.weight", "_scale"),
    (lambda a: a.update({"classifier.3.weight": quantize_int8(a["classifier.3.weight"])[0],
                         "classifier.3.weight_scale": np.ones(3, np.float32)}), "classifier.3.weight_scale", "per-channel"),
    (lambda a: a.update({"features.3.weight_mask": np.full((64, 32, 3, 3), 2, np.uint8)}), "features.3.weight_mask", "0 and 1"),
    (lambda a: a.update({"features.3.weight_mask": np.ones((32, 64), bool)}), "features.3.weight_mask", "shape"),
    (lambda a: a.update({"features.3.weight_orig": a["features.3.weight"], "features.3.weight_mask": np.ones((64, 32, 3, 3))}),
     "features.3.weight", "both"),
])
def test_bad_forms_name_key_and_fix(tmp_path, state, change, field, words):
    arrays = dict(state)
    change(arrays)
    problems = validate_path(make_entry(tmp_path, arrays))
    assert field in {p.field for p in problems}
    assert any(words in p.message + p.hint for p in problems if p.field == field)


def test_event_model_must_be_shipped(tmp_path, state):
    folder = make_entry(tmp_path, state, events=("cnn_marathon_offline", "transformer_decathlon"))
    [problem] = validate_path(folder)
    assert problem.field == "events.transformer_decathlon" and "shakespeare_gpt.npz" in problem.message


def test_open_division_may_change_anything(tmp_path, state):
    arrays = {"conv1.weight": np.ones((3, 3), np.float64)}
    assert validate_path(make_entry(tmp_path, arrays, division="open")) == []


def test_gpt_feed_forward_shrink(tmp_path):
    gpt = baseline_state("shakespeare_gpt")
    arrays = dict(gpt)
    arrays["blocks.1.linear1.weight"], arrays["blocks.1.linear1.bias"] = gpt["blocks.1.linear1.weight"][:256], gpt["blocks.1.linear1.bias"][:256]
    arrays["blocks.1.linear2.weight"] = gpt["blocks.1.linear2.weight"][:, :256]
    folder = make_entry(tmp_path, arrays, events=("transformer_decathlon",), weights_path="shakespeare_gpt.npz")
    assert validate_path(folder) == []
    arrays["blocks.1.norm1.weight"] = gpt["blocks.1.norm1.weight"][:64]
    [problem] = validate_path(make_entry(tmp_path, arrays, name="norm", events=("transformer_decathlon",),
                                         weights_path="shakespeare_gpt.npz"))
    assert problem.field == "blocks.1.norm1.weight" and "(128,)" in problem.message


def _bn_baseline(root: Path) -> Path:
    """A miniature baseline whose CNN has conv (no bias) -> batch norm, to test folding."""
    folder = root / "bn-baseline"
    folder.mkdir()
    np.savez(folder / "mnist_cnn.npz", **{
        "features.0.weight": np.ones((4, 1, 3, 3), np.float32),
        "features.1.weight": np.ones(4, np.float32), "features.1.bias": np.zeros(4, np.float32),
        "features.1.running_mean": np.zeros(4, np.float32), "features.1.running_var": np.ones(4, np.float32),
        "features.1.num_batches_tracked": np.array(3, np.int64),
        "classifier.1.weight": np.ones((10, 16), np.float32), "classifier.1.bias": np.zeros(10, np.float32),
    })
    return folder


def test_batch_norm_disappears_only_when_folded(tmp_path):
    baseline = _bn_baseline(tmp_path)
    folded = {"features.0.weight": np.ones((4, 1, 3, 3), np.float32), "features.0.bias": np.zeros(4, np.float32),
              "classifier.1.weight": np.ones((10, 16), np.float32), "classifier.1.bias": np.zeros(10, np.float32)}
    assert validate_path(make_entry(tmp_path, folded), baseline_dir=baseline) == []
    shrunk = {**folded, "features.0.weight": np.ones((2, 1, 3, 3), np.float32), "features.0.bias": np.zeros(2, np.float32),
              "classifier.1.weight": np.ones((10, 8), np.float32)}
    assert validate_path(make_entry(tmp_path, shrunk, name="shrunk"), baseline_dir=baseline) == []
    dropped = {k: v for k, v in folded.items() if k != "features.0.bias"}
    problems = validate_path(make_entry(tmp_path, dropped, name="dropped"), baseline_dir=baseline)
    assert {p.field for p in problems} == {f"features.1.{n}" for n in ("weight", "bias", "running_mean", "running_var",
                                                                         "num_batches_tracked")}


def test_static_activation_quantization_parameters(tmp_path, state):
    arrays = {**int8_entry_arrays(state), "features.0.input_scale": np.array(0.05, np.float32),
              "features.0.input_zero_point": np.array(128, np.int64),
              "classifier.1.input_scale": np.array([0.2], np.float32)}
    assert validate_path(make_entry(tmp_path, arrays)) == []
    arrays["features.3.input_scale"] = np.ones(64, np.float32)
    arrays["feature.3.input_scale"] = np.array(1.0, np.float32)
    assert fields(validate_path(make_entry(tmp_path, arrays, name="bad"))) == {
        ("mnist_cnn.npz", "features.3.input_scale"), ("mnist_cnn.npz", "feature.3.input_scale")}
