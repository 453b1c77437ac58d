"""Shared fixtures: a store filled with the factory's sample season."""

from __future__ import annotations

import json

import pytest

from competition.leaderboard.store import add_results
from tests.leaderboard.factory import sample_results


@pytest.fixture
def sample_store(tmp_path):
    """A results store holding the sample season (TEST DATA)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    paths = []
    for result in sample_results():
        path = inbox / f"{result['result_id']}.json"
        path.write_text(json.dumps(result), encoding="utf-8")
        paths.append(path)
    store = tmp_path / "store"
    add_results(paths, store)
    return store
