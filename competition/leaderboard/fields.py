"""Read-only accessors over result dicts (the leaderboard computes no metric; scoring.py does, the harness stores).

Missing measurements come back as None, never as 0.
"""

from __future__ import annotations

from typing import Any

from competition import scoring

Result = dict[str, Any]
RunKey = tuple[str, str, str, str]


def visibility(result: Result) -> str:
    """"public", or "private" for a run scored on the hidden evaluation split (competition.private_split)."""
    return result["event"]["dataset"].get("visibility", "public")


def run_key(result: Result) -> RunKey:
    """(submission, event, runner class, split visibility): the runs of one key form its history; the latest is
    current."""
    return result["submission"]["name"], result["event"]["id"], result["runner"]["class"], visibility(result)


def run_order(result: Result) -> tuple[str, str]:
    """Chronological sort key (result_id ends with the UTC start stamp, which breaks ties)."""
    return result["started_at"], result["result_id"]


def current_results(results: list[Result]) -> list[Result]:
    """The latest run per submission x event x runner class, sorted by result_id."""
    latest: dict[RunKey, Result] = {}
    for result in sorted(results, key=run_order):
        latest[run_key(result)] = result
    return sorted(latest.values(), key=lambda r: r["result_id"])


def is_official(result: Result) -> bool:
    """Official = an official event measured on a maintainers' runner (reference or edge), never a laptop."""
    return bool(result["event"]["official"]) and result["runner"]["class"] != "local"


def speedup(result: Result) -> float | None:
    """Speedup point estimate vs the baseline on the same machine."""
    score = result["scores"]["speedup"]
    return None if score is None else float(score["value"])


def speedup_ci(result: Result) -> tuple[float, float] | None:
    """95 % confidence interval of the speedup."""
    score = result["scores"]["speedup"]
    return None if score is None else (float(score["ci95"][0]), float(score["ci95"][1]))


def candidate(result: Result) -> dict[str, Any]:
    """The candidate's measurements ({} when the run produced none)."""
    return result["candidate"] or {}


def accuracy(result: Result) -> float | None:
    """Accuracy as a fraction in [0, 1]."""
    return candidate(result).get("accuracy")


def perplexity(result: Result) -> float | None:
    """Perplexity (text events)."""
    return candidate(result).get("perplexity")


def peak_memory_bytes(result: Result) -> int | None:
    """Peak memory during inference measured from outside the worker (tracemalloc never counts)."""
    return scoring.peak_memory_bytes(candidate(result))


def memory_saving(result: Result) -> float | None:
    """The baseline's peak memory over the candidate's, both measured from outside in the same run (> 1: less)."""
    baseline, entry = scoring.peak_memory_bytes(result.get("baseline")), peak_memory_bytes(result)
    return None if not baseline or not entry else baseline / entry


def model_size_bytes(result: Result) -> int | None:
    """Size of the candidate's weights on disk."""
    return candidate(result).get("model_size_bytes")


def latency_p50_ms(result: Result) -> float | None:
    """Median per-batch latency in milliseconds."""
    latency = candidate(result).get("latency_ms")
    return None if latency is None else float(latency["p50"])


def energy_joules(result: Result) -> float | None:
    """Measured energy per inference; None unless actually measured (estimates are never used)."""
    return scoring.joules_per_inference(candidate(result))


def rank_value(result: Result, rank_by: str) -> float | None:
    """The value a ranking by `rank_by` sorts (competition.scoring.rank_value)."""
    return scoring.rank_value(rank_by, result["scores"], result["candidate"])


def _interval(value: Any) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def efficiency_ci(result: Result) -> tuple[float, float] | None:
    """95 % interval of the efficiency (the speedup CI through the formula)."""
    return _interval(result["scores"].get("efficiency_ci95"))


def edge_score_ci(result: Result) -> tuple[float, float] | None:
    """95 % interval of the Edge Expert composite."""
    return _interval((result["scores"].get("edge_score") or {}).get("ci95"))


def edge_energy_measured(result: Result) -> bool:
    """Whether the Edge Expert composite includes a measured energy factor."""
    return bool((result["scores"].get("edge_score") or {}).get("energy_measured"))


def compression(result: Result) -> float | None:
    """Model-size compression vs the baseline."""
    return result["scores"]["compression"]


def efficiency(result: Result) -> float | None:
    """TinyMLPerf efficiency score."""
    return result["scores"]["efficiency"]


def not_qualified_reason(result: Result) -> str | None:
    """Why the result cannot be ranked at all (failed run, failed threshold), or None if it qualified."""
    if result["status"] != "ok":
        detail = "; ".join(e["message"] for e in result["errors"][:2])
        return f"run {result['status']}" + (f": {detail}" if detail else "")
    if not result["scores"]["qualified"]:
        failed = [q["detail"] or q["rule"] for q in result["scores"]["qualification"] if not q["passed"]]
        return "not qualified: " + ("; ".join(failed) if failed else "thresholds not met")
    return None
