"""Submissions that game the measurement protocol with clean NumPy code (no escape needed), run end to end.

Each cheat (tests/fixtures/submissions/cheat_*) is measured against an honest entrant doing the same work, on a
small quick protocol. It must either be disqualified with a clear reason, or leave every number where the honest
work puts it. The honest model (HONEST below) is written next to each fixture's model.py as honest.py, with its
weights (templates.npz: class means of the bundled MNIST training images, and a bigram table for text).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

import competition.run as run_module
import tinytorch.data as ttd
from competition.measure import protocols
from competition.results import validate_result
from competition.run import run_event
from competition.sandbox.process import Worker

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "submissions"
HONEST = '''
import numpy as np

WORK = 2  # random-feature passes per predict: a fixed, measurable cost


def load(event):
    arrays = np.load("templates.npz")
    rng = np.random.default_rng(0)
    return {"w": arrays["w"], "b": arrays["b"], "table": arrays["table"],
            "p": (rng.standard_normal((784, 256)) / 28).astype(np.float32)}


def predict(model, inputs):
    if isinstance(model, Net):
        return model.forward(inputs)[1]
    x = inputs.reshape(len(inputs), -1)
    for _ in range(WORK):
        np.tanh(x @ model["p"])
    return x @ model["w"].T + model["b"]


def next_token_logits(model, tokens):
    return model["table"][tokens]


def generate(model, prompt, max_new_tokens):
    out = list(prompt[0])
    for _ in range(max_new_tokens):
        out.append(int(np.argmax(model["table"][out[-1]])))
    return np.array([out])


class Net:
    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.w1 = (rng.standard_normal((784, 64)) * 0.05).astype(np.float32)
        self.w2 = (rng.standard_normal((64, 10)) * 0.05).astype(np.float32)

    def forward(self, x):
        h = np.maximum(x.reshape(len(x), -1) @ self.w1, 0)
        return h, h @ self.w2


def fit(model, inputs, labels, seed):
    """One epoch of SGD on softmax cross-entropy."""
    rng = np.random.default_rng(seed)
    x_all = inputs.reshape(len(inputs), -1)
    for idx in np.array_split(rng.permutation(len(x_all)), len(x_all) // 32):
        x, y = x_all[idx], labels[idx]
        h, logits = model.forward(x)
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(y)), y] -= 1
        grad_h = (p @ model.w2.T) * (h > 0)
        model.w2 -= 0.3 * (h.T @ p) / len(y)
        model.w1 -= 0.3 * (x.T @ grad_h) / len(y)


def train(event, inputs, labels, seed):
    model = Net(seed)
    for epoch in range(30):
        fit(model, inputs, labels, seed + epoch)
        yield model
'''
pytestmark = pytest.mark.slow
SMALL = dataclasses.replace(protocols.QUICK, rounds=3, min_rounds=3, timing_budget_s=5.0, latency_samples=5,
                            overhead_calls=2, training_rounds=1, min_training_rounds=1, perplexity_windows=4)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    images, labels = ttd.bundled_mnist("train")
    x = ttd.to_float_images(images).reshape(len(labels), -1).astype(np.float64)
    means = np.stack([x[labels == c].mean(axis=0) for c in range(10)])
    table = np.random.default_rng(1).standard_normal((84, 84))  # the event vocabulary: 84 characters
    path = tmp_path_factory.mktemp("weights") / "templates.npz"
    np.savez(path, w=means.astype(np.float32), b=(-0.5 * (means ** 2).sum(axis=1)).astype(np.float32),
             table=table.astype(np.float32))
    return path


def entrant(root: Path, templates: Path, name: str) -> Path:
    """A runnable copy of fixture `name` (or the honest entrant for "honest") with honest.py and its weights."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / name
    if name == "honest":
        folder.mkdir()
        (folder / "model.py").write_text("from honest import *  # noqa: F403\n")
    else:
        shutil.copytree(FIXTURES / name, folder)
    (folder / "honest.py").write_text(HONEST)
    shutil.copy(templates, folder / "templates.npz")
    (folder / "submission.yaml").write_text(f"athlete_name: {name}\ngithub_handle: tester\ndivision: open\n")
    return folder


@pytest.fixture()
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocols, "QUICK", SMALL)


def measured(event: str, cheat: Path, honest: Path) -> dict:
    result = run_event(event, cheat, honest, quick=True)
    validate_result(result)
    return result


@pytest.mark.parametrize("cheat", ["cheat_memo_batch", "cheat_memo_image"])
def test_memoising_predict_gains_nothing(tmp_path: Path, templates: Path, small: None, cheat: str) -> None:
    result = measured("cnn_marathon_offline", entrant(tmp_path, templates, cheat),
                      entrant(tmp_path, templates, "honest"))
    assert result["status"] == "ok", result["errors"]
    assert result["candidate"]["accuracy"] == result["baseline"]["accuracy"] > 0.6
    # every timed pass sees new bytes (fresh order, batches, perturbation): the cache never hits, so the cheat does
    # the honest work plus its hashing. Without the protocol this was a 3 400x "speedup".
    assert result["scores"]["speedup"]["value"] < 1.5


def test_garbage_while_timed_is_disqualified(tmp_path: Path, templates: Path, small: None) -> None:
    result = measured("cnn_marathon_offline", entrant(tmp_path, templates, "cheat_garbage_when_timed"),
                      entrant(tmp_path, templates, "honest"))
    # the zeros it returns while timed are the same row for every input: a constant output (verify.distinct_outputs)
    assert result["status"] == "disqualified" and result["candidate"] is None
    assert "constant output" in result["errors"][-1]["message"]
    assert result["scores"]["qualified"] is False


