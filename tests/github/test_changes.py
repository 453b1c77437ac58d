"""The PR rule: exactly one submissions/<name>/ folder added or changed, nothing else, with clear messages."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from competition.github import changes, cli
from tests.github.gitrepo import commit, git, init_repo, write

BASE_FILES = {
    "README.md": "project\n",
    ".github/workflows/validate.yml": "name: Validate\n",
    "competition/run.py": "# harness\n",
    "submissions/baseline/submission.yaml": "name: baseline\n",
    "submissions/zoe/submission.yaml": "name: zoe\n",
    "submissions/zoe/model.py": "# zoe\n",
}


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "repo", BASE_FILES)
    git(repo, "switch", "-q", "-c", "pr")
    return repo


def check(repo: Path) -> changes.ChangeCheck:
    return changes.check_pr("main", "pr", repo)


def messages(outcome: changes.ChangeCheck) -> str:
    return "\n".join(str(p) for p in outcome.problems)


def test_adding_one_submission_folder_passes(repo: Path) -> None:
    write(repo, {"submissions/ada/submission.yaml": "name: ada\n", "submissions/ada/model.py": "# ada\n"})
    commit(repo, "add ada")
    outcome = check(repo)
    assert outcome.ok, messages(outcome)
    assert outcome.submission == "ada"
    assert sorted(c.path for c in outcome.changes) == ["submissions/ada/model.py", "submissions/ada/submission.yaml"]


def test_changing_and_deleting_inside_an_existing_folder_passes(repo: Path) -> None:
    write(repo, {"submissions/zoe/model.py": "# faster\n"})
    (repo / "submissions/zoe/submission.yaml").unlink()
    write(repo, {"submissions/zoe/submission.yml": "renamed\n"})
    commit(repo, "update zoe")
    outcome = check(repo)
    assert outcome.ok and outcome.submission == "zoe", messages(outcome)
    assert {c.status for c in outcome.changes} == {"A", "M", "D"}


def test_a_pr_that_also_edits_a_workflow_is_rejected(repo: Path) -> None:
    write(repo, {"submissions/ada/model.py": "# ada\n", ".github/workflows/validate.yml": "name: pwned\n"})
    commit(repo, "sneaky")
    outcome = check(repo)
    assert not outcome.ok
    assert ".github/workflows/validate.yml: is outside submissions/<name>/" in messages(outcome)
    assert "revert your change to .github/workflows/validate.yml" in messages(outcome)


def test_a_pr_with_two_submission_folders_is_rejected(repo: Path) -> None:
    write(repo, {"submissions/ada/model.py": "# ada\n", "submissions/bob/model.py": "# bob\n"})
    commit(repo, "two")
    outcome = check(repo)
    assert outcome.submission is None
    assert "touches 2 submission folders: ada, bob" in messages(outcome)
    assert "one pull request per submission folder" in messages(outcome)


@pytest.mark.parametrize("files, expected", [
    ({"submissions/README.md": "x"}, "submissions/README.md: is outside submissions/<name>/"),
    ({"submissions/baseline/model.py": "x"}, "'baseline' is reserved"),
    ({"submissions/Bad Name/model.py": "x"}, "folder name 'Bad Name' is not allowed"),
])
def test_other_violations_are_named(repo: Path, files: dict[str, str], expected: str) -> None:
    write(repo, files)
    commit(repo, "bad")
    assert expected in messages(check(repo))


def test_symlinks_are_rejected(repo: Path) -> None:
    (repo / "submissions/ada").mkdir()
    os.symlink("/etc/passwd", repo / "submissions/ada/data.npz")
    commit(repo, "link")
    assert "has git mode 120000 (symlink or submodule)" in messages(check(repo))


def test_an_empty_pr_is_rejected(repo: Path) -> None:
    assert "changes no files" in messages(check(repo))


def test_changes_on_main_after_the_branch_point_are_not_blamed_on_the_pr(repo: Path) -> None:
    write(repo, {"submissions/ada/model.py": "# ada\n"})
    commit(repo, "ada")
    git(repo, "switch", "-q", "main")
    write(repo, {"competition/run.py": "# maintainers moved on\n"})
    commit(repo, "harness change on main")
    outcome = check(repo)
    assert outcome.ok and outcome.submission == "ada", messages(outcome)


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tito")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_exit_codes_messages_and_github_output(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write(repo, {"submissions/ada/model.py": "# ada\n"})
    commit(repo, "ada")
    output = tmp_path / "github_output"
    assert run_cli(["pr", "check-changes", "--base", "main", "--head", "pr", "--repo-dir", str(repo),
                    "--github-output", str(output)]) == 0
    assert output.read_text() == "submission=ada\n"
    write(repo, {"README.md": "edited\n"})
    commit(repo, "readme")
    assert run_cli(["pr", "check-changes", "--base", "main", "--head", "pr", "--repo-dir", str(repo)]) == 1
    assert "README.md: is outside submissions/<name>/" in capsys.readouterr().err
    assert run_cli(["pr", "check-changes", "--base", "main", "--head", "nope", "--repo-dir", str(repo)]) == 2


def test_submission_listings(repo: Path, capsys: pytest.CaptureFixture) -> None:
    write(repo, {"submissions/ada/submission.yaml": "name: ada\n"})
    before = git(repo, "rev-parse", "main")
    after = commit(repo, "ada")
    assert run_cli(["pr", "submissions", "--repo-dir", str(repo)]) == 0
    assert json.loads(capsys.readouterr().out) == ["ada", "zoe"]
    assert run_cli(["pr", "submissions", "--base", before, "--head", after, "--repo-dir", str(repo)]) == 0
    assert json.loads(capsys.readouterr().out) == ["ada"]
    git(repo, "rm", "-q", "-r", "submissions/zoe")
    removed = commit(repo, "remove zoe")
    assert changes.changed_submissions(after, removed, repo) == []
