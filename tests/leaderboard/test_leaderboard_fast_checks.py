"""The cold build's fast paths give the same answers as the slow reference: the compiled schema check accepts only
what jsonschema accepts, and the counting bootstrap gives the same floats as resampling with np.median."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from competition.leaderboard.schema_check import compile_schema, conforms, Unsupported
from competition.measure.stats import median_ci
from competition.results import result_validator
from tests.leaderboard.factory import make_result, make_scored_result

ODD_VALUES = (None, True, 0, -1, 1.5, 2.0, "x", "z" * 300, [], [1, "a"], {}, {"unexpected": 1})


def _paths(node: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


def _mutants(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every field replaced by each odd value, every key deleted, an extra key in every object."""
    for path in list(_paths(result))[1:]:
        for value in ODD_VALUES:
            mutant = copy.deepcopy(result)
            parent = mutant
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            yield mutant
        mutant = copy.deepcopy(result)
        parent = mutant
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict):
            del parent[path[-1]]
            yield mutant
            parent["surprise_field"] = 1
            yield mutant


@pytest.mark.parametrize("result", [make_scored_result("alpha", energy_joules=0.01, baseline_joules=0.02),
                                    make_result("beta", event_id="transformer_decathlon", accuracy=None,
                                                perplexity=4.2, speedup=None)])
def test_compiled_check_agrees_with_jsonschema(result):
    validator = result_validator()
    assert conforms(result) and validator.is_valid(result)
    verdicts = [(conforms(m), validator.is_valid(m)) for m in _mutants(result)]
    assert all(fast == slow for fast, slow in verdicts), "the compiled check and jsonschema disagree"
    assert sum(not slow for _, slow in verdicts) > 500  # the mutations do break the schema
    with_nan = copy.deepcopy(result)
    with_nan["candidate"]["model_size_bytes"] = float("nan")
    assert not conforms(with_nan)  # stricter than jsonschema is allowed: jsonschema then decides


def test_compiler_refuses_what_it_does_not_know():
    with pytest.raises(Unsupported):
        compile_schema({"type": "object", "patternProperties": {"^x": {"type": "string"}}})
    check = compile_schema({"type": "integer", "minimum": 0})
    assert check(3) and check(3.0) and not check(True) and not check(-1) and not check(2.5)
    positive = compile_schema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10})
    assert positive(0.5) and not positive(0) and not positive(10) and not positive(-1)


def _median_ci_by_resampling(values, confidence=0.95, n_resamples=10_000, seed=0):
    """The textbook bootstrap the counting one replaces (the implementation before the cold-build work)."""
    data = np.asarray(values, dtype=np.float64).ravel()
    median = float(np.median(data))
    if data.size == 1:
        return median, median, median
    draws = np.random.default_rng(seed).integers(0, data.size, size=(n_resamples, data.size))
    boot = np.median(data[draws], axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return median, float(lo), float(hi)


def test_counting_bootstrap_gives_the_same_floats():
    rng = np.random.default_rng(11)
    for trial in range(120):
        n = int(rng.integers(1, 45))
        values = rng.lognormal(size=n)
        if trial % 3 == 0:
            values = np.round(values, 1)  # ties
        if trial % 10 == 0:
            values = np.full(n, 1.25)
        kwargs = {"seed": trial % 3, "n_resamples": (10_000, 999, 7)[trial % 3], "confidence": (0.95, 0.8)[trial % 2]}
        assert median_ci(values, **kwargs) == _median_ci_by_resampling(values, **kwargs)
    large = rng.normal(size=300)
    assert median_ci(large) == _median_ci_by_resampling(large)
