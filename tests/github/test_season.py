"""A season at scale, event by event: 3 000 entries with 64-character names planned, measured chunk by chunk and
recorded (a chunk lost in the queue ends red, a resume measures only what is missing), a course organization's
member refused on another's folder, a smoke artifact from a modified validate.yml not shown, implausible values
not shown, a failed official run commented, two runner classes of one PR measured side by side, and only attested
results recorded. Recorded payloads (tests/fixtures/github) against the local fake API and a stand-in for gh."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from competition.github import attest, plan, record
from competition.results import dumps
from tests.github.fake_github import FakeGitHub
from tests.github.gitrepo import commit, init_repo, write
from tests.github.test_changes import run_cli
from tests.leaderboard.factory import make_result

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
FAKE_GH = Path(__file__).resolve().parent / "fake_gh.py"
REPO = "tinymlperf/tinymlperf"
HEAD, MAIN = "a1" * 20, "b2" * 20
FORK_PR = {"sha": HEAD, "ref": "ada-entry", "repo": "ada/tinymlperf", "user": "ada"}
VALIDATE = ".github/workflows/validate.yml"
MAX_ARG_STRLEN = 128 * 1024  # Linux's limit on one argument or environment string


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def zipped(files: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, document in files.items():
            archive.writestr(name, document if isinstance(document, str) else json.dumps(document))
    return buffer.getvalue()


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())


# --- 3 000 entries: plan -> measure -> record, a missing chunk, a resume ----------------------------------------

def entry_names(count: int) -> list[str]:
    return [f"{i:04d}-" + "x" * 59 for i in range(count)]


def season_repo(tmp_path: Path, names: list[str]) -> Path:
    repo = init_repo(tmp_path / "repo", {"submissions/baseline/submission.yaml": "github_handle: tinymlperf\n"})
    write(repo, {f"submissions/{n}/submission.yaml": f"github_handle: {n[:5]}\n" for n in names})
    commit(repo, f"{len(names)} entries")
    return repo


class Results:
    """TEST DATA: result dicts made from one template per runner class (the factory validates each template)."""

    def __init__(self) -> None:
        self.templates = {rc: make_result("template", event_id="mlp_sprint", runner_class=rc)
                          for rc in plan.OFFICIAL_CLASSES}

    def of(self, name: str, runner_class: str, harness: str) -> dict[str, Any]:
        result = copy.deepcopy(self.templates[runner_class])
        result["submission"]["name"] = name
        result["result_id"] = result["result_id"].replace("template", name, 1)
        result["harness"]["git_commit"] = harness
        return result


def measure(chunk: plan.Chunk, results: Results, harness: str, folder: Path) -> Path:
    """What a chunk's measure job uploads: one result per entry, as `tito benchmark run` writes them."""
    path = folder / f"{chunk.artifact}.zip"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zipped({f"{r['result_id']}.json": dumps(r) for r in
                             (results.of(name, chunk.runner_class, harness) for name in chunk.names)}))
    return path


def record_chunk(plan_file: Path, chunk: plan.Chunk, artifacts: Path, store: Path, work: Path) -> int:
    """The chunk's record job: `tito pr collect` (plan file, chunk number), then the accepted files are stored."""
    accepted = work / "accepted" / chunk.artifact
    code = run_cli(["pr", "collect", "--artifacts", str(artifacts), "--plan", str(plan_file), "--runner-class",
                    chunk.runner_class, "--chunk", str(chunk.index), "--out", str(accepted)])
    store.mkdir(parents=True, exist_ok=True)
    for path in accepted.glob("*.json"):
        (store / path.name).write_bytes(path.read_bytes())
    return code


