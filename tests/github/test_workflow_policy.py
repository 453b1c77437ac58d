"""Security policy of every workflow, read from the YAML: what can start which job, on which runner, with which
token, touching which code. A new workflow or job is checked by the same rules without editing this file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
LOCAL_WORKFLOW = re.compile(r"^(\$|\.)/\.github/workflows/([a-z0-9_-]+\.ya?ml)$")
PR_TEXT = re.compile(r"\$\{\{[^}]*(github\.event\.pull_request\.|github\.head_ref|\.title|\.body|head_branch|"
                     r"github\.event\.workflow_run\.(head_commit|display_title))")
# Events whose runs can be started or shaped by someone without write access.
PR_EVENTS = {"pull_request", "pull_request_target", "issue_comment", "pull_request_review",
             "pull_request_review_comment", "workflow_run", "issues", "discussion", "fork", "watch"}
ALLOWED_EVENTS = {"push", "pull_request", "pull_request_target", "workflow_run", "workflow_dispatch",
                  "workflow_call"}
RUNS_PR_CONTENT = ("tito pr overlay", "tito benchmark run", "tito submit --validate-only")


def load(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # BaseLoader: "on" stays a string
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


ALL = {path.name: load(path) for path in WORKFLOWS}


def steps(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from job.get("steps", [])


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, workflow in ALL.items():
        for job_id, job in workflow["jobs"].items():
            yield name, job_id, job


def triggers(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The events that can start `name`, following workflow_call back to every caller."""
    events = set(ALL[name]["on"]) - {"workflow_call"}
    if "workflow_call" in ALL[name]["on"]:
        for caller, _, job in jobs():
            match = LOCAL_WORKFLOW.match(job.get("uses", ""))
            if match and match.group(2) == name and caller not in seen:
                events |= triggers(caller, seen | {name})
    return events


def job_text(job: dict[str, Any]) -> str:
    return yaml.safe_dump(job)


def test_the_expected_workflows_exist_and_use_only_known_triggers() -> None:
    assert {"gate.yml", "validate.yml", "benchmark.yml", "comment.yml", "publish.yml", "rebenchmark.yml",
            "official.yml", "ci.yml"} <= set(ALL)
    for name, workflow in ALL.items():
        assert set(workflow["on"]) <= ALLOWED_EVENTS, f"{name}: unexpected triggers {set(workflow['on'])}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*(?:- )?uses:\s*(\S+)(.*)$", line)
        if not match or LOCAL_WORKFLOW.match(match.group(1)):
            continue
        target, rest = match.groups()
        assert PINNED.match(target), f"{path.name}: {target} is not pinned to a 40-hex commit SHA"
        assert re.search(r"#\s*v\d", rest), f"{path.name}: {target} lacks a '# vX.Y.Z' comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_top_level_permissions_are_empty_and_jobs_declare_their_own(path: Path) -> None:
    workflow = ALL[path.name]
    assert workflow.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {job_id} must declare its permissions"
        assert job["permissions"] not in ("write-all", "read-all"), f"{path.name}: {job_id} uses a blanket grant"


def test_no_secrets_and_no_caches_anywhere() -> None:
    for name, job_id, job in jobs():
        text = job_text(job)
        assert "secrets." not in text and "secrets: inherit" not in text, f"{name}: {job_id} uses secrets"
        for step in steps(job):
            assert not step.get("uses", "").startswith("actions/cache"), f"{name}: {job_id} uses a cache"
            assert "cache" not in step.get("with", {}), f"{name}: {job_id} enables a cache (cache poisoning)"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_pr_controlled_text_inside_run(path: Path) -> None:
    for job_id, job in ALL[path.name]["jobs"].items():
        for step in steps(job):
            script = step.get("run", "")
            assert not PR_TEXT.search(script), f"{path.name}: job {job_id} puts PR-controlled text in run"
            assert "${{" not in script, f"{path.name}: job {job_id} expands an expression inside run: (use env:)"


def test_checkout_never_persists_credentials_nor_checks_out_pr_code() -> None:
    for name, job_id, job in jobs():
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                options = step.get("with", {})
                assert options.get("persist-credentials") == "false", f"{name}: {job_id} persists credentials"
                assert "allow-unsafe-pr-checkout" not in options and "repository" not in options
                assert options.get("ref") in (None, "${{ github.sha }}", "results",
                                              "${{ github.event.pull_request.base.sha }}"), \
                    f"{name}: {job_id} checks out {options.get('ref')}: only the base, main or results branch"


