"""Security policy of every workflow, read from the YAML: pinned actions, empty top-level permissions, no PR text in
run:, no pull_request_target, checkouts without persisted credentials."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
LOCAL_WORKFLOW = re.compile(r"^(\$|\.)/\.github/workflows/[a-z0-9_-]+\.ya?ml$")
PR_TEXT = re.compile(r"\$\{\{[^}]*(github\.event\.pull_request\.|github\.head_ref|\.title|\.body|head_branch|"
                     r"github\.event\.workflow_run\.(head_commit|display_title))")


def load(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # BaseLoader: "on" stays a string
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def test_the_expected_workflows_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"validate.yml", "benchmark.yml", "comment.yml", "publish.yml", "rebenchmark.yml", "ci.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.match(r"^\s*(?:- )?uses:\s*(\S+)(.*)$", line)
        if not match:
            continue
        target, rest = match.groups()
        if LOCAL_WORKFLOW.match(target):
            continue
        assert PINNED.match(target), f"{path.name}: {target} is not pinned to a 40-hex commit SHA"
        assert re.search(r"#\s*v\d", rest), f"{path.name}: {target} lacks a '# vX.Y.Z' comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_top_level_permissions_are_empty_and_jobs_declare_their_own(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {job_id} must declare its permissions"
        assert job["permissions"] not in ("write-all", "read-all"), f"{path.name}: {job_id} uses a blanket grant"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_pull_request_target(path: Path) -> None:
    assert "pull_request_target" not in load(path)["on"], f"{path.name} uses pull_request_target"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_pr_controlled_text_inside_run(path: Path) -> None:
    for job_id, step in steps(load(path)):
        script = step.get("run", "")
        assert not PR_TEXT.search(script), f"{path.name}: job {job_id} puts PR-controlled text in run: {script!r}"
        assert "${{" not in script, f"{path.name}: job {job_id} expands an expression inside run: (use env:)"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_never_persists_credentials(path: Path) -> None:
    for job_id, step in steps(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") == "false", \
                f"{path.name}: checkout in job {job_id} must set persist-credentials: false"
            assert "allow-unsafe-pr-checkout" not in step.get("with", {})


def test_pages_and_id_token_are_granted_only_to_the_deploy_job() -> None:
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            perms = job.get("permissions") or {}
            if "uses" in job:  # a call of our reusable workflow passes grants through to its jobs
                continue
            if perms.get("pages") == "write" or perms.get("id-token") == "write":
                assert job_id == "deploy", f"{path.name}: only the deploy job may write Pages / mint id tokens"


def test_comment_workflow_never_checks_out_pr_code_and_only_it_writes_pull_requests() -> None:
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            if (job.get("permissions") or {}).get("pull-requests") == "write":
                assert path.name == "comment.yml", f"{path.name}: {job_id} must not write pull requests"
    comment = load(next(p for p in WORKFLOWS if p.name == "comment.yml"))
    assert set(comment["on"]) == {"workflow_run"}
    for _, step in steps(comment):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert "ref" not in step.get("with", {}), "comment.yml must check out the default branch only"
            assert "repository" not in step.get("with", {})


def test_pull_request_workflows_get_a_read_only_token() -> None:
    for path in WORKFLOWS:
        workflow = load(path)
        if "pull_request" not in workflow["on"]:
            continue
        for job_id, job in workflow["jobs"].items():
            assert job["permissions"] == {"contents": "read"}, f"{path.name}: {job_id} runs PR code with more"
            assert "secrets." not in path.read_text(encoding="utf-8"), f"{path.name} must not use secrets"


def test_benchmark_is_gated_by_the_environment_and_runs_on_the_labelled_runners() -> None:
    benchmark = load(next(p for p in WORKFLOWS if p.name == "benchmark.yml"))
    job = benchmark["jobs"]["measure"]
    assert job["environment"] == "benchmark"
    labels = [entry["labels"] for entry in job["strategy"]["matrix"]["include"]]
    assert ["self-hosted", "tinymlperf-reference"] in labels
    assert ["self-hosted", "ARM64", "tinymlperf-edge"] in labels


def test_comment_workflow_downloads_artifacts_outside_the_workspace_and_only_from_the_triggering_run() -> None:
    comment = load(next(p for p in WORKFLOWS if p.name == "comment.yml"))
    downloads = [s for _, s in steps(comment) if s.get("uses", "").startswith("actions/download-artifact@")]
    assert downloads, "comment.yml must download the run's artifact"
    for step in downloads:
        assert step["with"]["path"].startswith("${{ runner.temp }}")
        assert step["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
