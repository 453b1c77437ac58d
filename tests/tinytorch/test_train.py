"""Training scripts: deterministic under a seed, write a complete model card, weights reload via pretrained()."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tinytorch.models import pretrained, pretrained_tokenizer
from tinytorch.train import cnn, gpt, mlp

TINY_GPT = ["--steps", "3", "--batch-size", "2", "--context", "16", "--d-model", "16", "--n-heads", "2",
            "--n-layers", "1", "--warmup", "1", "--eval-every", "2", "--eval-windows", "2", "--final-windows", "4",
            "--check-windows", "2", "--sample-tokens", "20", "--quiet"]


def _weights(model) -> dict[str, np.ndarray]:
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def _assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_mlp_training_is_deterministic_and_learns():
    argv = ["--limit", "512", "--epochs", "2", "--no-save", "--quiet", "--seed", "3"]
    first, card = mlp.run(argv)
    second, again = mlp.run(argv)
    _assert_same(_weights(first), _weights(second))
    assert card["metrics"]["accuracy"] == again["metrics"]["accuracy"] > 0.3  # chance is 0.1
    other, _ = mlp.run(["--limit", "512", "--epochs", "2", "--no-save", "--quiet", "--seed", "4"])
    assert not np.array_equal(_weights(first)["layers.0.weight"], _weights(other)["layers.0.weight"])


def test_mlp_card_and_weights_roundtrip(tmp_path):
    model, card = mlp.run(["--limit", "256", "--epochs", "1", "--quiet", "--name", "tiny_mlp", "--out", str(tmp_path)])
    stored = json.loads((tmp_path / "tiny_mlp.json").read_text())
    assert stored == json.loads(json.dumps(card))
    assert stored["data"]["train"]["examples"] == 256 and len(stored["data"]["train"]["sha256"]) == 64
    assert stored["data"]["held_out"]["split"] == "test"
    assert "python -m tinytorch.train.mlp " in stored["command"] and "--seed 0" in stored["command"]
    assert "--limit 256" in stored["command"] and "--out" not in stored["command"]
    assert stored["training"]["wall_seconds"] > 0 and len(stored["training"]["history"]) == 1
    loaded = pretrained("tiny_mlp", weights_dir=tmp_path)
    assert not loaded.training
    _assert_same(_weights(loaded), _weights(model))


@pytest.mark.slow
def test_cnn_training_is_deterministic():
    argv = ["--limit", "128", "--epochs", "1", "--batch-size", "32", "--no-save", "--quiet"]
    first, card = cnn.run(argv)
    second, _ = cnn.run(argv)
    _assert_same(_weights(first), _weights(second))
    assert card["config"] == {"in_channels": 1, "num_classes": 10, "image_size": 28}


def test_gpt_training_is_deterministic_and_writes_card(tmp_path):
    first, card = gpt.run(TINY_GPT + ["--name", "tiny_gpt", "--out", str(tmp_path)])
    second, _ = gpt.run(TINY_GPT + ["--no-save"])
    _assert_same(_weights(first), _weights(second))
    metrics = card["metrics"]
    assert metrics["val_perplexity"] > 1 and metrics["unigram_perplexity"] > 1
    assert metrics["windows"] == 4 and metrics["characters"] == 4 * 16
    assert [h["step"] for h in card["training"]["history"]] == [2, 3]
    assert len(card["sample"]["text"]) == 21
    loaded = pretrained("tiny_gpt", weights_dir=tmp_path)
    _assert_same(_weights(loaded), _weights(first))
    assert pretrained_tokenizer("tiny_gpt", weights_dir=tmp_path).vocab_size == card["config"]["vocab_size"]


def test_unigram_perplexity_of_uniform_text():
    tokens = np.arange(4).repeat(10)
    assert gpt.unigram_perplexity(tokens, tokens, 4) == pytest.approx(4.0)
    inputs, targets = gpt.spaced_windows(np.arange(100), 10, 3)
    np.testing.assert_array_equal(targets, inputs + 1)
    assert inputs[0, 0] == 0 and inputs[-1, -1] == 98


def test_cnn_cifar10_path_builds_the_3_channel_baseline(monkeypatch, tmp_path):
    """Real CIFAR-10 is not reachable offline: feed the script CIFAR-shaped uint8 data through the loader it calls."""
    import tinytorch.data

    rng = np.random.default_rng(0)
    fake = {split: (rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, size=n))
            for split, n in (("train", 32), ("test", 16))}
    monkeypatch.setattr(tinytorch.data, "load_cifar10", lambda split, download=False: fake[split])
    model, card = cnn.run(["--dataset", "cifar10", "--epochs", "1", "--batch-size", "16", "--quiet",
                           "--out", str(tmp_path)])
    assert card["name"] == "cifar10_cnn" and (tmp_path / "cifar10_cnn.npz").is_file()
    assert card["config"] == {"in_channels": 3, "num_classes": 10, "image_size": 32}
    assert model.classifier[1].weight.shape == (128, 4096)
    assert card["data"]["train"]["dataset"] == "cifar10" and card["metrics"]["examples"] == 16


def test_reproduce_command_spells_out_options_and_thread_pins(monkeypatch):
    from tinytorch.train.loop import reproduce_command

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    options = {"steps": 3, "batch_size": 8, "quiet": False, "no_flag": True, "limit": None}
    assert reproduce_command("m", options) == "python -m m --steps 3 --batch-size 8 --no-flag"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert reproduce_command("m", {}) == "OPENBLAS_NUM_THREADS=1 python -m m"


def generated_cifar10(root, monkeypatch, per_batch: int = 8, test_size: int = 20):
    """A CIFAR-10 binary archive in the official layout with class-coloured images, in $TINYTORCH_DATA/cifar10,
    accepted by the loader's SHA-256 check (the official hash is replaced by this archive's)."""
    from tests.tinytorch.test_data_cifar10 import batch_bytes, write_archive
    from tinytorch.data import cifar10 as cifar_module
    from tinytorch.data import file_sha256

    rng = np.random.default_rng(0)

    def batch(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (labels[:, None, None, None] * 25 + rng.integers(0, 5, (n, 3, 32, 32))).astype(np.uint8)
        return batch_bytes(images, labels)

    members = {f"data_batch_{i}.bin": batch(per_batch) for i in range(1, 6)}
    members["test_batch.bin"] = batch(test_size)
    folder = root / "cifar10"
    folder.mkdir(parents=True)
    archive = folder / cifar_module.CIFAR10_ARCHIVE
    write_archive(archive, members)
    monkeypatch.setenv("TINYTORCH_DATA", str(root))
    monkeypatch.setattr(cifar_module, "CIFAR10_SHA256", file_sha256(archive))
    return archive


def test_cnn_trains_on_generated_cifar10_files(monkeypatch, tmp_path):
    generated_cifar10(tmp_path / "data", monkeypatch)
    model, card = cnn.run(["--dataset", "cifar10", "--epochs", "1", "--batch-size", "8", "--quiet",
                           "--out", str(tmp_path)])
    assert card["data"]["train"]["examples"] == 40 and card["metrics"]["examples"] == 20
    assert card["config"] == {"in_channels": 3, "num_classes": 10, "image_size": 32}
    assert "--dataset cifar10" in card["command"]
    _assert_same(_weights(pretrained("cifar10_cnn", weights_dir=tmp_path)), _weights(model))