def test_rounds_that_disagree_disqualify(tmp_path: Path, templates: Path, small: None) -> None:
    result = measured("cnn_marathon_offline", entrant(tmp_path, templates, "cheat_alternating_garbage"),
                      entrant(tmp_path, templates, "honest"))
    assert result["status"] == "disqualified" and result["candidate"] is None
    assert result["errors"][-1]["stage"] == "verify"
    message = result["errors"][-1]["message"]  # its garbage rounds fail whichever check sees them first
    assert "do not agree" in message or "majority" in message or "repeat, bit for bit" in message
    assert result["scores"]["qualified"] is False


@pytest.mark.parametrize("body, reason", [
    ("return np.zeros((len(inputs), 9), np.float32)", "shape (100, 9)"),
    ("return np.full((len(inputs), 10), np.nan, np.float32)", "NaN"),
    ("return np.full((len(inputs), 10), 1e300)", "absurdly large"),
    ("return np.array([['a'] * 10] * len(inputs))", "numeric"),
])
def test_malformed_timed_outputs_disqualify(tmp_path: Path, templates: Path, small: None, body: str,
                                            reason: str) -> None:
    folder = entrant(tmp_path, templates, "honest")
    (folder / "model.py").write_text(f"import numpy as np\nfrom honest import load\n\n\ndef predict(model, inputs):\n"
                                     f"    {body}\n")
    result = measured("cnn_marathon_offline", folder, entrant(tmp_path, templates, "cheat_memo_batch"))
    assert result["status"] in ("disqualified", "failed") and result["candidate"] is None
    assert reason in result["errors"][-1]["message"]


def test_training_hidden_in_predict_is_timed(tmp_path: Path, templates: Path, small: None) -> None:
    result = measured("mlp_sprint_offline", entrant(tmp_path, templates, "cheat_lazy_training"),
                      entrant(tmp_path, templates, "honest"))
    assert result["status"] == "ok", result["errors"]
    cand, base = result["candidate"], result["baseline"]
    assert cand["reached_target"] and base["reached_target"]
    # the cheat's single "epoch" is instant, but the 16 epochs inside its first predict are on the clock
    assert cand["epochs"] == 1 and result["scores"]["speedup"]["value"] < 1.5


def test_generation_that_ignores_the_model_is_disqualified(tmp_path: Path, templates: Path, small: None) -> None:
    result = measured("transformer_decathlon", entrant(tmp_path, templates, "cheat_generate_without_model"),
                      entrant(tmp_path, templates, "honest"))
    assert result["status"] == "disqualified"
    message = result["errors"][-1]["message"]
    assert "not greedy decoding of the model's own next_token_logits" in message and "token 64" in message


def test_honest_generation_passes_the_greedy_check(tmp_path: Path, templates: Path, small: None) -> None:
    result = measured("transformer_decathlon", entrant(tmp_path, templates, "honest"),
                      entrant(tmp_path / "twin", templates, "honest"))
    assert result["status"] == "ok", result["errors"]
    assert result["candidate"]["perplexity"] > 1 and 0 <= result["candidate"]["bleu"] <= 1


def test_tampering_with_meters_inside_the_worker_changes_nothing(tmp_path: Path, templates: Path, small: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "check_folder", lambda folder: [])  # the static check would refuse `import sys`
    honest, cheat = entrant(tmp_path, templates, "honest"), entrant(tmp_path, templates, "cheat_tamper_meters")
    with Worker(cheat) as worker:  # the tampering is live: every reply now carries flattering numbers...
        assert worker.request("import")[0]["time_s"] == 1e-9
    result = measured("cnn_marathon_offline", cheat, honest)  # ...and none of them reaches the result
    assert result["status"] == "ok", result["errors"]
    cand, base = result["candidate"], result["baseline"]
    assert 0.5 < result["scores"]["speedup"]["value"] < 2.0  # the same work: a frozen perf_counter buys nothing
    assert cand["time_s"]["median"] > 1e-3 and cand["accuracy"] == base["accuracy"]
    assert cand["model_size_bytes"] == base["model_size_bytes"] - len("from honest import *  # noqa: F403\n") + len(
        (FIXTURES / "cheat_tamper_meters" / "model.py").read_bytes())
    assert cand["peak_memory"]["external_bytes"] > 1_000_000 and cand["peak_memory"]["tracemalloc_bytes"] is None


def test_a_model_that_lies_about_its_size_is_measured_by_its_files(tmp_path: Path, templates: Path,
                                                                   small: None) -> None:
    liar = entrant(tmp_path, templates, "cheat_size_lie")
    result = measured("cnn_marathon_offline", liar, entrant(tmp_path, templates, "honest"))
    assert result["status"] == "ok", result["errors"]
    arrays = (10 * 784 + 10 + 84 * 84) * 4  # templates.npz as shipped, read from its headers by the parent
    code = sum(len((liar / name).read_bytes()) for name in ("model.py", "honest.py"))
    assert result["candidate"]["model_size_bytes"] == arrays + code and result["candidate"]["parameter_count"] > 14_000


def test_trained_weights_are_believed_only_when_they_reproduce_the_timed_outputs(tmp_path: Path, small: None) -> None:
    baseline = REPO / "submissions" / "baseline"
    liar = tmp_path / "liar"
    shutil.copytree(FIXTURES / "cheat_trained_state_lie", liar)
    shutil.copy(baseline / "model.py", liar / "base_model.py")
    shutil.copy(baseline / "submission.yaml", liar / "submission.yaml")
    result = measured("mlp_sprint_offline", liar, baseline)
    assert result["status"] == "disqualified" and result["conformance"]["verdict"] == "fails"
    assert "not those of the shipped weights" in result["errors"][-1]["message"]
    assert result["baseline"]["model_size_bytes"] == (784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10) * 4
