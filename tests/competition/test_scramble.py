"""The training round's secret scramble: an MLP sees the same task, a model trained in advance sees noise."""

from __future__ import annotations

import numpy as np

from competition.measure import scramble


def test_a_linear_model_permuted_along_gives_the_same_scores_in_the_original_class_order() -> None:
    rng = np.random.default_rng(0)
    x, w = rng.random((5, 1, 4, 4), dtype=np.float32), rng.standard_normal((16, 3))
    task = scramble.draw(np.random.default_rng(1), 16, 3)
    plain = x.reshape(5, -1) @ w
    # the same model with its input rows and output columns moved where the scramble moved pixels and classes
    moved = np.empty_like(w)
    moved[:, task.classes] = w[task.pixels]
    seen = task.images(x).reshape(5, -1) @ moved
    np.testing.assert_allclose(task.scores(seen), plain, rtol=1e-6)
    assert task.images(x).shape == x.shape and task.images(x).dtype == np.float32


def test_labels_are_renumbered_and_read_back_consistently() -> None:
    task = scramble.draw(np.random.default_rng(2), 4, 10)
    y = np.arange(10)
    one_hot_seen = np.eye(10)[task.labels(y)]  # a perfect model answers in the worker's numbers
    assert np.array_equal(task.scores(one_hot_seen).argmax(axis=1), y)
    assert sorted(task.labels(y)) == list(range(10))


def test_a_model_fitted_to_the_plain_task_is_near_chance_on_a_scrambled_one() -> None:
    rng = np.random.default_rng(3)
    centers = rng.random((10, 64))
    y = rng.integers(0, 10, 2000)
    x = centers[y] + 0.05 * rng.standard_normal((2000, 64))
    w = centers.T  # nearest-centre style linear scores, perfect on the plain task
    assert np.mean((x @ w - 0.5 * (centers ** 2).sum(1)).argmax(1) == y) > 0.99
    task = scramble.draw(np.random.default_rng(4), 64, 10)
    scores = task.scores(task.images(x) @ w - 0.5 * (centers ** 2).sum(1))
    assert np.mean(scores.argmax(1) == y) < 0.3


def test_each_draw_is_new() -> None:
    rng = np.random.default_rng(5)
    first, second = scramble.draw(rng, 784, 10), scramble.draw(rng, 784, 10)
    assert not np.array_equal(first.pixels, second.pixels)
    assert sorted(first.pixels) == list(range(784))
