"""Issue 16: the trusted side judges what the harness times. Unit tests of the judges (closed replay of the shipped
weights with float32 ties, the open NLL bound, the stated context policy), then full runs in the jail: a two-faced
next_token_logits is disqualified in both divisions, a closed entry computing with fewer channels than it ships is
refused, and the honest closed entrants (int8, pruned int8, the sliding-KV generator) still conform."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from competition.conformance import generation as closed
from competition.conformance import reference_model
from competition.datasets import load_event_data
from competition.measure import generation, judge, protocols
from competition.results import validate_result
from competition.run import run_event
from competition.validation import BASELINE_DIR
from tinytorch.models import GPT

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "submissions"
SUBMISSIONS = REPO / "submissions"
EVENT = "transformer_decathlon"


@pytest.fixture(scope="module")
def gpt() -> GPT:
    return reference_model(EVENT, BASELINE_DIR)[0]


@pytest.fixture(scope="module")
def tokens() -> np.ndarray:
    return load_event_data("shakespeare", "validation", "generation").tokens


def generated(model: GPT, prompt: np.ndarray, new: int, reencode_every: int | None = None) -> np.ndarray:
    return model.generate(prompt, new, temperature=0.0, use_kv_cache=True, reencode_every=reencode_every).numpy()


def test_the_replayed_windows_are_generates_own(gpt: GPT) -> None:
    """windows_of replays GPT.generate's bookkeeping: the full window slides by one, the sliding cache re-encodes
    context - k tokens once per k + 1."""
    full = closed.windows_of(64, 320, 256, None)
    assert full[0] == list(range(64, 257)) and all(full[n - 256] == [n] for n in range(257, 320))
    sliding = closed.windows_of(64, 320, 256, 128)
    assert sliding == {0: list(range(64, 257)), 129: list(range(257, 320))}
    assert closed.windows_of(64, 128, 256, 128) == {0: list(range(64, 128))}


def test_honest_greedy_decoding_passes_under_its_own_policy_only(gpt: GPT, tokens: np.ndarray, tmp_path: Path
                                                                  ) -> None:
    prompt = tokens[None, 5000:5064]
    rng = np.random.default_rng(0)
    full, sliding = generated(gpt, prompt, 256), generated(gpt, prompt, 256, 128)
    assert not np.array_equal(full, sliding)
    entry = tmp_path / "entry"
    entry.mkdir()
    shutil.copy(BASELINE_DIR / "shakespeare_gpt.npz", entry)
    assert closed.greedy_failure(EVENT, entry, [full], [64], rng, samples=8) is None
    (entry / "model.py").write_text("RECIPE = {'model': 'GPT', 'reencode_every': 128}\n")
    assert closed.stated_reencode_every(entry) == 128
    assert closed.greedy_failure(EVENT, entry, [sliding], [64], rng, samples=8) is None
    reason = closed.greedy_failure(EVENT, entry, [full], [64], rng, samples=8)
    assert reason and "reencode_every = 128" in reason and "float32 reordering explains" in reason


def test_a_token_off_the_reference_is_refused(gpt: GPT, tokens: np.ndarray, tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    entry.mkdir()
    shutil.copy(BASELINE_DIR / "shakespeare_gpt.npz", entry)
    sequence = generated(gpt, tokens[None, 9000:9064], 64)
    logits = gpt(sequence[:, :-1]).numpy()[0]
    ordered = np.sort(logits[63:], axis=1)
    position = 64 + int(np.argmax(ordered[:, -1] - ordered[:, -2]))  # the clearest choice
    runner_up = int(np.argsort(logits[position - 1])[-2])
    wrong = sequence.copy()
    wrong[0, position] = runner_up
    reason = closed.greedy_failure(EVENT, entry, [wrong], [64], np.random.default_rng(1), samples=8)
    assert reason and f"token {position}: {runner_up}" in reason


def test_ties_within_float32_reordering_are_either_token() -> None:
    values, bound = np.array([2.0, 2.0 - 3e-4, 1.0]), np.full(3, 1e-4)
    assert closed.is_greedy_choice(values, bound, 0) and closed.is_greedy_choice(values, bound, 1)
    assert not closed.is_greedy_choice(values, np.full(3, 0.5e-4), 1)  # 3e-4 apart, 2e-4 explained
    assert not closed.is_greedy_choice(values, bound, 2) and not closed.is_greedy_choice(values, bound, 3)


def test_the_stated_policy_is_read_as_data_never_run(tmp_path: Path) -> None:
    cases = {"REENCODE_EVERY = 64\n": 64, "RECIPE = {'reencode_every': None}\n": None, "x = 1\n": None,
             "REENCODE_EVERY = __import__('os').getpid()\n": None, "REENCODE_EVERY = True\n": None,
             "def f(:\n": None}
    for source, expected in cases.items():
        (tmp_path / "model.py").write_text(source)
        assert closed.stated_reencode_every(tmp_path) == expected, source


def test_the_reference_finds_the_baselines_text_likely_and_noise_not(gpt: GPT, tokens: np.ndarray) -> None:
    """The bound and its documented limit: characters drawn at random are refused, a run of spaces (text the
    reference finds plausible, whoever wrote it) is not; the greedy check is what catches that entry."""
    rng = np.random.default_rng(2)
    prompts = [p for p, _ in generation.segment_prompts(tokens, 64, 256, rng)]
    lens = [p.shape[1] for p in prompts]
    base = judge.mean_nll(gpt, [generated(gpt, p, 64) for p in prompts], lens)
    assert base < 1.5 and judge.failure(base, base, 8.5) is None
    noise = judge.mean_nll(gpt, [np.concatenate([p, rng.choice(tokens[:100_000], (1, 64))], 1) for p in prompts], lens)
    assert noise > judge.bound(base, 8.5)
    assert "not text the model could have generated" in judge.failure(noise, base, 8.5)
    spaces = judge.mean_nll(gpt, [np.concatenate([p, np.full((1, 64), 1)], 1) for p in prompts], lens)
    assert judge.failure(spaces, base, 8.5) is None


def test_segments_cover_the_positions_of_one_long_generation(tokens: np.ndarray) -> None:
    segments = generation.segment_prompts(tokens, 64, 256, np.random.default_rng(3))
    assert [(p.shape[1], len(r)) for p, r in segments] == [(64, 64), (128, 64), (192, 64), (256, 64)]
    sequences = [np.zeros((1, p.shape[1] + 64), np.int64) for p, _ in segments]
    assert generation.check_windows(sequences, [p.shape[1] for p, _ in segments], 128) == [0, 1]


# ---- full runs in the jail -----------------------------------------------------------------------------------------

def entry(root: Path, fixture: str, division: str, weights: str, events: list[str]) -> Path:
    """A copy of cheat fixture `fixture` with the baseline's `weights` file and a manifest of `division`."""
    folder = root / fixture
    shutil.copytree(FIXTURES / fixture, folder)
    shutil.copy(SUBMISSIONS / "baseline" / weights, folder)
    manifest = yaml.safe_load((SUBMISSIONS / "baseline" / "submission.yaml").read_text())
    manifest.update(athlete_name="Mallory", github_handle="mallory", division=division, events=events)
    (folder / "submission.yaml").write_text(yaml.safe_dump(manifest))
    (folder / "README.md").write_text((SUBMISSIONS / "baseline" / "README.md").read_text())
    return folder


