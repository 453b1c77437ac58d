"""The course's self-reported submission.json: schema and sanity checks, each naming the field."""

from pathlib import Path

import pytest

from competition.validation import validate_path

REPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "reports"

CASES = {
    "bad_repo.json": {"github_repo"},
    "implausible.json": {"normalized_scores.speedup", "normalized_scores.compression_ratio",
                         "normalized_scores.accuracy_delta"},
    "inconsistent.json": {"normalized_scores.compression_ratio", "normalized_scores.accuracy_delta",
                          "normalized_scores.efficiency_score"},
    "no_honor_code.json": {"honor_code"},
    "no_techniques.json": {"techniques_used"},
    "placeholder.json": {"honor_code", "techniques_used.0"},
    "unknown_event.json": {"event"},
}


def test_valid_report_passes():
    assert validate_path(REPORTS / "valid.json") == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_bad_report_names_its_fields(name):
    problems = validate_path(REPORTS / name)
    assert {p.field for p in problems} == CASES[name]
    assert all(p.file.endswith(name) and p.hint for p in problems)


def test_broken_json_reports_line():
    [problem] = validate_path(REPORTS / "broken.json")
    assert problem.line == 2
