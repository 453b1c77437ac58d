"""The course API (tinytorch.competition): optimize_closed_division keeps the closed division's forms and its
recipe rebuilds the same model; generate_submission(model=...) writes a folder and a submission.json that pass
`tito submit --validate-only`; bad input gets a clear error."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinytorch as tt
from competition.conformance import check_folder
from competition.validation import BASELINE_DIR, validate_path
from tinytorch import nn
from tinytorch.competition import (generate_submission, load_entry, optimize_closed_division, sliding_window_logits,
                                   write_entry)
from tinytorch.data.bundled import bundled_mnist
from tinytorch.models import GPT, pretrained
from tinytorch.nn.intrinsic import ConvReLU2d

ROOT = Path(__file__).resolve().parents[2]
WHO = {"athlete_name": "Ada Lovelace", "github_repo": "https://github.com/ada/tinymlperf"}


@pytest.fixture(scope="module")
def cnn():
    return pretrained("mnist_cnn")


@pytest.fixture(scope="module")
def images():
    x, y = bundled_mnist("test")
    return x[:200, None].astype(np.float32) / 255.0, y[:200]


def logits(model, x):
    with tt.no_grad():
        return model(tt.from_numpy(x)).numpy()


def write(tmp_path, model, event="cnn_marathon_offline", **kw):
    return write_entry(tmp_path / "ada", model, events=[event], **{**WHO, **kw})


@pytest.mark.parametrize("techniques", [["quantization"], ["int4"], ["pruning", "quantization"],
                                        ["structured_pruning", "fusion", "quantization"], ["fusion"]])
def test_optimized_cnn_is_closed_and_its_recipe_rebuilds_it(cnn, images, tmp_path, techniques):
    model = optimize_closed_division(cnn, techniques)
    folder = write(tmp_path, model)
    assert check_folder(folder, BASELINE_DIR, ["cnn_marathon_offline"]) == []
    assert validate_path(folder) == []
    rebuilt = load_entry(model.recipe, str(folder / "mnist_cnn.npz"))
    reference = logits(load_entry(model.recipe, str(folder / "mnist_cnn.npz"), dequantize=False), images[0])
    np.testing.assert_allclose(logits(rebuilt, images[0]), reference, rtol=0.02, atol=0.05 * np.abs(reference).max())
    accuracy = (logits(rebuilt, images[0]).argmax(1) == images[1]).mean()
    assert accuracy >= 0.95, f"{techniques}: accuracy {accuracy}"


def test_quantization_ships_int8_codes_and_a_quarter_of_the_bytes(cnn, tmp_path):
    folder = write(tmp_path, optimize_closed_division(cnn, ["quantization"]))
    shipped = np.load(folder / "mnist_cnn.npz")
    assert shipped["features.3.weight"].dtype == np.int8 and shipped["features.3.weight_scale"].shape == (64,)
    assert (folder / "mnist_cnn.npz").stat().st_size <= 0.3 * (BASELINE_DIR / "mnist_cnn.npz").stat().st_size


def test_structured_pruning_halves_the_chained_widths_but_not_the_output(cnn):
    model = optimize_closed_division(cnn, ["structured_pruning"], amount=0.5)
    assert model.recipe["shapes"] == {"features.0": [16, 1, 3, 3], "features.3": [32, 16, 3, 3],
                                      "classifier.1": [64, 1568], "classifier.3": [10, 64]}


def test_unstructured_pruning_is_stored_sparse(cnn, tmp_path):
    folder = write(tmp_path, optimize_closed_division(cnn, ["pruning"], amount=0.9))
    keys = set(np.load(folder / "mnist_cnn.npz").files)
    assert "classifier.1.weight::bitmask" in keys and "classifier.1.weight" not in keys
    assert (folder / "mnist_cnn.npz").stat().st_size < 0.25 * (BASELINE_DIR / "mnist_cnn.npz").stat().st_size


def test_fusion_builds_fused_modules(cnn):
    model = optimize_closed_division(cnn, ["fusion"])
    assert isinstance(model.features[0], ConvReLU2d)
    assert model.recipe["fuse"] == [["features.0", "features.1"], ["features.3", "features.4"],
                                    ["classifier.1", "classifier.2"]]


def test_the_input_model_is_left_unchanged(cnn):
    before = {k: v.data.copy() for k, v in cnn.state_dict().items()}
    optimize_closed_division(cnn, ["structured_pruning", "quantization"])
    assert all(np.array_equal(before[k], v.data) for k, v in cnn.state_dict().items())


@pytest.mark.parametrize("techniques, error, match", [
    (["quantisation"], ValueError, "unknown technique.*'quantisation'.*known: quantization"),
    ([], ValueError, "at least one technique"),
    (["pruning", "structured_pruning"], ValueError, "not both"),
    (["kv_cache"], ValueError, "GPT models only"),
])
def test_bad_techniques_get_clear_errors(cnn, techniques, error, match):
    with pytest.raises(error, match=match):
        optimize_closed_division(cnn, techniques)


def test_bad_amount_and_foreign_models_are_refused(cnn):
    with pytest.raises(ValueError, match=r"amount=1.5 must be in \[0, 1\)"):
        optimize_closed_division(cnn, ["pruning"], amount=1.5)
    with pytest.raises(TypeError, match="reference models.*open division"):
        optimize_closed_division(nn.Sequential(nn.Linear(4, 2)), ["quantization"])


def tiny_gpt():
    tt.manual_seed(0)
    return GPT(vocab_size=20, context_length=16, d_model=16, n_heads=2, n_layers=1).eval()


@pytest.mark.parametrize("reencode_every", [4, 8, 15])
def test_sliding_window_logits_are_what_generate_decodes_greedily(reencode_every):
    gpt = tiny_gpt()
    prompt = (np.arange(5)[None] * 3) % 20
    tokens = gpt.generate(prompt, 40, temperature=0.0, reencode_every=reencode_every).numpy()
    predicted = sliding_window_logits(gpt, tokens[:, :-1], reencode_every).argmax(-1)
    np.testing.assert_array_equal(predicted[0, 4:], tokens[0, 5:])


def test_sliding_window_logits_up_to_the_context_are_the_forward():
    gpt = tiny_gpt()
    tokens = np.arange(12)[None]
    np.testing.assert_allclose(sliding_window_logits(gpt, tokens, 4), logits(gpt, tokens), rtol=1e-6)


def test_kv_cache_gpt_entry_is_closed_and_generates_from_its_model_py(tmp_path):
    model = optimize_closed_division(pretrained("shakespeare_gpt"), ["kv_cache", "quantization"])
    assert model.recipe["reencode_every"] == 128
    folder = write(tmp_path, model, event="transformer_decathlon")
    assert validate_path(folder, run_entry=True) == []  # loads and answers next_token_logits in the jail
    source = (folder / "model.py").read_text()
    assert "REENCODE_EVERY = 128" in source and "reencode_every=REENCODE_EVERY" in source
    assert "def next_token_logits" in source


@pytest.mark.parametrize("field, value, match", [
    ("division", "closedish", "division must be 'closed' or 'open'"),
    ("athlete_name", " ", "athlete_name is required"),
    ("github_repo", "github.com/ada", "must look like https://github.com/OWNER/REPO"),
])
def test_generate_submission_refuses_bad_fields(cnn, tmp_path, field, value, match):
    kwargs = {**WHO, "division": "closed", field: value}
    with pytest.raises(ValueError, match=match):
        generate_submission(model=cnn, event="cnn_marathon_offline", out_dir=tmp_path / "ada", measure=False, **kwargs)
    assert not (tmp_path / "ada" / "model.py").exists()


def test_generate_submission_needs_an_event_and_a_model_or_folder(cnn, tmp_path):
    from tinytorch.models import MLP

    with pytest.raises(ValueError, match="which event does a MLP enter"):
        generate_submission(model=MLP(), out_dir=tmp_path)
    with pytest.raises(ValueError, match="pass model="):
        generate_submission(event="cnn_marathon_offline")
    with pytest.raises(ValueError, match="must all run one of the saved models"):
        generate_submission(model=cnn, event="mlp_sprint", out_dir=tmp_path, measure=False, **WHO)


def tito(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "competition.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_generate_submission_folder_passes_tito_validate_only(cnn, tmp_path):
    model = optimize_closed_division(cnn, ["quantization"])
    folder = generate_submission(model=model, division="closed", event="cnn_marathon_offline",
                                 techniques_used=["int8_quantization"], out_dir=tmp_path / "ada", measure=False, **WHO)
    result = tito("submit", "--validate-only", folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


@pytest.mark.slow
def test_generate_submission_measures_and_its_json_passes_tito_submit_file(cnn, tmp_path, capsys):
    model = optimize_closed_division(cnn, ["quantization"])
    report = generate_submission(model=model, division="closed", event="cnn_marathon_offline", quick=True,
                                 techniques_used=["int8_quantization"], out_dir=tmp_path / "ada", **WHO)
    assert report == tmp_path / "ada" / "submission.json"
    assert "- speedup vs the baseline: " in (tmp_path / "ada" / "README.md").read_text()
    out = capsys.readouterr().out.splitlines()  # the verdict (one line within 80 columns) and where it went
    assert out[-2].startswith("cnn_marathon_offline: ") and len(out[-2]) <= 80 and out[-1] == f"wrote {report}"
    result = tito("submit", "--file", report, "--validate-only")
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text(report.read_text().replace('"division": "closed"', '"division": "secret"'))
    assert tito("submit", "--file", broken, "--validate-only").returncode == 1


def test_the_course_calls_work_as_the_course_prints_them(cnn, tmp_path, monkeypatch):
    """Issue 18.2: the capstone's own calls (no event=, 'kvcaching' among a CNN's techniques, free-text techniques,
    design_open_division imported) write an entry that loads."""
    from tinytorch.competition import design_open_division

    with pytest.warns(UserWarning, match="GPT generation only"):
        optimized_model = optimize_closed_division(cnn, techniques=["kvcaching", "quantization", "pruning"])
    folder = generate_submission(model=optimized_model, division="closed",
                                 github_repo="https://github.com/yourname/tinytorch-submission",
                                 techniques_used=["INT8 quantization", "90% magnitude pruning", "KV caching"],
                                 athlete_name="Ada Lovelace", out_dir=tmp_path / "yourname", measure=False)
    assert "cnn_marathon_offline" in (folder / "submission.yaml").read_text()
    assert validate_path(folder, run_entry=True) == []
    mine = design_open_division(pretrained("mnist_cnn"))
    assert mine.division == "open"
    opened = generate_submission(model=mine, athlete_name="Ada", github_repo="https://github.com/ada/tinymlperf",
                                 out_dir=tmp_path / "open", measure=False, show_progress=False)
    assert "division: open" in (opened / "submission.yaml").read_text()