FEW = protocols.QUICK.__class__(**{**protocols.QUICK.__dict__, "rounds": 1, "min_rounds": 1, "min_units": 1,
                                   "perplexity_windows": 16})


@pytest.mark.slow
@pytest.mark.parametrize("division", ["open", "closed"])
def test_two_faced_next_token_logits_is_disqualified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     division: str) -> None:
    monkeypatch.setattr(protocols, "QUICK", FEW)
    cheat = entry(tmp_path, "cheat_two_faced_logits", division, "shakespeare_gpt.npz", [EVENT])
    result = run_event(EVENT, cheat, SUBMISSIONS / "baseline", quick=True)
    validate_result(result)
    assert result["status"] == "disqualified" and result["candidate"] is None
    message = result["errors"][-1]["message"]
    assert "not greedy decoding of the model's own next_token_logits" in message and "timed generation" in message


LIGHTER = """
import numpy as np

import tinytorch as tt
from tinytorch.models import GPT, model_card


def load(event):
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in model_card("shakespeare_gpt")["config"].items()}
    state = tt.load("shakespeare_gpt.npz")
    for block in range(4):  # half of every feed-forward layer never computed: faster, still fluent
        key = f"blocks.{block}.linear2.weight"
        weight = state[key].numpy().copy()
        weight[:, ::2] = 0
        state[key] = tt.from_numpy(weight)
    model = GPT(**config)
    model.load_state_dict(state, strict=True)
    return model.eval()


def next_token_logits(model, tokens):
    with tt.no_grad():
        return model(tokens).numpy()


def generate(model, prompt, max_new_tokens):
    return model.generate(prompt, max_new_tokens, temperature=0.0, use_kv_cache=True).numpy()
"""


@pytest.mark.slow
def test_a_closed_generator_consistent_with_other_weights_is_refused(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Its greedy check passes (its logits and tokens agree); the replay of the shipped weights does not."""
    monkeypatch.setattr(protocols, "QUICK", FEW)
    cheat = entry(tmp_path, "cheat_two_faced_logits", "closed", "shakespeare_gpt.npz", [EVENT])
    (cheat / "model.py").write_text(LIGHTER)
    result = run_event(EVENT, cheat, SUBMISSIONS / "baseline", quick=True)
    validate_result(result)
    assert result["status"] == "disqualified"
    message = result["errors"][-1]["message"]
    assert "not the greedy decoding of the shipped weights" in message and "float32 reordering explains" in message


@pytest.mark.slow
def test_a_closed_entry_computing_with_fewer_channels_is_refused(tmp_path: Path) -> None:
    cheat = entry(tmp_path, "cheat_closed_fewer_channels", "closed", "mnist_cnn.npz", ["cnn_marathon_offline"])
    result = run_event("cnn_marathon_offline", cheat, SUBMISSIONS / "baseline", quick=True)
    validate_result(result)
    assert result["status"] == "disqualified", result["errors"]
    record = result["conformance"]
    assert record["verdict"] == "fails" and record["max_abs_diff"] > 10 * record["tolerance"]
    assert "not those of the shipped weights" in result["errors"][-1]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("name, event", [("int8-cnn", "cnn_marathon_offline"),
                                         ("pruned-int8-cnn", "cnn_marathon_offline"),
                                         ("sliding-kv-gpt", EVENT)])
def test_honest_closed_entrants_still_conform(name: str, event: str) -> None:
    result = run_event(event, SUBMISSIONS / name, SUBMISSIONS / "baseline", quick=True)
    validate_result(result)
    assert result["status"] == "ok", result["errors"]
    record = result["conformance"]
    assert record["verdict"] == "conforms" and record["max_abs_diff"] <= record["tolerance"], record["reason"]
