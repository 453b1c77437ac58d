"""The course's self-reported submission.json: schema plus sanity checks. Checked, never trusted."""

from __future__ import annotations

import json
import math
from pathlib import Path

from competition.problems import Problem
from competition.rules import Rules
from competition.rules.schema import schema_problems
from competition.scoring import efficiency
from competition.validation.manifest import PLACEHOLDERS

MAX_BYTES = 1_000_000  # a report is a few kilobytes


def check_file(path: Path, rules: Rules) -> list[Problem]:
    """Every problem of one submission.json."""
    fix = "regenerate it with tinytorch.competition.generate_submission"
    if path.stat().st_size > MAX_BYTES:
        return [Problem(str(path), f"{path.stat().st_size} bytes, over the {MAX_BYTES}-byte limit of a report", fix)]
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as exc:
        return [Problem(str(path), f"not valid JSON: {exc.msg}", fix, line=exc.lineno)]
    except UnicodeDecodeError as exc:
        return [Problem(str(path), f"not UTF-8 text (byte {exc.start})", fix)]
    except RecursionError:
        return [Problem(str(path), "nested too deeply to be a report", fix)]
    problems = schema_problems(doc, "submission_report", str(path))
    if isinstance(doc, dict) and not problems:
        problems += sanity(doc, rules, str(path))
    return problems


def sanity(doc: dict, rules: Rules, file: str) -> list[Problem]:
    """The course's plausibility checks on self-reported numbers, plus consistency with the reported metrics."""
    bounds = rules.limits.self_report
    scores = doc["normalized_scores"]
    problems = []

    def out_of(field: str, value, lo, hi, what: str) -> None:
        if value is not None and not lo <= value <= hi:
            problems.append(Problem(file, f"{what} {value:g}x is outside the plausible {lo:g}-{hi:g}x",
                                    "rerun `tito benchmark run` on an idle machine; report the harness's numbers", field=field))

    out_of("normalized_scores.speedup", scores["speedup"], bounds["speedup_min"], bounds["speedup_max"], "speedup")
    out_of("normalized_scores.compression_ratio", scores["compression_ratio"], bounds["compression_min"], bounds["compression_max"], "compression")
    delta = scores["accuracy_delta"]
    if delta is not None and delta <= -bounds["max_accuracy_drop_points"]:
        problems.append(Problem(file, f"accuracy dropped {-delta:.2f} points (limit: under {bounds['max_accuracy_drop_points']:g})",
                                "optimize less aggressively (less pruning, per-channel int8)", field="normalized_scores.accuracy_delta"))
    problems += _consistency(doc, file)
    if doc["event"] not in rules.events:
        problems.append(Problem(file, f"unknown event {doc['event']!r}", "use one of: " + ", ".join(sorted(rules.events)), field="event"))
    if any(mark in doc["honor_code"].lower() for mark in PLACEHOLDERS):
        problems.append(Problem(file, "honor code still holds template text", "write the honor code statement in your own words", field="honor_code"))
    for i, technique in enumerate(doc["techniques_used"]):
        if technique.lower() in PLACEHOLDERS:
            problems.append(Problem(file, f"technique {technique!r} is a placeholder", "name the technique you used", field=f"techniques_used.{i}"))
    return problems


def _consistency(doc: dict, file: str) -> list[Problem]:
    """Compression and accuracy delta must follow from the reported baseline and optimized metrics."""
    base, opt, scores = doc["baseline"], doc["optimized"], doc["normalized_scores"]
    problems = []
    if base["model_size_bytes"] and opt["model_size_bytes"] and scores["compression_ratio"] is not None:
        expected = base["model_size_bytes"] / opt["model_size_bytes"]
        if not math.isclose(expected, scores["compression_ratio"], rel_tol=0.01):
            problems.append(Problem(file, f"compression_ratio {scores['compression_ratio']:g} does not match the reported "
                                          f"model sizes ({expected:.3g})", "regenerate the file from a real run",
                                    field="normalized_scores.compression_ratio"))
    if base["accuracy"] is not None and opt["accuracy"] is not None and scores["accuracy_delta"] is not None:
        expected = 100.0 * (opt["accuracy"] - base["accuracy"])
        if not math.isclose(expected, scores["accuracy_delta"], abs_tol=0.01):
            problems.append(Problem(file, f"accuracy_delta {scores['accuracy_delta']:g} does not match the reported "
                                          f"accuracies ({expected:.2f} points)", "regenerate the file from a real run",
                                    field="normalized_scores.accuracy_delta"))
    claimed = scores["efficiency_score"]
    expected = efficiency(scores["speedup"], scores["compression_ratio"], scores["accuracy_delta"])
    if claimed is not None and expected is not None and not math.isclose(claimed, expected, rel_tol=0.01):
        problems.append(Problem(file, f"efficiency_score {claimed:g} is not speedup x compression / (1 + |accuracy "
                                      f"change|) = {expected:.4g}", "regenerate the file from a real run",
                                field="normalized_scores.efficiency_score"))
    return problems
