"""`tito submission new NAME` scaffolds a folder that validates, atomically, refusing bad names."""

import pytest
import yaml

from competition.scaffold import ScaffoldError, new_submission
from competition.validation import validate_path
from tests.competition.test_validation_folder import make_baseline


@pytest.fixture
def baseline(tmp_path):
    return make_baseline(tmp_path / "ref")


@pytest.mark.parametrize("division", ["closed", "open"])
def test_scaffold_is_valid(tmp_path, baseline, division):
    folder = new_submission("ada-l", tmp_path / "submissions", division=division, baseline_dir=baseline)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "mnist_cnn.npz", "model.py", "submission.yaml"]
    assert validate_path(folder, baseline_dir=baseline) == []
    manifest = yaml.safe_load((folder / "submission.yaml").read_text())
    assert manifest["division"] == division and manifest["github_handle"] == "ada-l"
    assert manifest["events"] == ["cnn_marathon_offline"]


def test_scaffold_options(tmp_path, baseline):
    folder = new_submission("ada_l", tmp_path, athlete_name="Ada Lovelace", github_handle="ada",
                            events=["cnn_marathon_offline", "transformer_decathlon"], baseline_dir=baseline)
    manifest = yaml.safe_load((folder / "submission.yaml").read_text())
    assert manifest["athlete_name"] == "Ada Lovelace"
    assert manifest["github_repo"] == "https://github.com/ada/tinymlperf"
    # the scaffold writes its own model.py: every entry point its events need, loading through tinytorch.rebuild
    source = (folder / "model.py").read_text()
    assert "def next_token_logits" in source and "def generate" in source and "load_model(" in source
    fields = {p.field for p in validate_path(folder, baseline_dir=baseline)}
    assert not {"next_token_logits", "generate", "predict", "load"} & fields


@pytest.mark.parametrize("name, message", [("Bad Name", "not a valid name"), ("baseline", "reserved"),
                                           ("x" * 65, "not a valid name")])
def test_scaffold_refuses_bad_names(tmp_path, baseline, name, message):
    with pytest.raises(ScaffoldError, match=message):
        new_submission(name, tmp_path, baseline_dir=baseline)
    assert list(tmp_path.iterdir()) == [baseline.parent]


def test_scaffold_refuses_existing_and_unknown_event(tmp_path, baseline):
    new_submission("ada", tmp_path, baseline_dir=baseline)
    with pytest.raises(ScaffoldError, match="already exists"):
        new_submission("ada", tmp_path, baseline_dir=baseline)
    with pytest.raises(ScaffoldError, match="warp_speed"):
        new_submission("bob", tmp_path, events=["warp_speed"], baseline_dir=baseline)
    assert not (tmp_path / "bob").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_scaffold_from_the_real_baseline_is_valid(tmp_path):
    from competition.validation import BASELINE_DIR

    if not any(BASELINE_DIR.glob("*.npz")):
        pytest.skip("submissions/baseline has no weights yet")
    folder = new_submission("ada", tmp_path, github_handle="ada")
    assert validate_path(folder) == []
    assert {p.name for p in folder.glob("*.npz")} == {p.name for p in BASELINE_DIR.glob("*.npz")}
