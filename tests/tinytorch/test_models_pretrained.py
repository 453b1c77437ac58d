"""The committed weights load with pretrained() and reproduce the metrics their training script recorded."""
from __future__ import annotations

import pytest

from tinytorch.models import PRETRAINED, model_card, pretrained, pretrained_tokenizer
from tinytorch.models.pretrained import WEIGHTS_DIR
from tinytorch.train.gpt import perplexity, spaced_windows, unigram_perplexity
from tinytorch.train.loop import accuracy, load_images

CARD_FIELDS = {"name", "model", "config", "seed", "data", "training", "metrics", "command", "environment"}


@pytest.mark.parametrize("name", PRETRAINED)
def test_card_is_complete_and_weights_are_small(name):
    card = model_card(name)
    assert CARD_FIELDS <= set(card)
    assert "python -m tinytorch.train." in card["command"]
    assert len(card["data"]["train"]["sha256"]) == 64 and card["training"]["wall_seconds"] > 0
    assert (WEIGHTS_DIR / f"{name}.npz").stat().st_size < 5_000_000


@pytest.mark.parametrize("name", ["mnist_mlp", "mnist_cnn"])
def test_classifier_reproduces_recorded_accuracy(name):
    card = model_card(name)
    model = pretrained(name)
    assert not model.training
    images, labels, data = load_images(card["data"]["held_out"]["dataset"], "test")
    assert data["sha256"] == card["data"]["held_out"]["sha256"]
    measured = accuracy(model, images, labels)
    assert measured == pytest.approx(card["metrics"]["accuracy"], abs=2 / len(labels))
    assert measured > 0.9


def test_gpt_reproduces_recorded_perplexity_on_a_slice():
    from tinytorch.data import shakespeare_text

    card = model_card("shakespeare_gpt")
    model = pretrained("shakespeare_gpt")
    tokenizer = pretrained_tokenizer()
    metrics = card["metrics"]
    val_tokens = tokenizer.encode(shakespeare_text("validation"))
    inputs, targets = spaced_windows(val_tokens, metrics["window"], metrics["windows"])
    check = metrics["check"]
    measured = perplexity(model, inputs[:check["windows"]], targets[:check["windows"]])
    assert measured == pytest.approx(check["val_perplexity"], rel=1e-4)
    train_tokens = tokenizer.encode(shakespeare_text("train"))
    assert unigram_perplexity(train_tokens, targets, tokenizer.vocab_size) == pytest.approx(
        metrics["unigram_perplexity"], rel=1e-9)
    assert metrics["val_perplexity"] < 0.5 * metrics["unigram_perplexity"]


def test_pretrained_unknown_name_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no model card for 'nope'"):
        pretrained("nope")
