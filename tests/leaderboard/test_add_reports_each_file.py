"""`tito leaderboard add` stores what it can and reports each refused file with its own fix (issue 18.3): the
first hour's glob catches the smoke run next to the full one; the full run is stored, the smoke run is skipped
with the right words, and an edited file is refused on its own without blocking the others."""

import json
from pathlib import Path

import pytest

from competition.cli import main

RESULTS = Path(__file__).resolve().parents[2] / "leaderboard" / "results"


@pytest.fixture
def full(tmp_path) -> Path:
    source = sorted(RESULTS.glob("pruned-int8-cnn--cnn_marathon_offline--*.json"))[-1]
    target = tmp_path / "full.json"
    target.write_text(source.read_text())
    return target


def variant(full: Path, name: str, change) -> Path:
    result = json.loads(full.read_text())
    change(result)
    path = full.parent / name
    path.write_text(json.dumps(result))
    return path


def add(*paths: Path, store: Path) -> int:
    return main(["leaderboard", "add", *map(str, paths), "--store", str(store)])


def test_the_smoke_run_beside_a_full_run_is_skipped_and_the_full_run_stored(full, tmp_path, capsys):
    smoke = variant(full, "smoke.json", lambda r: r["config"].update(quick=True))
    assert add(smoke, full, store=tmp_path / "store") == 0
    out = capsys.readouterr().out
    assert len(list((tmp_path / "store").glob("*.json"))) == 1
    assert f"skipped {smoke}: a smoke (--quick) run, never stored; the full run" in out
    assert "without --quick" not in out


def test_a_lone_smoke_run_is_refused_with_the_fix_to_run_the_full_protocol(full, tmp_path, capsys):
    smoke = variant(full, "smoke.json", lambda r: r["config"].update(quick=True))
    assert add(smoke, store=tmp_path / "store") == 1
    assert "without --quick" in capsys.readouterr().err


def test_an_edited_file_is_refused_alone_and_the_good_one_is_stored(full, tmp_path, capsys):
    edited = variant(full, "edited.json", lambda r: r["candidate"].update(accuracy=0.99))
    assert add(edited, full, store=tmp_path / "store") == 1
    captured = capsys.readouterr()
    assert len(list((tmp_path / "store").glob("*.json"))) == 1 and "stored " in captured.out
    assert f"{edited}" in captured.err and "fix: do not edit result files" in captured.err
    assert "1 of 2 file(s) refused" in captured.err
