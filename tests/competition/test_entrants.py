"""The example entrants in submissions/ (built by scripts/build_entrants.py): each passes `tito submit
--validate-only`, the closed ones the static closed-division check; their model.py, run the way the worker runs it
(imported from the folder), meets the event's quality bar; the GPT's generate is greedy decoding of its own
next_token_logits, as the harness checks."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from competition.conformance import check_folder
from competition.conformance import generation as closed_generation
from competition.measure import verify
from competition.validation import BASELINE_DIR, validate_path
from tinytorch.data.bundled import bundled_mnist, shakespeare_text, shakespeare_tokenizer

ROOT = Path(__file__).resolve().parents[2]
ENTRANTS = ["int8-cnn", "pruned-int8-cnn", "distilled-cnn", "sliding-kv-gpt", "onecycle-mlp"]


def folder(name: str) -> Path:
    return ROOT / "submissions" / name


def manifest(name: str) -> dict:
    return yaml.safe_load((folder(name) / "submission.yaml").read_text(encoding="utf-8"))


def entry_module(name: str, monkeypatch):
    """model.py imported with the folder as working directory (weights are loaded by file name, as in the worker)."""
    monkeypatch.chdir(folder(name))
    spec = importlib.util.spec_from_file_location(f"entrant_{name.replace('-', '_')}", folder(name) / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_builder_knows_every_entrant():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_entrants
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert sorted(build_entrants.ENTRANTS) == sorted(ENTRANTS)


@pytest.mark.parametrize("name", ENTRANTS)
def test_entrant_passes_tito_submit_validate_only(name):
    result = subprocess.run([sys.executable, "-m", "competition.cli", "submit", "--validate-only", str(folder(name))],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert validate_path(folder(name)) == []


@pytest.mark.parametrize("name", [n for n in ENTRANTS if manifest(n)["division"] == "closed"])
def test_closed_entrant_passes_the_static_closed_division_check(name):
    assert check_folder(folder(name), BASELINE_DIR, manifest(name)["events"]) == []


@pytest.mark.parametrize("name", [n for n in ENTRANTS if "cnn_marathon_offline" in manifest(n)["events"]])
def test_cnn_entrant_meets_the_accuracy_floor_and_ships_fewer_bytes(name, monkeypatch):
    module = entry_module(name, monkeypatch)
    images, labels = bundled_mnist("test")
    logits = module.predict(module.load("cnn_marathon_offline"), images[:, None].astype(np.float32) / 255.0)
    assert (logits.argmax(1) == labels).mean() >= 0.95
    assert (folder(name) / "mnist_cnn.npz").stat().st_size < (BASELINE_DIR / "mnist_cnn.npz").stat().st_size / 2


def test_gpt_entrant_generates_greedily_from_its_own_logits_past_the_context(monkeypatch):
    module = entry_module("sliding-kv-gpt", monkeypatch)
    model = module.load("transformer_decathlon")
    tokens = np.asarray(shakespeare_tokenizer().encode(shakespeare_text("validation")[:2000]))
    sequence = module.generate(model, tokens[None, 100:164], 256)
    assert sequence.shape == (1, 320)
    assert verify.greedy_mismatches(sequence, 64, module.next_token_logits(model, sequence[:, :128])[0]) == []
    assert closed_generation.stated_reencode_every(folder("sliding-kv-gpt")) == 128
    assert closed_generation.greedy_failure("transformer_decathlon", folder("sliding-kv-gpt"), [sequence], [64],
                                            np.random.default_rng(0), samples=8) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", ["int8-cnn", "sliding-kv-gpt"])
def test_the_builder_reproduces_the_committed_weights(name, tmp_path):
    """Bit-identical weights, the same model.py and submission.yaml; --readme-only then rewrites the README of the
    built folder (from the builder's own table and the weights, not from model.py)."""
    result = subprocess.run([sys.executable, "scripts/build_entrants.py", name, "--out", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for weights in folder(name).glob("*.npz"):
        built, committed = np.load(tmp_path / name / weights.name), np.load(weights)
        assert sorted(built.files) == sorted(committed.files)
        assert all(np.array_equal(built[key], committed[key]) for key in committed.files)
    assert (tmp_path / name / "model.py").read_text() == (folder(name) / "model.py").read_text()
    assert (tmp_path / name / "submission.yaml").read_text() == (folder(name) / "submission.yaml").read_text()
    rewritten = subprocess.run([sys.executable, "scripts/build_entrants.py", name, "--readme-only", "--out",
                                str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rewritten.returncode == 0, rewritten.stderr
    assert "bytes (baseline" in (tmp_path / name / "README.md").read_text(encoding="utf-8")


def test_training_entrant_reaches_the_target_in_fewer_epochs_than_the_baseline(monkeypatch):
    """onecycle-mlp's train(), run as the worker runs it, reaches mlp_sprint_offline's 92 % on the bundled test images
    within its 3-epoch cycle; the baseline's train() has not reached it by then."""
    images, labels = bundled_mnist("train")
    test, test_labels = bundled_mnist("test")
    images, test = (a[:, None].astype(np.float32) / 255.0 for a in (images, test))

    def accuracies(name: str, epochs: int) -> list[float]:
        module = entry_module(name, monkeypatch)
        models = module.train("mlp_sprint_offline", images, labels, 0)
        return [float((module.predict(next(models), test).argmax(1) == test_labels).mean()) for _ in range(epochs)]

    assert max(accuracies("onecycle-mlp", 3)) >= 0.92
    assert max(accuracies("baseline", 3)) < 0.92
