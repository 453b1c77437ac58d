"""Result files: validated before writing, atomic, stable key order, validated on reading."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from competition.results import ResultError, dumps, load_result, result_filename, validate_result, write_result


def minimal_result() -> dict:
    """A small schema-valid result (a failed run: nothing measured)."""
    return {
        "schema_version": 1,
        "result_id": "alice--cnn_marathon_offline--local--20260101T000000Z",
        "submission": {"name": "alice", "athlete_name": "Alice", "github_handle": "alice", "team": None,
                       "division": "open", "techniques_used": [], "tree_sha256": "a" * 64},
        "event": {"id": "cnn_marathon_offline", "name": "CNN Marathon (offline)", "official": False,
                  "kind": "inference", "dataset": {"name": "MNIST", "split": "test", "n_examples": 0,
                                                   "sha256": "b" * 64}},
        "runner": {"class": "local", "hardware": {"cpu_model": "x", "machine": "x86_64", "cores": 2,
                                                  "ram_bytes": None, "os": "Linux", "python": "3.11",
                                                  "numpy": "2", "blas": "openblas"}, "gemm_gflops": None},
        "harness": {"version": "0.1.0", "git_commit": None},
        "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z",
        "status": "failed", "errors": [{"stage": "load", "message": "boom"}],
        "sandbox": {"network_isolated": True, "method": "unshare", "limits": {"cpu_seconds": 10.0}},
        "candidate": None, "baseline": None, "noise": {"aa_speedup": None, "rounds": 0},
        "scores": {"speedup": None, "compression": None, "parameter_ratio": None, "accuracy_delta_points": None,
                   "efficiency": None, "qualified": False, "qualification": [], "categories": {}},
    }


def test_round_trip_is_identical_and_sorted(tmp_path: Path) -> None:
    result = minimal_result()
    path = write_result(result, tmp_path / "out")
    assert path.name == result_filename(result) == "alice--cnn_marathon_offline--local--20260101T000000Z.json"
    assert load_result(path) == result
    text = path.read_text()
    assert text == dumps(result) and text.endswith("\n")
    assert list(json.loads(text)) == sorted(result)


def test_invalid_result_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    result = minimal_result()
    result["status"] = "great"
    del result["noise"]
    with pytest.raises(ResultError) as info:
        write_result(result, tmp_path)
    assert "status" in str(info.value) and "noise" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    write_result(minimal_result(), tmp_path)
    write_result(minimal_result(), tmp_path)  # overwrite in place
    assert [p.name for p in tmp_path.iterdir()] == [result_filename(minimal_result())]


def test_load_names_the_file_and_field(tmp_path: Path) -> None:
    bad = copy.deepcopy(minimal_result())
    bad["runner"]["class"] = "cloud"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ResultError, match=r"(?s)bad.json.*runner.class"):
        load_result(path)
    path.write_text("{not json")
    with pytest.raises(ResultError, match="cannot read"):
        load_result(path)


def test_nan_is_never_written(tmp_path: Path) -> None:
    result = minimal_result()
    result["runner"]["gemm_gflops"] = float("nan")
    with pytest.raises((ResultError, ValueError)):
        write_result(result, tmp_path)
    assert list(tmp_path.iterdir()) == []
    validate_result(minimal_result())


def test_errors_inside_oneof_name_the_field() -> None:
    result = minimal_result()
    result["candidate"] = {"accuracy": 97.5}
    with pytest.raises(ResultError) as info:
        validate_result(result)
    assert "candidate.accuracy: 97.5 is greater than the maximum of 1" in str(info.value)
