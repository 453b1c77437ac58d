"""Rules as data: the shipped rules load; a bad field is reported with its file, field and a fix."""

import shutil
from pathlib import Path

import pytest
import yaml

from competition.rules import RULES_DIR, RulesError, load_rules

OFFICIAL = {"mlp_sprint", "cnn_marathon", "transformer_decathlon", "memory_master"}
OFFLINE = {"mlp_sprint_offline", "cnn_marathon_offline", "memory_master_offline"}


def test_shipped_rules_have_every_event_category_and_division():
    rules = load_rules()
    assert set(rules.events) == OFFICIAL | OFFLINE
    assert {e.id for e in rules.events.values() if e.official} == OFFICIAL
    assert set(rules.categories) == {"speed_demon", "memory_miser", "smallest_model", "best_accuracy",
                                     "best_accuracy_per_size", "edge_expert", "energy_efficient", "tinymlperf_overall"}
    assert all(c.source for c in rules.categories.values())
    assert set(rules.divisions) == {"closed", "open"}
    assert rules.limits.model_size_bytes_max == 10_000_000
    assert rules.limits.single_sample_latency_ms_max == 100


def test_event_protocols_follow_the_course():
    rules = load_rules()
    assert rules.event("mlp_sprint").protocol["target_accuracy"] == 0.95
    assert rules.event("cnn_marathon").protocol["n_inferences"] == 1000
    assert rules.event("cnn_marathon").accuracy_floor == 0.75
    assert rules.event("transformer_decathlon").protocol["new_tokens"] >= 256
    assert rules.event("transformer_decathlon").max_perplexity is not None


def test_categories_and_memory_master_follow_the_course():
    rules = load_rules()
    assert rules.categories["memory_miser"].rank_by == "peak_memory_bytes"
    assert not rules.categories["memory_miser"].higher_is_better
    assert rules.categories["tinymlperf_overall"].rank_by == "efficiency"
    assert rules.categories["edge_expert"].runner_classes == ("edge",)
    assert rules.accuracy_floor(rules.event("cnn_marathon_offline"), "speed_demon") >= 0.90
    assert rules.accuracy_floor(rules.event("mlp_sprint"), "memory_miser") >= 0.85
    for event_id in ("memory_master", "memory_master_offline"):
        event = rules.event(event_id)
        assert event.primary_metric == "peak_memory" and event.kind == "inference" and event.accuracy_floor
    assert rules.event("memory_master_offline").dataset == "mnist_bundled"  # runs offline


def test_category_floor_applies_only_where_listed():
    rules = load_rules()
    assert rules.accuracy_floor(rules.event("mlp_sprint_offline"), "speed_demon") >= 0.90
    assert rules.accuracy_floor(rules.event("cnn_marathon"), "speed_demon") == 0.75
    assert rules.accuracy_floor(rules.event("transformer_decathlon"), "speed_demon") is None


def test_unknown_event_names_valid_ids():
    with pytest.raises(KeyError, match="mlp_sprint"):
        load_rules().event("nope")


def test_rules_are_frozen():
    event = load_rules().event("mlp_sprint")
    with pytest.raises(Exception):
        event.official = False
    with pytest.raises(TypeError):
        event.protocol["max_epochs"] = 1


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py", "__pycache__")))


def _edit(file: Path, change) -> None:
    doc = yaml.safe_load(file.read_text())
    change(doc)
    file.write_text(yaml.safe_dump(doc))


def test_bad_event_field_names_file_field_and_fix(rules_copy):
    _edit(rules_copy / "events" / "cnn_marathon.yaml", lambda d: d.update(kind="sprinting"))
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    [problem] = info.value.problems
    assert problem.file.endswith("cnn_marathon.yaml") and problem.field == "kind"
    lines = Path(problem.file).read_text().splitlines()
    assert lines[problem.line - 1].startswith("kind:")
    assert "training" in problem.hint


def test_missing_protocol_key_for_kind_is_named(rules_copy):
    _edit(rules_copy / "events" / "cnn_marathon.yaml", lambda d: d["protocol"].pop("n_inferences"))
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert [p.field for p in info.value.problems] == ["protocol.n_inferences"]


def test_unknown_field_and_all_problems_at_once(rules_copy):
    _edit(rules_copy / "limits.yaml", lambda d: d.update(model_size_mb=10))
    _edit(rules_copy / "categories.yaml", lambda d: d["categories"][0].update(rank_by="vibes"))
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    found = {(Path(p.file).name, p.field) for p in info.value.problems}
    assert found == {("limits.yaml", "model_size_mb"), ("categories.yaml", "categories.0.rank_by")}
    assert "limits.yaml" in str(info.value)


def test_event_id_must_match_file_name(rules_copy):
    (rules_copy / "events" / "mlp_sprint.yaml").rename(rules_copy / "events" / "sprint.yaml")
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert info.value.problems[0].field == "id"


def test_broken_yaml_reports_line(rules_copy):
    (rules_copy / "divisions.yaml").write_text("divisions:\n  - id: closed\n   name: [oops\n")
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert info.value.problems[0].file.endswith("divisions.yaml") and info.value.problems[0].line is not None


def test_cross_reference_to_unknown_event(rules_copy):
    _edit(rules_copy / "limits.yaml", lambda d: d["category_accuracy_floors"]["speed_demon"]["events"].append("ghost"))
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    events = yaml.safe_load((rules_copy / "limits.yaml").read_text())["category_accuracy_floors"]["speed_demon"]["events"]
    assert info.value.problems[0].field == f"category_accuracy_floors.speed_demon.events.{len(events) - 1}"
