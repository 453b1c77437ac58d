"""The bot upserts one sticky comment through PyGithub, tested against a local fake GitHub REST API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from competition.github import comment, sticky
from tests.github.fake_github import FakeGitHub
from tests.github.test_artifact import SHA, good_artifact
from tests.github.test_changes import run_cli

REPO = "tinymlperf/tinymlperf"


def post(fake: FakeGitHub, results: list[Path], monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    return run_cli(["pr", "comment", "--results", *map(str, results), "--sha", SHA, "--repo", REPO,
                    "--api-url", fake.base_url, "--store", "/nonexistent", *extra])


def bot_comments(fake: FakeGitHub) -> list[dict]:
    return [c for c in fake.comments if c["user"]["login"] == "github-actions[bot]"]


def test_second_run_updates_instead_of_duplicating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = good_artifact(tmp_path / "local", "local")
    reference = good_artifact(tmp_path / "reference", "reference")
    with FakeGitHub(REPO, {7: SHA}) as fake:
        fake.add_comment(7, f"quoting the bot: {comment.MARKER}", login="student")  # must not be hijacked
        assert post(fake, [local], monkeypatch) == 0
        assert len(bot_comments(fake)) == 1
        first = bot_comments(fake)[0]["body"]
        assert "Smoke run" in first and "Reference runner" not in first
        assert post(fake, [reference], monkeypatch, "--pr", "7") == 0
        assert len(bot_comments(fake)) == 1, "the second run must edit the sticky comment"
        body = bot_comments(fake)[0]["body"]
        assert body.startswith(comment.MARKER)
        assert "Smoke run" in body and "Reference runner (x86): unverified" in body, "sections of one SHA are kept"
        assert f"commit `{SHA}`" in body
        assert fake.comments[0]["body"] == f"quoting the bot: {comment.MARKER}"
        assert ("PATCH", f"/repos/{REPO}/issues/comments/{bot_comments(fake)[0]['id']}") in fake.requests


def test_a_new_commit_drops_sections_of_the_old_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub(REPO, {7: SHA}) as fake:
        old_section = comment.render_section("reference", [], "9" * 40)
        fake.add_comment(7, comment.render_comment({"reference": old_section}, "9" * 40, 7), "github-actions[bot]")
        assert post(fake, [good_artifact(tmp_path / "local", "local")], monkeypatch) == 0
        body = bot_comments(fake)[0]["body"]
        assert "9" * 40 not in body and "Reference runner" not in body


def test_results_for_a_commit_that_is_not_the_pr_head_are_not_posted(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture) -> None:
    with FakeGitHub(REPO, {7: "3" * 40}) as fake:
        assert post(fake, [good_artifact(tmp_path / "a")], monkeypatch) == 1
        assert fake.comments == []
    assert "not posted" in capsys.readouterr().err


def test_commit_status_is_set_per_runner_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub(REPO, {7: SHA}) as fake:
        assert post(fake, [good_artifact(tmp_path / "a", "edge")], monkeypatch, "--status") == 0
        assert [(s["sha"], s["state"], s["context"]) for s in fake.statuses] == [
            (SHA, "success", "tinymlperf/results/edge")]


def test_upsert_refuses_a_body_without_the_marker() -> None:
    with FakeGitHub(REPO, {7: SHA}) as fake:
        gh = sticky.client("t", fake.base_url)
        with pytest.raises(ValueError, match="marker"):
            sticky.upsert_comment(gh, REPO, 7, SHA, lambda previous: "no marker here")


def test_dry_run_prints_exactly_the_body_that_would_be_posted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    source = good_artifact(tmp_path / "a")
    assert run_cli(["pr", "comment", "--results", str(source), "--sha", SHA, "--store", "/nonexistent",
                    "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(comment.MARKER)
    assert "# TinyMLPerf results for `ada`" in printed and "PR #7" in printed
    assert "speedup **1.500×** (95 % CI 1.455–1.545): faster than the baseline" in printed
    assert "| energy" in printed and "where no meter could be read (no RAPL access)" in printed
    with FakeGitHub(REPO, {7: SHA}) as fake:
        assert post(fake, [source], monkeypatch) == 0
        assert bot_comments(fake)[0]["body"] == printed.removesuffix("\n")


def test_rejected_artifact_posts_nothing_and_explains(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = good_artifact(tmp_path / "a")
    (source / "metadata.json").write_text(json.dumps({"pr_number": 7, "head_sha": "4" * 40,
                                                      "runner_class": "local"}))
    assert run_cli(["pr", "comment", "--results", str(source), "--sha", SHA, "--dry-run"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "is not the SHA this workflow run tested" in captured.err
