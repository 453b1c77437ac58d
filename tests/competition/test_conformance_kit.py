"""What the optimization kit writes is closed: entries made with tinytorch.quantization, tinytorch.nn.utils.prune,
shrink, fuse_modules and save_sparse pass the static check, and the harness's reference reproduces the kit
model's own outputs within what float32 reordering explains (the kit model stands for the entry's timed outputs)."""

import numpy as np
import pytest

import tinytorch as tt
from competition.conformance import conformance_record, reference_outputs
from competition.validation import validate_path
from tests.fixtures.closed_entries import make_entry
from tinytorch.data.bundled import bundled_mnist
from tinytorch.models import pretrained

quantization = pytest.importorskip("tinytorch.quantization")
prune = pytest.importorskip("tinytorch.nn.utils.prune")
sparse = pytest.importorskip("tinytorch.nn.utils.sparse")

EVENT = "cnn_marathon_offline"


@pytest.fixture(scope="module")
def images():
    inputs, _ = bundled_mnist("test")
    return (inputs[:200].astype(np.float32) / 255)[:, None]


def arrays_of(model):
    return {key: np.asarray(value.data) for key, value in model.state_dict().items()}


def outputs(model, images):
    """The model's logits in calls of 100 images, as the harness times them (a dynamic quantizer's range is that of
    each call)."""
    with tt.no_grad():
        return np.concatenate([model(tt.from_numpy(images[i:i + 100])).numpy() for i in range(0, len(images), 100)])


def assert_closed_and_conforming(tmp_path, model, images, name, save=None):
    folder = make_entry(tmp_path, {}, name=name)
    (save or tt.save)(model.state_dict(), folder / "mnist_cnn.npz")
    assert validate_path(folder) == []
    record = conformance_record("closed", outputs(model, images), reference_outputs(EVENT, folder, images), "logits")
    assert record["verdict"] == "conforms", record["reason"]
    return record


@pytest.mark.parametrize("dtype", ["int8", "int4"])
def test_quantize_dynamic(tmp_path, images, dtype):
    model = quantization.quantize_dynamic(pretrained("mnist_cnn"), {tt.nn.Linear, tt.nn.Conv2d},
                                          dtype=np.int8 if dtype == "int8" else "int4")
    assert_closed_and_conforming(tmp_path, model, images, dtype)


def test_fused_static_int8(tmp_path, images):
    model = quantization.fuse_modules(pretrained("mnist_cnn").eval(), [["features.0", "features.1"],
                                                                        ["classifier.1", "classifier.2"]])
    observed = quantization.prepare(model)
    quantization.calibrate(observed, [tt.from_numpy(images[:100])])
    assert_closed_and_conforming(tmp_path, quantization.convert(observed), images, "static")


def test_pruned_then_shrunk_and_sparse(tmp_path, images):
    model = pretrained("mnist_cnn")
    conv = model.features[3]
    prune.ln_structured(conv, "weight", 0.5, n=2, dim=0)
    prune.custom_from_mask(conv, "bias", conv.weight_mask.data.reshape(64, -1).any(1))
    prune.l1_unstructured(model.classifier[1], "weight", 0.8)
    assert {"features.3.weight_orig", "classifier.1.weight_mask"} <= set(model.state_dict())
    assert_closed_and_conforming(tmp_path, model, images, "masks")
    prune.shrink(model, images[:1])
    assert model.features[3].weight.shape[0] == 32
    assert_closed_and_conforming(tmp_path, model, images, "sparse", save=sparse.save_sparse)


def test_fused_float_kernels(tmp_path, images):
    """tinytorch's fused Conv+ReLU and Linear+ReLU kernels sum in their own order: within the float32 bound."""
    model = quantization.fuse_modules(pretrained("mnist_cnn").eval(), [["features.0", "features.1"],
                                                                        ["features.3", "features.4"],
                                                                        ["classifier.1", "classifier.2"]])
    record = assert_closed_and_conforming(tmp_path, model, images, "fused")
    assert record["max_abs_diff"] < record["tolerance"] / 2