def test_3000_entries_with_64_character_names_are_planned_measured_recorded_and_resumed(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "write_atomic", lambda path, text: Path(path).write_text(text))  # no fsync x 6 000
    names = entry_names(3000)
    assert all(len(n) == 64 for n in names)
    repo = season_repo(tmp_path, names)
    github_output, plan_file = tmp_path / "github_output", tmp_path / "plan.json"
    assert run_cli(["pr", "plan", "--out", str(plan_file), "--harness-commit", MAIN, "--repo-dir", str(repo),
                    "--include-baseline", "--chunk-size", "10", "--config", "/nonexistent",
                    "--github-output", str(github_output)]) == 0
    capsys.readouterr()
    made = plan.load(plan_file)
    assert plan_file.stat().st_size > MAX_ARG_STRLEN, "the plan would not fit in one environment variable"
    values = outputs(github_output)
    assert max(len(v) for v in values.values()) < 4096 and not any(names[0] in v for v in values.values()), \
        "the job outputs (the matrices) carry chunk numbers only, never names"
    assert len(made.chunks) <= plan.MAX_MATRIX_JOBS, "both classes' matrices together stay within 256 jobs"
    for rc in plan.OFFICIAL_CLASSES:
        chunks = made.of_class(rc)
        assert json.loads(values[f"{rc}-matrix"]) == made.matrix(rc)
        assert values[f"{rc}-jobs"] == str(len(chunks)) and values[f"{rc}-parallel"] == "1"
        measured = [n for c in chunks for n in c.names]
        assert measured == ["baseline", *names], "each entry once per class, the baseline first"

    names_file = tmp_path / "chunk.txt"
    assert run_cli(["pr", "chunk", "--plan", str(plan_file), "--runner-class", "edge", "--chunk", "7", "--out",
                    str(names_file)]) == 0
    assert names_file.read_text().split() == list(made.chunk("edge", 7).names)

    results, artifacts, store = Results(), tmp_path / "artifacts", tmp_path / "results-branch"
    lost = made.chunk("edge", 7)  # cancelled in the queue: never uploaded
    for chunk in made.chunks:
        if chunk != lost:
            measure(chunk, results, MAIN, artifacts)
            assert record_chunk(plan_file, chunk, artifacts, store, tmp_path) == 0
    assert record_chunk(plan_file, lost, artifacts, store, tmp_path) == 1, "a chunk without its artifact is red"
    assert f"{lost.artifact}: was not uploaded" in capsys.readouterr().err
    assert len(list(store.glob("*.json"))) == 2 * 3001 - len(lost.names)

    summary = tmp_path / "summary.md"
    assert run_cli(["pr", "missing", "--plan", str(plan_file), "--store", str(store), "--summary",
                    str(summary)]) == 1
    table = summary.read_text()
    assert f"{len(lost.names)} of {2 * 3001} planned results are missing" in table
    assert all(f"| edge           |       7 | {name} |" in table for name in lost.names)
    assert "-f resume=true" in table

    assert run_cli(["pr", "plan", "--out", str(plan_file), "--harness-commit", MAIN, "--repo-dir", str(repo),
                    "--include-baseline", "--chunk-size", "10", "--config", "/nonexistent",
                    "--resume-store", str(store)]) == 0
    resumed = plan.load(plan_file)
    assert [(c.runner_class, n) for c in resumed.chunks for n in c.names] == [("edge", n) for n in lost.names]
    assert resumed.skipped == 2 * 3001 - len(lost.names)
    for chunk in resumed.chunks:
        measure(chunk, results, MAIN, artifacts / "resumed")
        assert record_chunk(plan_file, chunk, artifacts / "resumed", store, tmp_path / "resumed") == 0
    assert run_cli(["pr", "missing", "--plan", str(plan_file), "--store", str(store)]) == 0
    plan.write(made, plan_file)
    assert run_cli(["pr", "missing", "--plan", str(plan_file), "--store", str(store)]) == 0, \
        "after the resume the original run's plan is complete too"


