"""The GitHub loop event by event: recorded workflow event payloads (tests/fixtures/github) played against the local
fake GitHub API, through the same `tito pr ...` commands the workflows run."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from competition.github import artifact, download, plan, provenance, record, sticky
from tests.github.fake_github import FakeGitHub
from tests.github.gitrepo import commit, git, init_repo, write
from tests.github.test_changes import run_cli
from tests.leaderboard.factory import make_result

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
REPO = "tinymlperf/tinymlperf"
HEAD, NEW_HEAD, MAIN = "a1" * 20, "c3" * 20, "b2" * 20
FORK_PR = {"sha": HEAD, "ref": "ada-entry", "repo": "ada/tinymlperf", "user": "ada"}
EVENTS = ("mlp_sprint", "cnn_marathon")


def event(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def zipped(files: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, document in files.items():
            archive.writestr(name, json.dumps(document))
    return buffer.getvalue()


def results_artifact(runner_class: str, sha: str = HEAD, pr: int = 7, harness: str | None = MAIN,
                     speedup: float = 1.5, claimed_class: str | None = None) -> bytes:
    files: dict[str, Any] = {"metadata.json": {"pr_number": pr, "head_sha": sha,
                                               "runner_class": claimed_class or runner_class}}
    for event_id in EVENTS:
        result = make_result("ada", event_id=event_id, runner_class=claimed_class or runner_class, speedup=speedup)
        result["harness"]["git_commit"] = harness
        files[f"{result['result_id']}.json"] = result
    return zipped(files)


def comment_for(fake: FakeGitHub, payload: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                artifacts: dict[str, bytes]) -> int:
    """What comment.yml does for this workflow_run event: `tito pr comment --run-id ID` (the run's validate.yml is
    main's, byte for byte)."""
    fake.add_run(payload["workflow_run"], artifacts)
    for ref in ("main", payload["workflow_run"]["head_sha"]):
        fake.blobs.setdefault((ref, provenance.VALIDATE_PATH), "11" * 20)
    monkeypatch.setenv("GITHUB_TOKEN", "comment-token")
    return run_cli(["pr", "comment", "--run-id", str(payload["workflow_run"]["id"]), "--repo", REPO, "--api-url",
                    fake.base_url, "--store", "/nonexistent", "--download-dir", str(tmp_path / "dl")])


def bot_bodies(fake: FakeGitHub) -> list[str]:
    return [c["body"] for c in fake.comments if c["user"]["login"] == sticky.BOT_LOGIN]


def test_fork_pr_with_empty_pull_requests_is_found_from_the_head_sha(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    payload = event("workflow_run_validate_fork")
    assert payload["workflow_run"]["pull_requests"] == []
    with FakeGitHub(REPO, {6: {"sha": "e5" * 20, "ref": "other"}, 7: FORK_PR}) as fake:
        assert comment_for(fake, payload, tmp_path, monkeypatch, {"results-local": results_artifact("local")}) == 0
        [body] = bot_bodies(fake)
        assert [c["issue"] for c in fake.comments] == [7]
        assert ("GET", f"/repos/{REPO}/pulls") in fake.requests, "found through the API from the head SHA"
        assert "## Smoke run on a GitHub-hosted machine (unverified)" in body and f"commit `{HEAD}`" in body
        storage = [auth for path, auth in fake.authorization if path.startswith("/storage/")]
        assert storage == [None], "the token must never be sent to the artifact storage host"


def test_same_repo_pr_is_taken_from_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub(REPO, {7: {**FORK_PR, "repo": REPO}}) as fake:
        payload = event("workflow_run_validate_same_repo")
        assert comment_for(fake, payload, tmp_path, monkeypatch, {"results-local": results_artifact("local")}) == 0
        assert ("GET", f"/repos/{REPO}/pulls") not in fake.requests, "pull_requests named the PR; no search"
        assert len(bot_bodies(fake)) == 1


def test_validate_run_with_a_single_artifact_and_with_several(tmp_path: Path) -> None:
    payload = event("workflow_run_validate_fork")["workflow_run"]
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        fake.add_run(payload, {"results-local": results_artifact("local")})
        gh = sticky.client("t", fake.base_url)
        one = download.download_artifacts(gh, "t", REPO, payload["id"], ["results-local"], tmp_path / "one")
        assert one == {"results-local": tmp_path / "one" / "results-local.zip"}
        assert artifact.check_artifact(one["results-local"], HEAD, 7).runner_class == "local"
        fake.add_run({**payload, "id": 9999}, {"results-reference": results_artifact("reference"),
                                                "results-edge": results_artifact("edge"), "other": b"x"})
        many = download.download_artifacts(gh, "t", REPO, 9999, ["results-reference", "results-edge"],
                                           tmp_path / "many")
        assert sorted(p.name for p in many.values()) == ["results-edge.zip", "results-reference.zip"]


def test_push_to_a_pr_posts_only_results_of_its_current_head(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pushed = event("pull_request_synchronize")["pull_request"]
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        assert comment_for(fake, event("workflow_run_validate_fork"), tmp_path / "a", monkeypatch,
                           {"results-local": results_artifact("local")}) == 0
        fake.pulls[7]["sha"] = pushed["head"]["sha"]  # the student pushes; the old run's late artifact is stale
        fake.add_run({**event("workflow_run_validate_fork")["workflow_run"], "id": 9011},
                     {"results-local": results_artifact("local")})
        fake.blobs[(HEAD, provenance.VALIDATE_PATH)] = fake.blobs[("main", provenance.VALIDATE_PATH)]
        monkeypatch.setenv("GITHUB_TOKEN", "t")
        assert run_cli(["pr", "comment", "--run-id", "9011", "--repo", REPO, "--api-url", fake.base_url,
                        "--store", "/nonexistent"]) == 0
        assert f"commit `{HEAD}`" in bot_bodies(fake)[0], "nothing posted for a commit that is no longer the head"
        assert comment_for(fake, event("workflow_run_validate_after_push"), tmp_path / "b", monkeypatch,
                           {"results-local": results_artifact("local", sha=NEW_HEAD)}) == 0
        [body] = bot_bodies(fake)
        assert f"commit `{NEW_HEAD}`" in body and HEAD not in body


def test_a_run_without_artifacts_comments_only_when_it_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    code_pr = event("workflow_run_validate_fork")
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        assert comment_for(fake, code_pr, tmp_path / "a", monkeypatch, {}) == 0
        assert fake.comments == [] and "a code PR" in capsys.readouterr().out
        failed = {**code_pr, "workflow_run": {**code_pr["workflow_run"], "id": 9005, "conclusion": "failure"}}
        assert comment_for(fake, failed, tmp_path / "b", monkeypatch, {}) == 0
        [body] = bot_bodies(fake)
        assert "No results were produced for this commit" in body
        assert "https://github.com/tinymlperf/tinymlperf/actions/runs/9001" in body  # the run's log


def test_maintainer_triggered_run_is_shown_as_official(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        assert comment_for(fake, event("workflow_run_validate_fork"), tmp_path / "a", monkeypatch,
                           {"results-local": results_artifact("local")}) == 0
        official = {"results-reference": results_artifact("reference"), "results-edge": results_artifact("edge")}
        assert comment_for(fake, event("workflow_run_benchmark_dispatch"), tmp_path / "b", monkeypatch,
                           official) == 0
        [body] = bot_bodies(fake)
        assert "## Official rerun: reference runner (x86)" in body and "## Official rerun: edge runner (ARM64)" in body
        assert "Smoke run on a GitHub-hosted machine (unverified)" in body, "the smoke section stays, labelled"
        assert body.index("Smoke run") < body.index("Official rerun: reference")


def test_dispatch_inputs_are_checked_against_the_pr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    inputs = event("workflow_dispatch_benchmark")["inputs"]
    monkeypatch.setenv("GITHUB_TOKEN", "read-only")
    output = tmp_path / "out"
    with FakeGitHub(REPO, {7: {**FORK_PR, "base_sha": "d4" * 20}}) as fake:
        argv = ["pr", "resolve", "--pr", inputs["pr"], "--sha", inputs["sha"], "--repo", REPO, "--api-url",
                fake.base_url, "--github-output", str(output)]
        assert run_cli(argv) == 0
        assert output.read_text() == f"base_sha={'d4' * 20}\nauthor=ada\nmaintainer=false\n"
        assert ("GET", f"/repos/{REPO}/collaborators/ada/permission") in fake.requests
        fake.pulls[7]["sha"] = NEW_HEAD  # pushed after the maintainer's review
        assert run_cli(argv) == 1
        assert "not the " + HEAD + " you reviewed" in capsys.readouterr().err


@pytest.mark.parametrize("fixture", ["workflow_run_benchmark_from_pr", "workflow_run_renamed_workflow",
                                     "workflow_run_benchmark_dispatch_branch"])
def test_forged_official_runs_are_never_shown(fixture: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    forged = {"results-reference": results_artifact("reference", speedup=40.0),
              "results-local": results_artifact("local", speedup=40.0)}
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        assert comment_for(fake, event(fixture), tmp_path, monkeypatch, forged) == 0
        assert fake.comments == []
        assert not any(path.startswith("/storage/") for _, path in fake.requests), "nothing is even downloaded"
    assert "nothing from run" in capsys.readouterr().out


def test_a_smoke_artifact_claiming_a_maintainers_runner_is_rejected(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture) -> None:
    claimed = {"results-local": results_artifact("local", claimed_class="reference", speedup=40.0),
               "results-reference": results_artifact("reference", speedup=40.0)}
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        assert comment_for(fake, event("workflow_run_validate_fork"), tmp_path, monkeypatch, claimed) == 1
        assert fake.comments == []
    err = capsys.readouterr().err
    assert "runner_class 'reference' cannot come from this workflow run (allowed: local)" in err


def test_an_official_artifact_from_another_harness_commit_is_rejected(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture) -> None:
    stale = {"results-reference": results_artifact("reference", harness="f6" * 20)}
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        assert comment_for(fake, event("workflow_run_benchmark_dispatch"), tmp_path, monkeypatch, stale) == 1
        assert fake.comments == []
    assert f"is not the commit the run checked out ({MAIN})" in capsys.readouterr().err


def test_provenance_is_decided_by_path_event_branch_and_repository() -> None:
    kinds = {name: provenance.classify(provenance.RunInfo.from_api(event(name)["workflow_run"]), REPO, "main").kind
             for name in ("workflow_run_validate_fork", "workflow_run_benchmark_dispatch",
                          "workflow_run_benchmark_from_pr", "workflow_run_renamed_workflow",
                          "workflow_run_benchmark_dispatch_branch")}
    assert kinds == {"workflow_run_validate_fork": "smoke", "workflow_run_benchmark_dispatch": "official",
                     "workflow_run_benchmark_from_pr": "untrusted", "workflow_run_renamed_workflow": "untrusted",
                     "workflow_run_benchmark_dispatch_branch": "untrusted"}


def _entries(repo: Path, names: list[str]) -> None:
    write(repo, {f"submissions/{n}/submission.yaml": f"github_handle: {n}\n" for n in names})


def test_merge_measures_the_merged_submission_and_records_only_checked_results(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    repo = init_repo(tmp_path / "repo", {"submissions/baseline/submission.yaml": "github_handle: tinymlperf\n",
                                         "submissions/zoe/submission.yaml": "github_handle: zoe\n"})
    before = git(repo, "rev-parse", "HEAD")
    _entries(repo, ["ada"])
    after = commit(repo, "Merge pull request #7")
    plan_file = tmp_path / "plan.json"
    assert run_cli(["pr", "plan", "--changed-since", before, "--harness-commit", after, "--out", str(plan_file),
                    "--repo-dir", str(repo)]) == 0
    made = plan.load(plan_file)
    assert [(c.runner_class, c.names, c.artifact) for c in made.chunks] == [
        ("reference", ("ada",), "official-reference-0"), ("edge", ("ada",), "official-edge-0")]

    def official(runner_class: str, name: str = "ada", harness: str = after, quick: bool = False) -> dict:
        result = make_result(name, runner_class=runner_class)
        result["harness"]["git_commit"] = harness
        if quick:
            result["config"] = {"quick": True, "rounds": 3, "blas_threads": 1, "seed_sha256": "0" * 64}
        return result

    good, forged, stale = official("reference"), official("reference", name="zoe"), official("edge", harness=MAIN)
    quick = official("edge", quick=True)
    quick["result_id"] = quick["result_id"].replace("2026", "2027", 1)
    artifacts = tmp_path / "artifacts"
    (artifacts / "official-reference-0").mkdir(parents=True)
    for result in (good, forged):
        (artifacts / "official-reference-0" / f"{result['result_id']}.json").write_text(json.dumps(result))
    (artifacts / "official-edge-0.zip").write_bytes(zipped({f"{r['result_id']}.json": r for r in (stale, quick)}))
    collect = ["pr", "collect", "--artifacts", str(artifacts), "--plan", str(plan_file)]
    out = tmp_path / "accepted"
    assert run_cli([*collect, "--runner-class", "reference", "--chunk", "0", "--out", str(out)]) == 1, \
        "a chunk with a refused result is red (its good results are still kept)"
    assert sorted(p.name for p in out.iterdir()) == [f"{good['result_id']}.json"]
    assert "submission 'zoe' was not measured by this job (['ada'])" in capsys.readouterr().err
    assert run_cli([*collect, "--runner-class", "edge", "--chunk", "0", "--out", str(out)]) == 1
    assert list(out.iterdir()) == []
    err = capsys.readouterr().err
    assert f"harness commit {MAIN} is not the run's {after}" in err
    assert "is a quick (smoke) run" in err and "holds no acceptable result of 'ada'" in err


def test_a_missing_artifact_is_reported_and_nothing_is_invented(tmp_path: Path) -> None:
    chunks = plan.make(["ada"], ["reference"], MAIN).chunks
    collected = record.collect({}, chunks, MAIN, tmp_path / "out")
    assert not collected.accepted and "official-reference-0: was not uploaded" in str(collected.problems[0])


def test_a_chunk_artifact_may_hold_the_results_of_all_its_submissions(tmp_path: Path) -> None:
    names = [f"entry-{i:02d}" for i in range(20)]
    [chunk] = plan.make(names, ["reference"], MAIN, chunk_size=20).chunks
    files = {}
    for name in names:
        for event_id in EVENTS:
            result = make_result(name, event_id=event_id)
            result["harness"]["git_commit"] = MAIN
            files[f"{result['result_id']}.json"] = result
    assert len(files) > artifact.MAX_FILES
    (tmp_path / f"{chunk.artifact}.zip").write_bytes(zipped(files))
    collected = record.collect({chunk.artifact: tmp_path / f"{chunk.artifact}.zip"}, [chunk], MAIN, tmp_path / "ok")
    assert not collected.problems and len(collected.accepted) == 40


def test_an_unknown_run_is_an_error_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    with FakeGitHub(REPO, {}) as fake:
        assert run_cli(["pr", "comment", "--run-id", "424242", "--repo", REPO, "--api-url", fake.base_url]) == 1
    assert "the GitHub API call failed (UnknownObjectException" in capsys.readouterr().err