def test_self_hosted_runners_are_reachable_only_from_maintainer_events_on_main() -> None:
    """No self-hosted job is ever started by a PR event or by a workflow file a PR could supply."""
    found = []
    for name, job_id, job in jobs():
        if "self-hosted" not in str(job.get("runs-on", "")):
            continue
        found.append((name, job_id))
        events = triggers(name)
        assert not events & PR_EVENTS, f"{name}: self-hosted job {job_id} is reachable from {events & PR_EVENTS}"
        assert events <= {"push", "workflow_dispatch"}, f"{name}: {job_id} reachable from {events}"
        for event_name in events:
            for origin in [n for n in ALL if event_name in ALL[n]["on"] and (n == name or
                           any(LOCAL_WORKFLOW.match(j.get("uses", "")) for j in ALL[n]["jobs"].values()))]:
                spec = ALL[origin]["on"][event_name]
                if event_name == "push":
                    assert spec.get("branches") == ["main"], f"{origin}: push must be limited to main"
                if event_name == "workflow_dispatch":  # a dispatch on another branch runs that branch's file
                    guards = [j.get("if", "") for j in ALL[origin]["jobs"].values()]
                    assert any(g == "github.ref == 'refs/heads/main'" for g in guards), \
                        f"{origin}: a dispatch must run only on main (github.ref, not a tag named main)"
    assert ("benchmark.yml", "measure") in found and ("official.yml", "measure") in found


def test_the_branch_guard_compares_the_full_ref_never_the_name() -> None:
    """`github.ref_name == 'main'` also passes for a tag named main; the guard compares refs/heads/main."""
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        assert "ref_name" not in text, f"{path.name} compares github.ref_name"
    for name in ("benchmark.yml", "measure.yml", "rebenchmark.yml", "publish.yml"):
        assert "github.ref == 'refs/heads/main'" in (ALL[name]["jobs"][next(iter(ALL[name]["jobs"]))].get("if", ""))


FETCHES_PR = ("git fetch", "pull_request.head", "HEAD_SHA")


def test_jobs_that_run_pr_content_get_a_read_only_token_and_nothing_else() -> None:
    touching = []
    for name, job_id, job in jobs():
        text = job_text(job)
        pr_event = bool(set(ALL[name]["on"]) & {"pull_request", "pull_request_target"})
        if any(marker in text for marker in RUNS_PR_CONTENT + FETCHES_PR) and (
                pr_event or any(marker in text for marker in RUNS_PR_CONTENT)):
            touching.append((name, job_id))
            assert job["permissions"] == {"contents": "read"}, f"{name}: {job_id} touches PR content with more"
            assert "github.token" not in text, f"{name}: {job_id} hands its token to a step near PR content"
        elif pr_event:  # a PR-event job that never fetches the PR: read-only, and its token only asks for a role
            assert job["permissions"] == {"contents": "read"}, f"{name}: {job_id} has more than contents: read"
            for step in steps(job):
                if "github.token" in yaml.safe_dump(step):
                    assert step.get("run", "").startswith("tito pr role "), f"{name}: {job_id} uses its token"
    assert {("validate.yml", "validate"), ("gate.yml", "gate"), ("benchmark.yml", "measure")} <= set(touching)


def test_maintainers_are_who_the_repository_says_never_author_association() -> None:
    for path in WORKFLOWS:
        assert ".author_association" not in path.read_text(encoding="utf-8"), f"{path.name} reads author_association"
    gate = ALL["gate.yml"]["jobs"]
    assert "tito pr role --login" in job_text(gate["author"])
    assert gate["gate"]["needs"] == "author" and "--maintainer" in job_text(gate["gate"])
    assert "--maintainer" in job_text(ALL["benchmark.yml"]["jobs"]["resolve"])


def test_pull_request_target_only_runs_the_gate_which_executes_nothing_from_the_pr() -> None:
    for name, workflow in ALL.items():
        if "pull_request_target" in workflow["on"]:
            assert name == "gate.yml", f"{name} uses pull_request_target"
    gate = ALL["gate.yml"]
    assert gate["on"]["pull_request_target"]["branches"] == ["main"]
    text = job_text(gate["jobs"]["gate"])
    assert not any(marker in text for marker in RUNS_PR_CONTENT), "the gate must never run the submission"
    assert "tito pr check-changes" in text and "--author" in text


