"""Shared fixtures: a store filled with harness-scored results (TEST DATA)."""

from __future__ import annotations

import json

import pytest

from competition.leaderboard.admission import Policy
from competition.leaderboard.store import add_results
from tests.leaderboard.factory import REGISTERED, make_scored_result


def scored_season() -> list[dict]:
    """TEST DATA: a small season of results whose scores follow from their measurements."""
    return [
        make_scored_result("alpha", speedup=2.0, accuracy=0.81, model_size=500_000),
        make_scored_result("beta", speedup=1.97, accuracy=0.83, peak_memory=20_000_000),
        make_scored_result("gamma", speedup=1.0, spread=0.05),
        make_scored_result("alpha", event_id="cnn_marathon_offline", runner_class="local", speedup=1.4,
                           accuracy=0.96),
        make_scored_result("alpha", speedup=1.4, run=-3),
    ]


@pytest.fixture
def sample_store(tmp_path):
    """A results store holding a scored sample season (TEST DATA), added through the checking store."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    paths = []
    for result in scored_season():
        path = inbox / f"{result['result_id']}.json"
        path.write_text(json.dumps(result), encoding="utf-8")
        paths.append(path)
    store = tmp_path / "store"
    add_results(paths, store, Policy(REGISTERED))
    return store


@pytest.fixture
def registered_config(tmp_path):
    """A config.yaml registering the factory's reference and edge runners."""
    path = tmp_path / "registered.yaml"
    runners = "".join(f"  - fingerprint: {r.fingerprint}\n    class: {r.runner_class}\n    name: {r.name}\n"
                      for r in REGISTERED.runners)
    path.write_text("runners:\n" + runners, encoding="utf-8")
    return path
