"""One line per event that a person can act on: speed with its interval, size, quality, and whether it qualifies.

"1.76x faster [1.62-1.98] than the baseline, 8.1x smaller, accuracy 97.3 % (+0.6 pt): qualifies"
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text

from competition.scoring import MIN_ROUNDS_FOR_VERDICT, aa_halfwidth

SAME_SIZE_TOLERANCE = 0.005  # compression within 0.5 % of 1 reads as "same size"
MAX_ERROR_CHARS = 160


def tie_reason(result: Mapping[str, Any]) -> str | None:
    """Why the speedup is a tie, from the result's own scores and noise fields; None if it is not a tie.

    Every reason that holds is named: too few rounds, the 95 % interval contains 1, or the speedup lies inside
    the noise floor (the half-width of the baseline-vs-baseline A/A interval).
    """
    speed = (result.get("scores") or {}).get("speedup")
    if not speed or speed.get("verdict") != "tie":
        return None
    noise = result.get("noise") or {}
    reasons = []
    rounds = noise.get("rounds")
    if rounds is not None and rounds < MIN_ROUNDS_FOR_VERDICT:
        reasons.append(f"too few rounds ({rounds}, a verdict needs {MIN_ROUNDS_FOR_VERDICT})")
    lo, hi = speed["ci95"]
    if lo <= 1.0 <= hi:
        reasons.append("the 95 % interval contains 1")
    floor = aa_halfwidth(noise.get("aa_speedup"))
    if floor and abs(speed["value"] - 1.0) <= floor:
        reasons.append(f"inside the noise floor (A/A interval +/-{100 * floor:.1f} %)")
    return "; ".join(reasons) or "scored a tie by the harness"


def speed_phrase(result: Mapping[str, Any]) -> tuple[str, str]:
    """(phrase, rich style) for the speedup: faster / slower with the interval, or a tie with its reason."""
    speed = (result.get("scores") or {}).get("speedup")
    if not speed:
        return "speed not measured", "dim"
    value, (lo, hi) = speed["value"], speed["ci95"]
    if speed["verdict"] == "faster":
        return f"{value:.2f}x faster [{lo:.2f}-{hi:.2f}] than the baseline", "green"
    if speed["verdict"] == "slower":
        return f"{1 / value:.2f}x slower [{1 / hi:.2f}-{1 / lo:.2f}] than the baseline", "red"
    return f"{value:.2f}x [{lo:.2f}-{hi:.2f}]: a tie with the baseline ({tie_reason(result)})", "yellow"


def size_phrase(compression: float | None) -> str | None:
    """'8.1x smaller', '1.3x larger', 'same size', or None when size was not measured."""
    if compression is None:
        return None
    if abs(compression - 1.0) <= SAME_SIZE_TOLERANCE:
        return "same size"
    return f"{compression:.1f}x smaller" if compression > 1 else f"{1 / compression:.1f}x larger"


def quality_phrase(result: Mapping[str, Any]) -> str | None:
    """Accuracy with its change against the baseline, or perplexity for text events."""
    measured = result.get("candidate") or {}
    if measured.get("accuracy") is not None:
        delta = (result.get("scores") or {}).get("accuracy_delta_points")
        change = f" ({delta:+.1f} pt)" if delta is not None else ""
        return f"accuracy {100 * measured['accuracy']:.1f} %{change}"
    if measured.get("perplexity") is not None:
        return f"perplexity {measured['perplexity']:.2f}"
    return None


def qualification_phrase(result: Mapping[str, Any]) -> tuple[str, str]:
    """('qualifies', green) or ('does not qualify: <what failed>', red)."""
    scores = result.get("scores") or {}
    if scores.get("qualified"):
        return "qualifies", "bold green"
    failed = [check.get("detail") or check["rule"] for check in scores.get("qualification", [])
              if not check["passed"]]
    return "does not qualify: " + ("; ".join(failed) or "no qualification checks passed"), "bold red"


def verdict_line(result: Mapping[str, Any]) -> Text:
    """The one-line verdict of one result, coloured; smoke runs are labelled as such."""
    event_id = (result.get("event") or {}).get("id", "?")
    line = Text(f"{event_id}: ", style="bold")
    if result.get("status") not in (None, "ok") and result.get("candidate") is None:
        errors = result.get("errors") or [{}]
        where = f" at {errors[0]['stage']}" if errors[0].get("stage") else ""
        message = str(errors[0].get("message", "no measurements")).splitlines()[0][:MAX_ERROR_CHARS]
        line.append(f"{result['status']}{where}: {message}", style="bold red")
        return line
    speed, speed_style = speed_phrase(result)
    line.append(speed, style=speed_style)
    for phrase in (size_phrase((result.get("scores") or {}).get("compression")), quality_phrase(result)):
        if phrase:
            line.append(f", {phrase}")
    verdict, verdict_style = qualification_phrase(result)
    line.append(": ")
    line.append(verdict, style=verdict_style)
    if (result.get("config") or {}).get("quick"):
        line.append(" (smoke run: not for the leaderboard)", style="dim")
    return line
