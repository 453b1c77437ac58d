"""zizmor (offline) and the GitHub workflow JSON schema report nothing on .github/workflows."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


@pytest.mark.skipif(shutil.which("zizmor") is None, reason="zizmor is not installed")
def test_zizmor_offline_has_no_findings() -> None:
    done = subprocess.run(["zizmor", "--offline", "--format", "plain", ".github"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema is not installed")
def test_workflows_match_the_github_workflow_schema() -> None:
    done = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema is not installed")
def test_dependabot_and_issue_forms_match_their_schemas() -> None:
    github = ROOT / ".github"
    for schema, files in (("vendor.dependabot", [github / "dependabot.yml"]),
                          ("vendor.github-issue-forms", sorted((github / "ISSUE_TEMPLATE").glob("[!c]*.yml")))):
        done = subprocess.run(["check-jsonschema", "--builtin-schema", schema, *map(str, files)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
