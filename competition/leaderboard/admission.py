"""What the store believes: nothing a result says about its own scores, its runner or its run.

`problems(result, policy)` lists why a stored or incoming result cannot count, each as a Problem naming the field:
disqualified submission, removed folder, a run from an older harness (no `config` or `sandbox.isolation`, or
below `min_harness_version`), a quick run, an unisolated run, a closed entry that failed conformance, an
unregistered reference/edge runner (fingerprint, competition.leaderboard.fingerprint), and scores
that do not follow from the measurements (recomputed with competition.scoring.score under the current rules).
`tito leaderboard add` refuses a result with any problem; `tito leaderboard build` shows it as history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from competition import scoring
from competition.leaderboard.config import Config, version_tuple
from competition.leaderboard.disqualified import Disqualification
from competition.leaderboard.fingerprint import runner_fingerprint
from competition.rules import Rules, load_rules

REL_TOL = 1e-9  # stored vs recomputed floats: JSON round-trips exactly, so only representation noise is allowed


@dataclass(frozen=True)
class Problem:
    """Why a result cannot count: the field at fault and the reason (with the fix)."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.field}] {self.reason}"


@dataclass(frozen=True)
class Policy:
    """What a result is checked against: the config (registered runners, minimum harness), the disqualification
    list, and the submissions folder (None: do not check that the folder still exists)."""

    config: Config = field(default_factory=Config)
    disqualified: dict[str, Disqualification] = field(default_factory=dict)
    submissions_dir: Path | None = None


def recompute_scores(result: dict[str, Any], rules: Rules) -> dict[str, Any]:
    """The scores block that follows from the result's measurements, with the one scoring module."""
    stored = result["scores"].get("speedup") or {}
    return scoring.score(rules.event(result["event"]["id"]), result["candidate"], result["baseline"],
                         speedup_ratios=stored.get("ratios"), aa_speedup=result["noise"]["aa_speedup"],
                         runner_class=result["runner"]["class"], rules=rules, speedup_units=stored.get("units"))


def first_difference(stored: Any, computed: Any, path: str = "scores") -> tuple[str, Any, Any] | None:
    """(dotted field, stored, recomputed) of the first difference, or None when equal (floats to REL_TOL)."""
    if type(stored) is type(computed) and stored == computed:  # the usual case, settled at C speed
        return None
    if isinstance(stored, dict) and isinstance(computed, dict):
        for key in sorted(set(stored) | set(computed)):
            found = first_difference(stored.get(key), computed.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(stored, list) and isinstance(computed, list) and len(stored) == len(computed):
        for i, (a, b) in enumerate(zip(stored, computed)):
            found = first_difference(a, b, f"{path}.{i}")
            if found:
                return found
        return None
    numbers = (int, float)
    if (isinstance(stored, numbers) and isinstance(computed, numbers) and not isinstance(stored, bool)
            and not isinstance(computed, bool)):
        return None if math.isclose(stored, computed, rel_tol=REL_TOL, abs_tol=1e-12) else (path, stored, computed)
    return None if stored == computed else (path, stored, computed)


def standing_problem(result: dict[str, Any], policy: Policy) -> Problem | None:
    """The reasons that end the check: disqualified, folder removed, or an older harness's result format."""
    name = result["submission"]["name"]
    if name in policy.disqualified:
        return Problem("submission.name", f"{name} is disqualified: {policy.disqualified[name].reason} "
                                          "(leaderboard/disqualified.yaml)")
    if policy.submissions_dir is not None and not (policy.submissions_dir / name).is_dir():
        return Problem("submission.name", f"the folder submissions/{name} was removed")
    if result.get("config") is None or (result.get("sandbox") or {}).get("isolation") is None:
        missing = "config" if result.get("config") is None else "sandbox.isolation"
        return Problem(missing, "recorded by an older harness (no run configuration or isolation level); "
                                "history only, fix: rerun with the current harness")
    return None


def run_problems(result: dict[str, Any], policy: Policy) -> list[Problem]:
    """Which harness, which kind of run, which machine."""
    problems = []
    minimum, version = policy.config.min_harness_version, result["harness"]["version"]
    if minimum is not None and version_tuple(version) < version_tuple(minimum):
        problems.append(Problem("harness.version", f"harness {version} is older than {minimum} "
                                                   "(min_harness_version in leaderboard/config.yaml); history only"))
    if result["config"].get("quick"):
        problems.append(Problem("config.quick", "a quick (smoke) run is never stored or ranked; "
                                                "fix: run `tito benchmark run` without --quick"))
    isolation = result["sandbox"]["isolation"]
    if isolation != "jail":
        problems.append(Problem("sandbox.isolation", f"isolation {isolation!r}: only runs inside the jail are "
                                                     "ranked; fix: run where `tito setup --validate` finds the jail"))
    conformance = result.get("conformance") or {}
    if conformance.get("division") == "closed" and conformance.get("verdict") == "fails":
        problems.append(Problem("conformance.verdict", "a closed-division entry whose outputs do not match the "
                                f"reference run of its shipped weights: {conformance.get('reason', '')[:300]}; fix: "
                                "enter the open division or make the entry conform"))
    runner = result["runner"]["class"]
    if runner in ("reference", "edge"):
        fingerprint = runner_fingerprint(result["runner"]["hardware"])
        if not policy.config.registered(fingerprint, runner):
            problems.append(Problem("runner.hardware", f"runner fingerprint {fingerprint[:12]}... is not registered "
                                    f"as a {runner} runner in leaderboard/config.yaml; fix: a maintainer runs "
                                    "`tito leaderboard fingerprint RESULT.json` on a result of that runner and adds "
                                    "the printed lines under `runners:` in a reviewed PR, or rerun with "
                                    "--runner-class local"))
    return problems


def score_problem(result: dict[str, Any], rules: Rules) -> Problem | None:
    """A Problem naming the first score that does not follow from the measurements, or None."""
    if result["event"]["id"] not in rules.events:
        return Problem("event.id", f"unknown event {result['event']['id']!r} under the current rules; history only")
    difference = first_difference(result["scores"], recompute_scores(result, rules))
    if difference is None:
        return None
    where, stored, computed = difference
    return Problem(where, f"stored {_short(stored)} but the measurements give {_short(computed)} under the "
                          "current rules; fix: do not edit result files (rerun the benchmark)")


def problems(result: dict[str, Any], policy: Policy, rules: Rules | None = None,
             known: dict[str, Problem | None] | None = None) -> list[Problem]:
    """Every reason this (schema-valid) result cannot count; [] when it is current and believable.
    `known`: {result_id: score_problem outcome} already computed (competition.leaderboard.index)."""
    standing = standing_problem(result, policy)
    if standing is not None:
        return [standing]
    if known is not None and result["result_id"] in known:
        mismatch = known[result["result_id"]]
    else:
        mismatch = score_problem(result, rules or load_rules())
    return run_problems(result, policy) + ([mismatch] if mismatch else [])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
