"""`tito submit --validate-only` says `valid` only for an entry that loads and answers (issue 18.1): the README's
worked example saved under a model.py that rebuilds the full-size float model is invalid, with the load error and
the fix; the same weights under the scaffold's model.py are valid; a syntax error is one problem, not six."""

import subprocess
import sys
from pathlib import Path

import pytest

import tinytorch as tt
from competition.scaffold import new_submission
from competition.validation import BASELINE_DIR, validate_path
from tinytorch.data import bundled_mnist, to_float_images
from tinytorch.models import pretrained
from tinytorch.nn.utils import prune
from tinytorch.quantization import quantize_dynamic

ROOT = Path(__file__).resolve().parents[2]


def worked_example() -> dict:
    """The README's worked example: half the channels, shrunk, int8 (its state_dict)."""
    model = pretrained("mnist_cnn").eval()
    x = to_float_images(bundled_mnist("test")[0][:50])
    for layer in (model.features[0], model.features[3], model.classifier[1]):
        prune.channels(layer, amount=0.5)
    model = prune.shrink(model, tt.tensor(x))
    return quantize_dynamic(model, {tt.nn.Linear, tt.nn.Conv2d}, dtype=tt.int8).state_dict()


@pytest.fixture(scope="module")
def optimized_state():
    return worked_example()


def entry(tmp_path: Path, name: str = "ada") -> Path:
    return new_submission(name, tmp_path / "submissions", github_handle="ada", events=["cnn_marathon_offline"])


def tito(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "competition.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_the_worked_example_under_the_scaffold_model_py_is_valid(tmp_path, optimized_state):
    folder = entry(tmp_path)
    tt.save(optimized_state, folder / "mnist_cnn.npz")
    assert validate_path(folder, run_entry=True) == []


def test_weights_the_model_py_cannot_load_are_invalid_with_the_load_error(tmp_path, optimized_state):
    folder = entry(tmp_path)
    (folder / "model.py").write_text((BASELINE_DIR / "model.py").read_text())  # rebuilds the full-size float CNN
    tt.save(optimized_state, folder / "mnist_cnn.npz")
    assert validate_path(folder) == []  # the static checks cannot see it
    problems = validate_path(folder, run_entry=True)
    assert [p.field for p in problems] == ["load"]
    assert "weight_scale" in problems[0].message and "tinytorch.rebuild.load_model" in problems[0].hint
    result = tito("submit", "--validate-only", folder)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "load failed" in result.stdout and "valid " not in result.stdout


def test_a_predict_that_answers_wrong_is_invalid(tmp_path):
    folder = entry(tmp_path)
    source = (folder / "model.py").read_text()
    (folder / "model.py").write_text(source.replace("return model(tt.from_numpy(inputs)).numpy()",
                                                    "return model(tt.from_numpy(inputs)).numpy()[:, :3]"))
    problems = validate_path(folder, run_entry=True)
    assert [p.field for p in problems] == ["predict"] and "shape" in problems[0].message


def test_one_syntax_error_is_one_problem(tmp_path):
    folder = entry(tmp_path)
    with (folder / "model.py").open("a") as handle:
        handle.write("\ndef broken(:\n")
    problems = validate_path(folder, run_entry=True)
    assert len(problems) == 1 and "syntax error" in problems[0].message


def test_without_the_jail_nothing_runs_and_valid_says_it_was_static(tmp_path, optimized_state, monkeypatch, capsys):
    """Validation also runs on the maintainers' runners before the official run: submission code never runs
    outside the jail there, so without it the load check is not run, and the verdict says so."""
    from competition.cli import main
    from competition.sandbox import jail
    from competition.sandbox import process

    folder = entry(tmp_path)
    (folder / "model.py").write_text((BASELINE_DIR / "model.py").read_text())
    tt.save(optimized_state, folder / "mnist_cnn.npz")
    monkeypatch.setattr(jail, "status", lambda: jail.JailStatus(False, "bubblewrap is not installed"))
    monkeypatch.setattr(process.Worker, "start", lambda self: pytest.fail("submission code ran without the jail"))
    assert validate_path(folder, run_entry=True) == []
    assert main(["submit", "--validate-only", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "checked statically only: the OS jail is unavailable here (bubblewrap is not installed)" in out
