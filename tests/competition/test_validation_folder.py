"""`validate_path` on submission folders: every rule has a failing fixture, and each problem names file and field."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from competition.validation import CannotValidate, validate_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
BASELINE_WEIGHTS = {
    "features.0.weight": np.zeros((4, 1, 3, 3), np.float32),
    "features.0.bias": np.zeros(4, np.float32),
    "classifier.1.weight": np.zeros((10, 16), np.float32),
}
VALID_FIXTURE_BASE = "invalid_placeholder"  # valid except for its athlete_name


def make_baseline(root: Path) -> Path:
    """A miniature baseline folder (closed division reference) with one .npz."""
    folder = root / "baseline"
    shutil.copytree(FIXTURES / VALID_FIXTURE_BASE, folder)
    np.savez(folder / "mnist_cnn.npz", **BASELINE_WEIGHTS)
    manifest = yaml.safe_load((folder / "submission.yaml").read_text())
    manifest.update(athlete_name="Maintainers", division="closed")
    (folder / "submission.yaml").write_text(yaml.safe_dump(manifest))
    return folder


def valid_entry(root: Path, name: str = "ada", division: str = "open") -> Path:
    """A valid submission folder built from the fixtures."""
    folder = root / name
    shutil.copytree(FIXTURES / VALID_FIXTURE_BASE, folder)
    manifest = yaml.safe_load((folder / "submission.yaml").read_text())
    manifest.update(athlete_name="Ada Lovelace", division=division)
    (folder / "submission.yaml").write_text(yaml.safe_dump(manifest))
    np.savez(folder / "mnist_cnn.npz", **BASELINE_WEIGHTS)
    return folder


@pytest.fixture
def baseline(tmp_path):
    return make_baseline(tmp_path / "ref")


def problems_of(path, baseline):
    return validate_path(path, baseline_dir=baseline)


def fields(problems):
    return {(Path(p.file).name, p.field) for p in problems}


def test_valid_entry_has_no_problems(tmp_path, baseline):
    assert problems_of(valid_entry(tmp_path), baseline) == []
    assert problems_of(valid_entry(tmp_path, "closed-ada", "closed"), baseline) == []


def test_baseline_itself_is_exempt_from_reserved_name_and_closed_checks(baseline):
    assert problems_of(baseline, baseline) == []


def test_manifest_schema_problems_name_field_and_fix(baseline):
    problems = problems_of(FIXTURES / "invalid_manifest", baseline)
    assert fields(problems) == {("submission.yaml", f) for f in ("email", "honor_code", "division", "github_repo", "events.1")}
    by_field = {p.field: p for p in problems}
    assert "closed, open" in by_field["division"].hint
    assert by_field["division"].line == 4 and by_field["events.1"].line == 7 and by_field["honor_code"].line is None
    assert "https://github.com/OWNER/REPO" in by_field["github_repo"].hint
    assert "cnn_marathon_offline" in by_field["events.1"].hint


def test_broken_yaml_reports_the_line(baseline):
    [problem] = problems_of(FIXTURES / "invalid_yaml", baseline)
    assert problem.file.endswith("submission.yaml") and problem.line == 3


def test_template_text_left_in_place(baseline):
    [problem] = problems_of(FIXTURES / "invalid_placeholder", baseline)
    assert problem.field == "athlete_name"


def test_readme_needs_sections_and_documented_techniques(baseline):
    problems = problems_of(FIXTURES / "invalid_readme", baseline)
    assert fields(problems) == {("README.md", "section 'Performance'"), ("README.md", "section 'Reproduction'"),
                                ("README.md", "techniques_used.0")}


def test_static_check_and_entry_points(baseline):
    problems = problems_of(FIXTURES / "invalid_code", baseline)
    assert ("model.py", "predict") in fields(problems)
    assert any(p.line == 2 and "os" in p.message for p in problems)


def test_disallowed_file_type(baseline):
    [problem] = problems_of(FIXTURES / "invalid_files", baseline)
    assert problem.file.endswith("weights.pkl") and ".pkl" in problem.message


def test_missing_required_files_all_reported(baseline):
    problems = problems_of(FIXTURES / "invalid_missing", baseline)
    assert {Path(p.file).name for p in problems} == {"model.py", "README.md", "invalid_missing"}


def test_closed_division_names_every_bad_key(baseline):
    problems = problems_of(FIXTURES / "invalid_closed", baseline)
    assert fields(problems) == {
        ("mnist_cnn.npz", "features.0.weight"),  # shape
        ("mnist_cnn.npz", "features.0.bias"),  # float64
        ("mnist_cnn.npz", "classifier.1.weight"),  # int8 without _scale
        ("mnist_cnn.npz", "classifier.1.weight_mask"),  # wrong mask shape
        ("mnist_cnn.npz", "extra.weight"),  # not in the baseline
        ("renamed.npz", None),  # no baseline counterpart
    }


def test_closed_division_allows_the_listed_transforms(tmp_path, baseline):
    folder = valid_entry(tmp_path, division="closed")
    np.savez(folder / "mnist_cnn.npz", **{
        "features.0.weight": np.zeros((4, 1, 3, 3), np.int8), "features.0.weight_scale": np.ones(4, np.float32),
        "features.0.weight_zero_point": np.zeros((), np.int8),
        "features.0.bias": np.zeros(4, np.float16),
        "classifier.1.weight": np.zeros((10, 16), np.float32), "classifier.1.weight_mask": np.ones((10, 16), bool),
    })
    assert problems_of(folder, baseline) == []


def test_no_technique_name_excuses_a_missing_key(tmp_path, baseline):
    folder = valid_entry(tmp_path, division="closed")
    weights = dict(BASELINE_WEIGHTS)
    del weights["features.0.bias"]
    np.savez(folder / "mnist_cnn.npz", **weights)
    assert fields(problems_of(folder, baseline)) == {("mnist_cnn.npz", "features.0.bias")}
    manifest = yaml.safe_load((folder / "submission.yaml").read_text())
    manifest["techniques_used"] = ["fusion"]
    (folder / "submission.yaml").write_text(yaml.safe_dump(manifest))
    (folder / "README.md").write_text((folder / "README.md").read_text() + "\nFusion: the bias is folded into ...\n")
    [problem] = problems_of(folder, baseline)
    assert problem.field == "features.0.bias" and "missing" in problem.message and "open division" in problem.hint


def test_pickled_weights_are_refused(tmp_path, baseline):
    folder = valid_entry(tmp_path, division="closed")
    np.savez(folder / "mnist_cnn.npz", **{**BASELINE_WEIGHTS, "features.0.bias": np.array([{}], dtype=object)})
    [problem] = problems_of(folder, baseline)
    assert problem.file.endswith("mnist_cnn.npz") and "pickle" in problem.hint + problem.message


@pytest.mark.parametrize("name", ["Ada Lovelace", "UPPER", "-dash", "baseline"])
def test_folder_name_rules(tmp_path, baseline, name):
    folder = valid_entry(tmp_path, name=name)
    problems = problems_of(folder, baseline)
    assert len(problems) == 1 and problems[0].file == str(folder)
    assert ("reserved" if name == "baseline" else "slug") in problems[0].message


def test_size_limits(tmp_path, baseline):
    folder = valid_entry(tmp_path)
    with open(folder / "notes.txt", "wb") as handle:
        handle.truncate(10_000_001)  # sparse: fast to create
    problems = problems_of(folder, baseline)
    assert any(p.file.endswith("notes.txt") and "10000000-byte" in p.message for p in problems)


def test_model_size_limit_counts_all_npz(tmp_path, baseline):
    folder = valid_entry(tmp_path)
    for i in range(2):
        with open(folder / f"extra{i}.npz", "wb") as handle:
            handle.truncate(6_000_000)
    problems = problems_of(folder, baseline)
    assert any(p.file == str(folder) and "10 MB" in p.message for p in problems)


def test_symlinks_are_refused(tmp_path, baseline):
    folder = valid_entry(tmp_path)
    (folder / "link.md").symlink_to(folder / "README.md")
    [problem] = problems_of(folder, baseline)
    assert problem.file.endswith("link.md")


def test_submission_json_in_folder_is_checked(tmp_path, baseline):
    folder = valid_entry(tmp_path)
    shutil.copy(FIXTURES.parent / "reports" / "bad_repo.json", folder / "submission.json")
    assert fields(problems_of(folder, baseline)) == {("submission.json", "github_repo")}


def test_cannot_validate_missing_path_or_baseline(tmp_path):
    with pytest.raises(CannotValidate):
        validate_path(tmp_path / "nope")
    with pytest.raises(CannotValidate):
        validate_path(FIXTURES / "invalid_closed", baseline_dir=tmp_path)
