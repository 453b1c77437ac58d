"""The hidden test set: generated private splits load from the runner's folder only, with their own SHA-256."""

from __future__ import annotations

import numpy as np
import pytest

from competition.private_split import (ENV_VAR, PrivateSplitError, dataset_record, load_private_split,
                                       write_private_split)
from competition.rules import load_rules

RULES = load_rules()


def _generated(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n)


def test_without_the_environment_variable_there_is_no_private_split(tmp_path):
    assert load_private_split(RULES.event("cnn_marathon_offline"), environ={}) is None


def test_a_generated_private_split_is_the_evaluation_data_with_its_own_hash(tmp_path):
    images, labels = _generated()
    write_private_split(tmp_path, "mnist_bundled", images, labels)
    data = load_private_split(RULES.event("memory_master_offline"), environ={ENV_VAR: str(tmp_path)})
    assert data.split == "private" and data.inputs.shape == (50, 1, 28, 28) and data.inputs.dtype == np.float32
    assert np.array_equal(data.labels, labels) and data.train_inputs is None
    record = dataset_record(data)
    assert record["visibility"] == "private" and record["n_examples"] == 50 and len(record["sha256"]) == 64
    other = _generated(seed=1)
    write_private_split(tmp_path, "mnist_bundled", *other)
    changed = load_private_split(RULES.event("memory_master_offline"), environ={ENV_VAR: str(tmp_path)})
    assert changed.sha256 != data.sha256


def test_training_events_keep_the_public_training_split(tmp_path):
    write_private_split(tmp_path, "mnist_bundled", *_generated())
    data = load_private_split(RULES.event("mlp_sprint_offline"), environ={ENV_VAR: str(tmp_path)})
    assert data.split == "private" and len(data.labels) == 50 and len(data.train_labels) == 4000


def test_events_whose_dataset_has_no_private_file_use_the_public_split(tmp_path):
    write_private_split(tmp_path, "mnist_bundled", *_generated())
    assert load_private_split(RULES.event("cnn_marathon"), environ={ENV_VAR: str(tmp_path)}) is None
    assert load_private_split(RULES.event("transformer_decathlon"), environ={ENV_VAR: str(tmp_path)}) is None


def test_misconfiguration_is_refused_with_the_fix(tmp_path):
    from competition.private_split import REPOSITORY
    with pytest.raises(PrivateSplitError, match="not a folder"):
        load_private_split(RULES.event("cnn_marathon_offline"), environ={ENV_VAR: str(tmp_path / "missing")})
    with pytest.raises(PrivateSplitError, match="inside the repository"):
        load_private_split(RULES.event("cnn_marathon_offline"), environ={ENV_VAR: str(REPOSITORY / "leaderboard")})
    np.savez(tmp_path / "mnist_bundled.npz", images=np.zeros((3, 28, 28), np.float32), labels=np.zeros(3, int))
    with pytest.raises(PrivateSplitError, match=r"\[images\]"):
        load_private_split(RULES.event("cnn_marathon_offline"), environ={ENV_VAR: str(tmp_path)})