def test_a_chunk_that_drops_an_entry_or_brings_a_stranger_is_red(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    made = plan.make(["ada", "zoe"], ["reference"], MAIN, chunk_size=2)
    [chunk] = made.chunks
    results = Results()
    stranger = results.of("mallory", "reference", MAIN)
    (tmp_path / f"{chunk.artifact}.zip").write_bytes(zipped({
        f"{stranger['result_id']}.json": dumps(stranger),
        f"{results.of('ada', 'reference', MAIN)['result_id']}.json": dumps(results.of("ada", "reference", MAIN))}))
    collected = record.collect({chunk.artifact: tmp_path / f"{chunk.artifact}.zip"}, [chunk], MAIN, tmp_path / "ok")
    problems = "\n".join(map(str, collected.problems))
    assert "submission 'mallory' was not measured by this job" in problems
    assert "holds no acceptable result of 'zoe'" in problems
    assert [p.name for p in (tmp_path / "ok").iterdir()] == [f"{results.of('ada', 'reference', MAIN)['result_id']}.json"]
    assert (tmp_path / "ok" / f"{results.of('ada', 'reference', MAIN)['result_id']}.json").read_text() == \
        dumps(results.of("ada", "reference", MAIN)), "written in the store's canonical form (what is attested)"


def test_plan_inputs_only_shard_and_limits() -> None:
    names = [f"e{i:03d}" for i in range(10)]
    assert plan.select(names, ["e003", "e001"]) == ["e001", "e003"]
    assert plan.select(names, (), "2/3") == ["e001", "e004", "e007"]
    assert sorted(plan.select(names, (), "1/2") + plan.select(names, (), "2/2")) == names
    with pytest.raises(plan.PlanError, match="input 'only' names 1 folder"):
        plan.select(names, ["nobody"])
    with pytest.raises(plan.PlanError, match="input 'shard' is '3/2'"):
        plan.select(names, (), "3/2")
    many = [f"e{i:05d}" for i in range(plan.MAX_MATRIX_JOBS * plan.MAX_CHUNK + 1)]
    with pytest.raises(plan.PlanError, match="measure in shards"):
        plan.make(many, ["reference"], MAIN)
    assert len(plan.make(plan.select(many, (), "1/2"), ["reference"], MAIN).chunks) <= plan.MAX_MATRIX_JOBS


def test_max_parallel_is_the_number_of_registered_runners(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    fingerprints = ["a" * 64, "b" * 64, "c" * 64]
    config.write_text("runners:\n" + "".join(f"  - fingerprint: {f}\n    class: reference\n    name: ref-{i}\n"
                                             for i, f in enumerate(fingerprints[:2]))
                      + f"  - fingerprint: {fingerprints[2]}\n    class: edge\n    name: pi\n")
    assert plan.registered_runners(config) == {"reference": 2, "edge": 1}
    assert plan.registered_runners(tmp_path / "absent.yaml") == {"reference": 1, "edge": 1}


# --- a course organization: members are not maintainers ---------------------------------------------------------

def test_a_classroom_member_editing_another_students_folder_is_refused(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    payload = fixture("pull_request_target_classroom_member")["pull_request"]
    assert payload["author_association"] == "MEMBER", "GitHub calls every student of the organization a member"
    repo = init_repo(tmp_path / "repo", {"submissions/zoe/submission.yaml": "github_handle: zoe\n",
                                         "submissions/zoe/model.py": "# zoe\n"})
    write(repo, {"submissions/zoe/model.py": "# sabotaged by mallory\n"})
    head = commit(repo, "edit zoe")
    teacher = tmp_path / "teacher_output"
    monkeypatch.setenv("GITHUB_TOKEN", "gate-token")
    output = tmp_path / "github_output"
    with FakeGitHub(REPO, {}) as fake:
        fake.roles = {"mallory": "write", "zoe": "write", "teacher": "maintain"}
        author = payload["user"]["login"]
        assert run_cli(["pr", "role", "--login", author, "--repo", REPO, "--api-url", fake.base_url,
                        "--github-output", str(output)]) == 0
        assert ("GET", f"/repos/{REPO}/collaborators/mallory/permission") in fake.requests
        assert outputs(output) == {"maintainer": "false"}, "write access (a Classroom student) is not maintainer"
        assert run_cli(["pr", "role", "--login", "teacher", "--repo", REPO, "--api-url", fake.base_url,
                        "--github-output", str(teacher)]) == 0
        assert outputs(teacher) == {"maintainer": "true"}
    assert run_cli(["pr", "check-changes", "--base", "HEAD~1", "--head", head, "--author", author,
                    "--maintainer", outputs(output)["maintainer"], "--repo-dir", str(repo)]) == 1
    assert "submissions/zoe/ belongs to @zoe; @mallory may not change it" in capsys.readouterr().err


def test_only_listed_logins_with_the_role_are_maintainers_and_bots_change_only_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from competition.github import maintainers

    config = tmp_path / "maintainers.yml"
    config.write_text("role: maintain\nlogins: [Teacher]\nbots: ['dependabot[bot]']\n")
    loaded = maintainers.load(config)
    assert loaded.decides("teacher", "admin") and not loaded.decides("assistant", "maintain")
    assert not loaded.decides("teacher", "write") and not loaded.decides("teacher", None)
    config.write_text("role: write\n")
    with pytest.raises(maintainers.ConfigError, match="field 'role' is 'write'"):
        maintainers.load(config)
    repo = init_repo(tmp_path / "repo", {"competition/run.py": "# harness\n", "README.md": "x\n"})
    write(repo, {"competition/run.py": "# bumped\n"})
    head = commit(repo, "bump")
    from competition.github import changes

    assert changes.gate("HEAD~1", head, "dependabot[bot]", False, repo, ("dependabot[bot]",)).kind == "code"
    student = changes.gate("HEAD~1", head, "mallory", False, repo, ("dependabot[bot]",))
    assert student.kind == "submission" and not student.ok, "a student's code PR gets the rule (and fails it)"


# --- the comment: forged smoke artifacts, implausible values, failed official runs, two classes -----------------

def results_artifact(runner_class: str, speedup: float = 1.5, compression: float = 1.0, drop: float = 0.0,
                     harness: str = MAIN) -> bytes:
    files: dict[str, Any] = {"metadata.json": {"pr_number": 7, "head_sha": HEAD, "runner_class": runner_class}}
    result = make_result("ada", event_id="mlp_sprint", runner_class=runner_class, speedup=speedup,
                         compression=compression)
    result["scores"]["accuracy_delta_points"] = -drop
    result["harness"]["git_commit"] = harness
    files[f"{result['result_id']}.json"] = result
    return zipped(files)


def comment_on(fake: FakeGitHub, run: dict[str, Any], artifacts: dict[str, bytes], tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> int:
    fake.add_run(run, artifacts)
    monkeypatch.setenv("GITHUB_TOKEN", "comment-token")
    return run_cli(["pr", "comment", "--run-id", str(run["id"]), "--repo", REPO, "--api-url", fake.base_url,
                    "--store", "/nonexistent", "--download-dir", str(tmp_path / f"dl-{run['id']}")])


def bodies(fake: FakeGitHub) -> list[str]:
    return [c["body"] for c in fake.comments]


def test_a_smoke_artifact_from_a_modified_validate_yml_is_not_shown(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    run = fixture("workflow_run_validate_fork")["workflow_run"]
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        fake.blobs = {("main", VALIDATE): "11" * 20, (HEAD, VALIDATE): "66" * 20}  # the PR edited the file
        forged = {"results-local": results_artifact("local", speedup=1e9)}
        assert comment_on(fake, run, forged, tmp_path, monkeypatch) == 0
        [body] = bodies(fake)
        assert "Smoke run: not shown" in body and f"`{VALIDATE}` differs from main's" in body
        assert "1e+09" not in body and "speedup" not in body
        assert not any(path.startswith("/storage/") for _, path in fake.requests), "the artifact is never read"


@pytest.mark.parametrize(("values", "reason"), [
    ({"speedup": 1e9}, "speedup 1e+09× is outside 0.5–100×"),
    ({"speedup": 0.2}, "speedup 0.2× is outside 0.5–100×"),
    ({"compression": 250.0}, "compression 250× is outside 1–100×"),
    ({"drop": 30.0}, "accuracy drop of 30 points is not under 10"),
])
def test_implausible_values_are_not_shown_with_the_reason(values: dict, reason: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    run = fixture("workflow_run_validate_fork")["workflow_run"]
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        fake.blobs = {("main", VALIDATE): "11" * 20, (HEAD, VALIDATE): "11" * 20}  # byte-identical
        assert comment_on(fake, run, {"results-local": results_artifact("local", **values)}, tmp_path,
                          monkeypatch) == 0
        [body] = bodies(fake)
    assert f"**implausible, not shown**: {reason}" in body
    assert "your submission" not in body, "no number of that result is printed"


def test_a_plausible_smoke_run_with_main_s_validate_yml_is_shown(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    run = fixture("workflow_run_validate_fork")["workflow_run"]
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        fake.blobs = {("main", VALIDATE): "11" * 20, (HEAD, VALIDATE): "11" * 20}
        assert comment_on(fake, run, {"results-local": results_artifact("local")}, tmp_path, monkeypatch) == 0
        [body] = bodies(fake)
    assert "Smoke run on a GitHub-hosted machine (unverified)" in body and "speedup **1.500×**" in body


def test_a_failed_official_run_is_commented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = fixture("workflow_run_benchmark_failed")["workflow_run"]
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        fake.jobs[run["id"]] = fixture("actions_run_jobs_failed")["jobs"]
        assert comment_on(fake, run, {"results-reference": results_artifact("reference")}, tmp_path,
                          monkeypatch) == 0
        [body] = bodies(fake)
    assert "## Official rerun: reference runner (x86)" in body and "speedup **1.500×**" in body
    assert ("official run failed: job 'Official rerun (edge)' failed at step 'Official rerun in the jail', "
            "a maintainer will retry") in body
    assert body.count("official run failed") == 1, "the class that succeeded is not reported as failed"


def test_an_official_run_that_failed_before_measuring_names_the_pr_from_its_run_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = {**fixture("workflow_run_benchmark_failed")["workflow_run"], "id": 9201}
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        fake.jobs[9201] = [{"name": "Check the PR and its submission folder with main's code", "conclusion": "failure",
                            "steps": [{"name": "The PR is open, targets main, its head is the SHA reviewed, its "
                                               "folder is within the size cap", "conclusion": "failure"}]}]
        assert comment_on(fake, run, {}, tmp_path, monkeypatch) == 0
        [comment] = fake.comments
    assert comment["issue"] == 7 and comment["body"].count("official run failed: job 'Check the PR") == 2


def test_two_runner_classes_of_one_pr_run_side_by_side_and_both_are_shown(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A reference-only and an edge-only dispatch of PR #7: both finish (their concurrency groups differ, see
    test_workflow_policy) and the sticky comment keeps both official sections."""
    dispatch = fixture("workflow_run_benchmark_dispatch")["workflow_run"]
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        for run_id, rc in ((9301, "reference"), (9302, "edge")):
            run = {**dispatch, "id": run_id, "display_title": f"Official rerun of PR #7 at {HEAD} ({rc})"}
            assert comment_on(fake, run, {f"results-{rc}": results_artifact(rc)}, tmp_path, monkeypatch) == 0
        [body] = bodies(fake)
    assert "## Official rerun: reference runner (x86)" in body and "## Official rerun: edge runner (ARM64)" in body


def test_an_oversized_folder_is_refused_from_the_tree_listing_before_any_download(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from competition.github.overlay import MAX_BYTES

    monkeypatch.setenv("GITHUB_TOKEN", "read-only")
    pull = {**FORK_PR, "files": ["submissions/ada/model.py", "submissions/ada/weights.npz"]}
    with FakeGitHub(REPO, {7: pull}) as fake:
        fake.roles = {"ada": "read"}
        submissions, folder = "5" * 40, "6" * 40
        fake.trees = {HEAD: [{"path": "submissions", "type": "tree", "sha": submissions, "mode": "040000"}],
                      submissions: [{"path": "ada", "type": "tree", "sha": folder, "mode": "040000"}],
                      folder: [{"path": "model.py", "type": "blob", "sha": "7" * 40, "size": 900, "mode": "100644"},
                               {"path": "weights.npz", "type": "blob", "sha": "8" * 40, "size": MAX_BYTES,
                                "mode": "100644"}]}
        argv = ["pr", "resolve", "--pr", "7", "--sha", HEAD, "--repo", REPO, "--api-url", fake.base_url]
        assert run_cli(argv) == 1
        assert f"submissions/ada/ holds 2 file(s), {MAX_BYTES + 900} bytes" in capsys.readouterr().err
        fake.trees[folder].pop()
        assert run_cli(argv) == 0


# --- verifiable results: attested, verified before record, refused without --------------------------------------

def fake_gh(tmp_path: Path, attested: dict[str, dict[str, str]]) -> Path:
    (tmp_path / "attested.json").write_text(json.dumps(attested))
    script = tmp_path / "gh"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE_GH} \"$@\"\n")
    script.chmod(0o755)
    return script


def signed(path: Path, signer: str = attest.SIGNER_WORKFLOW, ref: str = attest.SOURCE_REF,
           harness: str = MAIN) -> tuple[str, dict[str, str]]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), {"signer": signer, "ref": ref, "commit": harness}


def test_only_results_with_an_official_attestation_are_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture) -> None:
    results, accepted = Results(), tmp_path / "accepted"
    accepted.mkdir()
    files = {}
    for name in ("ada", "zoe", "mallory", "eve"):
        result = results.of(name, "reference", MAIN)
        files[name] = accepted / f"{result['result_id']}.json"
        files[name].write_text(dumps(result))
    gh = fake_gh(tmp_path, dict([signed(files["ada"]), signed(files["zoe"]),
                                 signed(files["mallory"], signer=VALIDATE),
                                 signed(files["eve"], ref="refs/heads/evil")]))
    monkeypatch.setenv("FAKE_GH_ATTESTED", str(tmp_path / "attested.json"))
    monkeypatch.setenv("FAKE_GH_LOG", str(tmp_path / "gh.log"))
    files["zoe"].write_text(files["zoe"].read_text().replace('"median"', '"median" ', 1))  # changed after signing
    verified = tmp_path / "verified"
    assert run_cli(["pr", "verify", "--results", str(accepted), "--out", str(verified), "--harness-commit", MAIN,
                    "--repo", REPO, "--gh", str(gh)]) == 1
    assert [p.name for p in verified.iterdir()] == [files["ada"].name]
    err = capsys.readouterr().err
    assert err.count("has no official attestation") == 3 and "no attestations found" in err
    calls = [json.loads(line) for line in (tmp_path / "gh.log").read_text().splitlines()]
    assert calls[0][:2] == ["attestation", "verify"] and "--deny-self-hosted-runners" in calls[0]
    assert calls[0][calls[0].index("--signer-workflow") + 1] == f"{REPO}/{attest.SIGNER_WORKFLOW}"
    assert calls[0][calls[0].index("--source-digest") + 1] == MAIN


def test_the_recorder_checks_gh_s_json_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a gh that ignored its policy flags would not get a result signed by another workflow recorded."""
    result = Results().of("mallory", "reference", MAIN)
    source = tmp_path / "accepted"
    source.mkdir()
    path = source / f"{result['result_id']}.json"
    path.write_text(dumps(result))
    gh = fake_gh(tmp_path, dict([signed(path, signer=VALIDATE)]))
    monkeypatch.setenv("FAKE_GH_ATTESTED", str(tmp_path / "attested.json"))
    monkeypatch.setenv("FAKE_GH_LENIENT", "1")
    outcome = attest.verify_folder(source, tmp_path / "verified", REPO, MAIN, str(gh))
    assert not outcome.verified and "was signed by .github/workflows/official.yml" in str(outcome.refused[0])
    assert list((tmp_path / "verified").iterdir()) == []
    missing = attest.verify_folder(source, tmp_path / "none", REPO, MAIN, str(tmp_path / "no-such-gh"))
    assert "is not installed" in str(missing.refused[0]), "no gh: nothing is verified, nothing recorded"


# --- the settings the safety relies on ----------------------------------------------------------------------------

def check_settings(answers: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("GITHUB_TOKEN", "maintainer-token")
    with FakeGitHub(REPO, {}) as fake:
        fake.answers = {path: (200, body) for path, body in fixture(answers)["answers"].items()}
        return run_cli(["pr", "check-settings", "--repo", REPO, "--api-url", fake.base_url])


def test_check_settings_passes_for_an_organization_set_up_as_documented(monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture) -> None:
    assert check_settings("settings_organization", monkeypatch) == 0
    out = capsys.readouterr().out
    assert "8 of 8 settings as required" in out and "runner group limited to main's benchmark workflows" in out


def test_check_settings_names_what_a_personal_account_lacks(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    assert check_settings("settings_personal", monkeypatch) == 1
    captured = capsys.readouterr()
    assert "owner is a User: a personal account has no runner groups" in captured.out
    assert "approval_policy is 'first_time_contributors'" in captured.out
    assert "HTTP 404 (not set up)" in captured.out  # the github-pages environment
    assert "fix (main: PR with code-owner review, Gate required, no force push or deletion)" in captured.err
    assert "0 of 7 settings as required; 7 missing" in captured.out


def test_check_settings_sees_a_runner_group_open_to_every_workflow(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture) -> None:
    answers = fixture("settings_organization")["answers"]
    answers["/orgs/tinymlperf/actions/runner-groups"]["runner_groups"][1]["restricted_to_workflows"] = False
    monkeypatch.setenv("GITHUB_TOKEN", "maintainer-token")
    with FakeGitHub(REPO, {}) as fake:
        fake.answers = {path: (200, body) for path, body in answers.items()}
        assert run_cli(["pr", "check-settings", "--repo", REPO, "--api-url", fake.base_url]) == 1
    assert "no runner group is restricted to exactly" in capsys.readouterr().out


def test_a_superseded_official_run_posts_nothing_and_stays_green(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture) -> None:
    run = {**fixture("workflow_run_benchmark_failed")["workflow_run"], "id": 9202, "conclusion": "cancelled"}
    with FakeGitHub(REPO, {7: FORK_PR}) as fake:
        assert comment_on(fake, run, {}, tmp_path, monkeypatch) == 0
        assert fake.comments == []
    assert "was cancelled" in capsys.readouterr().out


def test_the_plausibility_bounds_are_the_rules_and_their_edges_are_shown() -> None:
    from competition.github import comment

    edge = make_result("ada", speedup=100.0, compression=1.0)
    edge["scores"]["accuracy_delta_points"] = -9.99
    assert comment.implausible(edge) == []
    edge["scores"]["accuracy_delta_points"] = -10.0
    assert comment.implausible(edge) == ["accuracy drop of 10 points is not under 10"]
