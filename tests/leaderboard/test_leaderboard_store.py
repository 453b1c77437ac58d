"""The results store: append-only, atomic, validated on load with the file named in errors."""

from __future__ import annotations

import json

import pytest

from competition.leaderboard.fields import current_results
from competition.leaderboard.store import StoreError, add_results, load_store
from competition.results import dumps
from competition.leaderboard.admission import Policy
from tests.leaderboard.factory import REGISTERED, make_scored_result as make_result

POLICY = Policy(REGISTERED)


def _write(path, result):
    path.write_text(json.dumps(result), encoding="utf-8")
    return path


def test_add_stores_one_file_named_by_result_id(tmp_path):
    result = make_result("alpha")
    source = _write(tmp_path / "in.json", result)
    written = add_results([source], tmp_path / "store", POLICY)
    assert [p.name for p in written] == [f"{result['result_id']}.json"]
    assert load_store(tmp_path / "store") == [result]
    assert written[0].read_text(encoding="utf-8") == dumps(result)


def test_identical_readd_is_a_no_op(tmp_path):
    source = _write(tmp_path / "in.json", make_result("alpha"))
    add_results([source], tmp_path / "store", POLICY)
    assert add_results([source], tmp_path / "store", POLICY) == []
    assert len(list((tmp_path / "store").iterdir())) == 1


def test_different_content_with_same_id_is_refused_and_nothing_changes(tmp_path):
    store = tmp_path / "store"
    original = make_result("alpha", speedup=1.5)
    add_results([_write(tmp_path / "a.json", original)], store, POLICY)
    tampered = _write(tmp_path / "b.json", make_result("alpha", speedup=9.0))
    fresh = _write(tmp_path / "c.json", make_result("beta"))
    with pytest.raises(StoreError, match="append-only"):
        add_results([fresh, tampered], store, POLICY)
    assert load_store(store) == [original]  # the valid file in the same batch was not half-added either


def test_rerun_adds_a_record_and_the_latest_run_is_current(tmp_path):
    store = tmp_path / "store"
    old, new = make_result("alpha", speedup=1.2, run=0), make_result("alpha", speedup=1.8, run=1)
    add_results([_write(tmp_path / "old.json", old)], store, POLICY)
    add_results([_write(tmp_path / "new.json", new)], store, POLICY)
    stored = load_store(store)
    assert len(stored) == 2
    assert current_results(stored) == [new]


def test_invalid_input_names_file_and_field(tmp_path):
    bad = make_result("alpha")
    bad["submission"]["division"] = "premier"
    source = _write(tmp_path / "bad.json", bad)
    with pytest.raises(StoreError) as caught:
        add_results([source], tmp_path / "store", POLICY)
    assert "bad.json" in str(caught.value) and "submission.division" in str(caught.value)
    assert not (tmp_path / "store").exists()


def test_load_validates_every_file_and_names_it(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    result = make_result("alpha")
    (store / f"{result['result_id']}.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match=result["result_id"]):
        load_store(store)


def test_file_name_must_match_result_id(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    _write(store / "renamed.json", make_result("alpha"))
    with pytest.raises(StoreError, match="renamed.json"):
        load_store(store)


def test_result_id_must_match_its_fields(tmp_path):
    result = make_result("alpha")
    result["submission"]["name"] = "beta"
    with pytest.raises(StoreError, match="result_id"):
        add_results([_write(tmp_path / "x.json", result)], tmp_path / "store", POLICY)


def test_missing_store_is_empty_and_no_temp_files_are_left(tmp_path):
    assert load_store(tmp_path / "nowhere") == []
    add_results([_write(tmp_path / "a.json", make_result("alpha"))], tmp_path / "store", POLICY)
    assert all(not p.name.startswith(".") for p in (tmp_path / "store").iterdir())