def test_validate_uses_the_bases_code_and_overlays_only_the_folder() -> None:
    job = ALL["validate.yml"]["jobs"]["validate"]
    [checkout] = [s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    runs = [s.get("run", "") for s in steps(job)]
    order = [next(i for i, r in enumerate(runs) if marker in r)
             for marker in ("scripts/install_harness.sh", "tito pr check-changes", "tito pr overlay", "apparmor_restrict",
                            "tito benchmark run")]
    assert order == sorted(order), "install the base, gate, overlay the folder, set up the jail, then run"
    assert "--quick --runner-class local" in " ".join(runs)


def test_official_rerun_is_maintainer_dispatched_and_checks_the_reviewed_sha() -> None:
    benchmark = ALL["benchmark.yml"]
    assert set(benchmark["on"]) == {"workflow_dispatch"}
    assert {"pr", "sha", "runner-class"} <= set(benchmark["on"]["workflow_dispatch"]["inputs"])
    resolve = job_text(benchmark["jobs"]["resolve"])
    assert "tito pr resolve" in resolve and "tito pr check-changes" in resolve
    measure = benchmark["jobs"]["measure"]
    assert measure["needs"] == "resolve"
    runs = " ".join(s.get("run", "") for s in steps(measure))
    assert runs.index("tito pr overlay") < runs.index("tito submit --validate-only") < runs.index("benchmark run")


def test_only_the_comment_job_writes_pull_requests_and_it_reads_the_run_through_the_api() -> None:
    for name, job_id, job in jobs():
        if (job.get("permissions") or {}).get("pull-requests") == "write":
            assert name == "comment.yml", f"{name}: {job_id} must not write pull requests"
    comment = ALL["comment.yml"]
    assert set(comment["on"]) == {"workflow_run"}
    job = comment["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "contents": "read", "pull-requests": "write"}
    assert "tito pr comment --run-id" in job_text(job)
    assert not any(s.get("uses", "").startswith("actions/download-artifact@") for s in steps(job)), \
        "artifacts are fetched by name (tito pr comment), whatever their number"


def test_pages_and_id_token_are_granted_only_to_the_deploy_and_attest_jobs() -> None:
    for name, job_id, job in jobs():
        if "uses" in job:  # a call of our reusable workflow passes grants through to its jobs
            continue
        perms = job.get("permissions") or {}
        if perms.get("pages") == "write":
            assert job_id == "deploy", f"{name}: only the deploy job may write Pages"
        if perms.get("id-token") == "write" or perms.get("attestations") == "write":
            assert (name, job_id) in {("measure.yml", "deploy"), ("official.yml", "attest"),
                                      ("benchmark.yml", "attest")}, \
                f"{name}: {job_id} may not mint id tokens or write attestations"
            assert "self-hosted" not in str(job.get("runs-on")), f"{name}: {job_id} signs on a self-hosted runner"
            assert not any(marker in job_text(job) for marker in RUNS_PR_CONTENT)


def run_index(job: dict[str, Any], marker: str) -> int:
    return next(i for i, s in enumerate(steps(job)) if marker in s.get("run", "") or marker in s.get("uses", ""))


def test_each_chunk_is_checked_attested_verified_then_recorded_on_the_results_branch() -> None:
    chunk = ALL["official.yml"]["jobs"]
    assert set(ALL["official.yml"]["on"]["workflow_call"]["inputs"]) == {"runner-class", "chunk"}
    assert chunk["attest"]["needs"] == "measure" and chunk["record"]["needs"] == "attest"
    attest = chunk["attest"]
    assert run_index(attest, "tito pr collect") < run_index(attest, "actions/attest-build-provenance@")
    signer = list(steps(attest))[run_index(attest, "actions/attest-build-provenance@")]
    assert signer["with"]["subject-path"] == "${{ runner.temp }}/accepted/*.json", "only checked files are attested"
    record = chunk["record"]
    order = [run_index(record, m) for m in ("tito pr collect", "tito pr verify", "scripts/commit_results.sh")]
    assert order == sorted(order), "the record job verifies every attestation before it stores anything"
    verify = list(steps(record))[order[1]]["run"]
    commit = list(steps(record))[order[2]]
    assert '--results "$RUNNER_TEMP/accepted" --out "$RUNNER_TEMP/verified"' in verify
    assert '"$RUNNER_TEMP/verified"' in commit["run"], "only verified files are committed"
    assert commit["env"]["BRANCH"] == "results" and record["permissions"]["attestations"] == "read"
    for name, job_id, job in jobs():
        assert "BRANCH: main" not in job_text(job), f"{name}: {job_id} pushes to main"
    rerun = ALL["benchmark.yml"]["jobs"]["attest"]
    assert rerun["needs"] == "measure", "a PR's official rerun is attested too (signer: benchmark.yml on main)"
    assert run_index(rerun, "tito pr comment --results") < run_index(rerun, "actions/attest-build-provenance@")


def test_the_season_travels_as_a_plan_file_never_through_env_or_argv() -> None:
    season = ALL["measure.yml"]["jobs"]
    plan = season["plan"]
    assert "tito pr plan" in job_text(plan) and "name: plan" in job_text(plan)
    for rc in ("reference", "edge"):
        job = season[rc]
        assert job["strategy"]["matrix"] == f"${{{{ fromJSON(needs.plan.outputs.{rc}-matrix) }}}}"
        assert job["strategy"]["max-parallel"] == f"${{{{ fromJSON(needs.plan.outputs.{rc}-parallel) }}}}"
        assert job["with"] == {"runner-class": rc, "chunk": "${{ matrix.chunk }}"}
    measure = ALL["official.yml"]["jobs"]["measure"]
    runs = " ".join(s.get("run", "") for s in steps(measure))
    assert 'tito pr chunk --plan "$RUNNER_TEMP/plan/plan.json"' in runs and '< "$RUNNER_TEMP/chunk.txt"' in runs
    for name, job_id, job in jobs():
        text = job_text(job)
        assert "submissions }}" not in text and "inputs.matrix" not in text, f"{name}: {job_id} passes names"
        for key, value in (job.get("env") or {}).items():
            assert "matrix" not in str(value) or value.endswith("matrix.runner-class }}"), f"{name}: {job_id}.{key}"
    complete = season["complete"]
    assert "tito pr missing --plan" in job_text(complete) and complete["if"].startswith("${{ !cancelled()")


def test_the_site_is_built_and_deployed_in_one_job_from_the_newest_results() -> None:
    deploy = ALL["measure.yml"]["jobs"]["deploy"]
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": "false"}
    order = [run_index(deploy, m) for m in ("tito leaderboard build", "actions/upload-pages-artifact@",
                                              "actions/deploy-pages@")]
    assert order == sorted(order), "built inside the pages group, so the last deploy is always the newest build"
    assert any(s.get("with", {}).get("ref") == "results" for s in steps(deploy))


def expand(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("${{ " + key + " }}", value)
    assert "${{" not in template, template
    return template


def test_official_reruns_are_grouped_per_pr_and_runner_class_so_classes_run_side_by_side() -> None:
    benchmark = ALL["benchmark.yml"]
    assert "concurrency" not in benchmark, "a workflow-wide group per PR cancels the other class"
    group = benchmark["jobs"]["measure"]["concurrency"]["group"]
    reference = expand(group, **{"inputs.pr": "7", "matrix.runner-class": "reference"})
    edge = expand(group, **{"inputs.pr": "7", "matrix.runner-class": "edge"})
    assert reference != edge, "an edge dispatch must not cancel a reference measurement of the same PR"
    assert edge == expand(group, **{"inputs.pr": "7", "matrix.runner-class": "edge"}), "a re-dispatch supersedes"
    assert edge != expand(group, **{"inputs.pr": "8", "matrix.runner-class": "edge"})
    resolve = benchmark["jobs"]["resolve"]["concurrency"]["group"]
    assert "inputs.runner-class" in resolve and "inputs.pr" in resolve


def test_github_hosted_jobs_install_the_locked_dependencies_and_the_arm_smoke_is_never_ranked() -> None:
    for name, job_id, job in jobs():
        text = job_text(job)
        if "self-hosted" not in str(job.get("runs-on", "")) and "tito " in text:
            assert "scripts/install_harness.sh" in text, f"{name}: {job_id} installs unlocked dependencies"
        assert "pip install -e ." not in text, f"{name}: {job_id} resolves dependencies without the lock"
    smoke = ALL["edge-smoke.yml"]["jobs"]["smoke"]
    assert smoke["runs-on"] == "ubuntu-24.04-arm" and smoke["permissions"] == {"contents": "read"}
    text = job_text(smoke)
    assert "apt-get install -y -qq --no-install-recommends bubblewrap" in text and "--runner-class local" in text
    uploads = [s["with"]["name"] for s in steps(smoke) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads == ["edge-smoke-unofficial"], "never an artifact name the comment or record jobs read"


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
PAYLOADS = {"pull_request": "pull_request_synchronize", "pull_request_target": "pull_request_synchronize",
            "workflow_run": "workflow_run_validate_fork", "workflow_dispatch": "workflow_dispatch_benchmark",
            "push": "push_merge"}


def test_workflows_read_only_fields_the_recorded_event_payloads_have() -> None:
    """Every `github.event.<path>` a workflow reads exists in a recorded payload of each event that starts it."""
    import json

    checked = 0
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        for event_name in triggers(path.name):
            payload = json.loads((FIXTURES / f"{PAYLOADS[event_name]}.json").read_text(encoding="utf-8"))
            for expression in sorted(set(re.findall(r"github\.event\.([A-Za-z_.0-9-]+)", text))):
                node: Any = payload
                for key in expression.split("."):
                    node = node.get(key) if isinstance(node, dict) else None
                assert node is not None, f"{path.name} reads github.event.{expression}, absent on {event_name}"
                checked += 1
    assert checked >= 8
