"""tinytorch.rebuild.load_model: every form the optimization kit saves (pruned, shrunk, int8, int4, fused, static,
sparse, distilled, a quantized GPT) rebuilds from the weights file alone and computes what the saved model computes;
the model.py that `tito submission new` and generate_submission write loads the README's worked example."""

import contextlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.competition import generate_submission, model_source
from tinytorch.data import bundled_mnist, to_float_images
from tinytorch.models import pretrained
from tinytorch.nn.utils import prune
from tinytorch.nn.utils.sparse import save_sparse
from tinytorch.quantization import convert, fuse_modules, prepare, quantize_dynamic
from tinytorch.rebuild import load_model

ROOT = Path(__file__).resolve().parents[2]
FUSE = [["features.0", "features.1"], ["features.3", "features.4"], ["classifier.1", "classifier.2"]]


@pytest.fixture(scope="module")
def x():
    images, _ = bundled_mnist("test")
    return to_float_images(images[:64])


def halved(x):
    """The README's worked example before quantization: half the channels pruned, then shrunk."""
    model = pretrained("mnist_cnn").eval()
    for layer in (model.features[0], model.features[3], model.classifier[1]):
        prune.channels(layer, amount=0.5)
    return prune.shrink(model, tt.tensor(x))


def masked(_):
    model = pretrained("mnist_cnn").eval()
    for layer in (model.features[0], model.features[3], model.classifier[1], model.classifier[3]):
        prune.l1_unstructured(layer, "weight", 0.9)
    return model


def static(x):
    model = prepare(pretrained("mnist_cnn").eval(), {tt.nn.Linear, tt.nn.Conv2d})
    with tt.no_grad():
        model(tt.tensor(x))
    return convert(model)


FORMS = {
    "masks attached": lambda x: masked(x),
    "shrunk": halved,
    "shrunk + int8": lambda x: quantize_dynamic(halved(x), {tt.nn.Linear, tt.nn.Conv2d}, dtype=tt.int8),
    "shrunk + int4": lambda x: quantize_dynamic(halved(x), {tt.nn.Linear, tt.nn.Conv2d}, dtype="int4"),
    "fused": lambda x: fuse_modules(pretrained("mnist_cnn").eval(), FUSE),
    "fused + int4": lambda x: quantize_dynamic(fuse_modules(pretrained("mnist_cnn").eval(), FUSE),
                                               {tt.nn.Linear, tt.nn.Conv2d}, dtype="int4"),
    "static int8": static,
    "distilled student": lambda x: load_model(ROOT / "submissions/distilled-cnn/mnist_cnn.npz"),
}


def outputs(model, x):
    with tt.no_grad():
        return model.eval()(tt.tensor(x)).numpy()


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("sparse", [False, True])
def test_every_kit_form_rebuilds_from_its_weights_alone(tmp_path, x, form, sparse):
    model = FORMS[form](x)
    path = tmp_path / "mnist_cnn.npz"
    (save_sparse if sparse else tt.save)(model.state_dict(), path)
    want, got = outputs(model, x), outputs(load_model(path), x)
    # quantized layers come back as float layers holding the codes' values; the kit's quantized layers also round
    # activations per call, so those differ by that rounding only
    assert np.abs(want - got).max() <= 0.02 * np.abs(want).max()
    assert (want.argmax(1) == got.argmax(1)).mean() >= 0.95
    exact = outputs(load_model(path, dequantize=False), x)
    if form != "static int8":  # static activation qparams are rebuilt as dynamic quantization
        np.testing.assert_allclose(exact, want, rtol=1e-5, atol=1e-5)


def test_a_quantized_gpt_rebuilds(tmp_path):
    model = quantize_dynamic(pretrained("shakespeare_gpt"), {"blocks.0.linear1": tt.int8, "blocks.1.linear2": "int4"})
    tt.save(model.state_dict(), tmp_path / "shakespeare_gpt.npz")
    tokens = np.arange(24).reshape(1, 24)
    with tt.no_grad():
        np.testing.assert_allclose(load_model(tmp_path / "shakespeare_gpt.npz", dequantize=False)(tokens).numpy(),
                                   model(tokens).numpy(), rtol=1e-5, atol=1e-5)


def test_weights_of_another_architecture_get_a_clear_error(tmp_path):
    tt.save({"conv1.weight": tt.zeros(4, 1, 3, 3)}, tmp_path / "mnist_cnn.npz")
    with pytest.raises(ValueError, match=r"no features\.0\.weight"):
        load_model(tmp_path / "mnist_cnn.npz")


def import_model_py(folder: Path):
    spec = importlib.util.spec_from_file_location(f"entry_{folder.name}", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_scaffold_model_py_loads_the_readme_worked_example(tmp_path, x):
    """Issue 18.1: prune + shrink + int8 saved over the scaffold's weights used to fail at load (strict keys)."""
    folder = tmp_path / "ada"
    folder.mkdir()
    (folder / "model.py").write_text(model_source(["cnn_marathon_offline", "transformer_decathlon", "mlp_sprint"]))
    model = quantize_dynamic(halved(x), {tt.nn.Linear, tt.nn.Conv2d}, dtype=tt.int8)
    tt.save(model.state_dict(), folder / "mnist_cnn.npz")
    entry = import_model_py(folder)
    with contextlib.chdir(folder):
        loaded = entry.load("cnn_marathon_offline")
    scores = entry.predict(loaded, x)
    assert scores.shape == (len(x), 10)
    assert (scores.argmax(1) == outputs(model, x).argmax(1)).mean() >= 0.95


def test_generate_submission_of_a_hand_optimized_model_loads(tmp_path, x, capsys):
    """Issue 18.2: a model optimized by hand (no recipe) became a folder whose load() crashed."""
    model = quantize_dynamic(halved(x), {tt.nn.Linear, tt.nn.Conv2d}, dtype=tt.int8)
    folder = generate_submission(model=model, athlete_name="Ada", github_repo="https://github.com/ada/tinymlperf",
                                 out_dir=tmp_path / "ada", measure=False)
    assert f"wrote {folder}" in capsys.readouterr().out
    entry = import_model_py(folder)
    with contextlib.chdir(folder):
        loaded = entry.load("cnn_marathon_offline")
    assert entry.predict(loaded, x).shape == (len(x), 10)
    generate_submission(model=model, athlete_name="Ada", github_repo="https://github.com/ada/tinymlperf",
                        out_dir=tmp_path / "quiet", measure=False, show_progress=False)
    assert capsys.readouterr().out == ""
