"""One line per event that a person can act on, within 80 columns: the event's own metric in plain words, size,
quality, and whether it qualifies. `wide=True` gives every detail on one longer line.

    cnn_marathon_offline: 2.23x faster [2.20-2.48], 15.7x smaller, 97.5 % (+0.6 pt): qualifies
    cnn_marathon_offline: tie: within the noise, ±4.7 %, same size, 96.7 % (+0.0 pt): qualifies
    memory_master_offline: peak 33.1 MiB, 1.38x less, 97.2 % (+0.4 pt): qualifies

The words for a tie come from the machine-readable reason competition.scoring records (scores.speedup.reason).
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text

from competition.scoring import CLEAR_RATIO, MIN_ROUNDS_FOR_VERDICT, TIE_REASONS, aa_halfwidth

SAME_SIZE_TOLERANCE = 0.005  # compression within 0.5 % of 1 reads as "same size"
WIDTH = 80  # the narrow line's promise (README, docs/students.md)
MAX_ERROR_CHARS = 160  # a failure's message on the wide line
MIB = 1024 * 1024


def _reason(result: Mapping[str, Any]) -> str | None:
    """The tie's reason key (scores.speedup.reason, or derived for results of an older harness); None if no tie."""
    speed = (result.get("scores") or {}).get("speedup")
    if not speed or speed.get("verdict") != "tie":
        return None
    if speed.get("reason"):
        return speed["reason"]
    noise = result.get("noise") or {}
    rounds = noise.get("rounds")
    lo, hi = speed["ci95"]
    if rounds is not None and rounds < MIN_ROUNDS_FOR_VERDICT:
        return "too_few_rounds"
    if lo <= 1.0 <= hi:
        return "interval_contains_1"
    if abs(speed["value"] - 1.0) <= aa_halfwidth(noise.get("aa_speedup")):
        return "within_aa_floor"
    return "scored_a_tie"


def tie_reason(result: Mapping[str, Any]) -> str | None:
    """Why the speedup is a tie, as a sentence (the PR comment's wording); None if it is not a tie."""
    reason = _reason(result)
    if reason is None:
        return None
    noise = result.get("noise") or {}
    if reason == "within_aa_floor":
        floor = aa_halfwidth(noise.get("aa_speedup"))
        return f"inside the noise floor (A/A interval +/-{100 * floor:.1f} %)"
    if reason == "too_few_rounds" and noise.get("rounds") is not None:
        return f"too few rounds ({noise['rounds']}, a verdict needs {MIN_ROUNDS_FOR_VERDICT})"
    return TIE_REASONS.get(reason, "scored a tie by the harness")


def _short_tie(result: Mapping[str, Any], reason: str) -> str:
    """The tie in a few plain words: 'tie: within the noise, ±4.7 %'."""
    speed = result["scores"]["speedup"]
    lo, hi = speed["ci95"]
    if reason == "within_aa_floor":
        return f"tie: within the noise, ±{100 * aa_halfwidth((result.get('noise') or {}).get('aa_speedup')):.1f} %"
    if reason == "interval_contains_1":
        return f"tie: could be 1x [{lo:.2f}-{hi:.2f}]"
    if reason == "budget_spent_before_target":
        return f"tie: too noisy [{lo:.2f}-{hi:.2f}]"
    if reason in ("too_few_rounds", "too_few_units"):
        return "tie: too few rounds to tell"
    return "tie"


def speed_phrase(result: Mapping[str, Any], wide: bool = False) -> tuple[str, str]:
    """(phrase, rich style) for the speedup: faster / slower with the interval, or a tie in plain words."""
    speed = (result.get("scores") or {}).get("speedup")
    if not speed:
        return "speed not measured", "dim"
    value, (lo, hi) = speed["value"], speed["ci95"]
    than = " than the baseline" if wide else ""
    if speed["verdict"] == "faster":
        return f"{value:.2f}x faster [{lo:.2f}-{hi:.2f}]{than}", "green"
    if speed["verdict"] == "slower":
        return f"{1 / value:.2f}x slower [{1 / hi:.2f}-{1 / lo:.2f}]{than}", "red"
    reason = _reason(result)
    if wide:
        return f"{value:.2f}x [{lo:.2f}-{hi:.2f}]: a tie with the baseline ({tie_reason(result)})", "yellow"
    return _short_tie(result, reason), "yellow"


def memory_phrase(result: Mapping[str, Any]) -> tuple[str, str] | None:
    """Peak memory against the baseline's (read from outside the worker), or None when it was not measured."""
    mine = ((result.get("candidate") or {}).get("peak_memory") or {}).get("external_bytes")
    theirs = ((result.get("baseline") or {}).get("peak_memory") or {}).get("external_bytes")
    if not mine:
        return None
    text = f"peak {mine / MIB:.1f} MiB"
    if not theirs:
        return text, "default"
    ratio = theirs / mine
    if ratio >= CLEAR_RATIO:
        return f"{text}, {ratio:.2f}x less", "green"
    if ratio <= 1 / CLEAR_RATIO:
        return f"{text}, {1 / ratio:.2f}x more", "red"
    return f"{text}, no clear gain", "yellow"


def size_phrase(compression: float | None) -> str | None:
    """'8.1x smaller', '1.3x larger', 'same size', or None when size was not measured."""
    if compression is None:
        return None
    if abs(compression - 1.0) <= SAME_SIZE_TOLERANCE:
        return "same size"
    return f"{compression:.1f}x smaller" if compression > 1 else f"{1 / compression:.1f}x larger"


def quality_phrase(result: Mapping[str, Any], wide: bool = False, change: bool = True) -> str | None:
    """Accuracy with its change against the baseline (unless `change` is False), or perplexity for text events."""
    measured = result.get("candidate") or {}
    if measured.get("accuracy") is not None:
        delta = (result.get("scores") or {}).get("accuracy_delta_points")
        change = f" ({delta:+.1f} pt)" if delta is not None and change else ""
        return f"{'accuracy ' if wide else ''}{100 * measured['accuracy']:.1f} %{change}"
    if measured.get("perplexity") is not None:
        return f"{'perplexity' if wide else 'ppl'} {measured['perplexity']:.2f}"
    return None


def qualification_phrase(result: Mapping[str, Any], wide: bool = False) -> tuple[str, str]:
    """('qualifies', green) or ('fails: <rules>', red); `wide`: 'does not qualify: <each failed check's detail>'."""
    scores = result.get("scores") or {}
    if scores.get("qualified"):
        return "qualifies", "bold green"
    failed = [check for check in scores.get("qualification", []) if not check["passed"]]
    if wide:
        what = "; ".join(check.get("detail") or check["rule"] for check in failed)
        return f"does not qualify: {what or 'no qualification checks passed'}", "bold red"
    return "fails: " + (", ".join(check["rule"].replace("_", " ") for check in failed) or "qualification"), "bold red"


def primary_metric(event_id: str) -> str | None:
    """The event's ranked metric in its rules (time_s or peak_memory), None for an unknown event."""
    from competition.rules import RulesError, load_rules

    try:
        return load_rules().event(event_id).primary_metric
    except (RulesError, KeyError, OSError, ValueError):
        return None


def verdict_line(result: Mapping[str, Any], wide: bool = False) -> Text:
    """The one-line verdict of one result, coloured; a narrow line fits WIDTH columns (the accuracy change, then
    the size give way first; a failure's text is shortened last); smoke runs are labelled as such."""
    event_id = (result.get("event") or {}).get("id", "?")
    head = Text(f"{event_id}: ", style="bold")
    if result.get("status") not in (None, "ok") and result.get("candidate") is None:
        errors = result.get("errors") or [{}]
        where = f" at {errors[0]['stage']}" if errors[0].get("stage") else ""
        message = str(errors[0].get("message", "no measurements")).splitlines()[0][:MAX_ERROR_CHARS]
        head.append(f"{result['status']}{where}: {message}", style="bold red")
        return head if wide else _cut(head, WIDTH)
    parts = _parts(result, event_id, wide)
    verdict, verdict_style = qualification_phrase(result, wide)
    smoke = (result.get("config") or {}).get("quick")
    for level in range(len(DEGRADE) + 1):
        line = head.copy()
        line.append_text(Text(", ").join(Text(part[min(level, len(part) - 2)] if not wide else part[0],
                                              style=part[-1]) for part in parts
                                         if (part[min(level, len(part) - 2)] if not wide else part[0])))
        line.append(": ")
        line.append(verdict, style=verdict_style)
        if smoke:
            line.append(" (smoke run: not for the leaderboard)" if wide else " (smoke)", style="dim")
        if wide or line.cell_len <= WIDTH:
            break
    return line if wide else _cut(line, WIDTH)


# What gives way, in order, when a narrow line is too long: the accuracy change (level 1), the size (level 2).
DEGRADE = ("accuracy change", "size")


def _parts(result: Mapping[str, Any], event_id: str, wide: bool) -> list[tuple[str, ...]]:
    """Each part as (text at level 0, level 1, level 2, style): the event's own metric first (never dropped)."""
    speed, speed_style = speed_phrase(result, wide)
    memory = memory_phrase(result) if primary_metric(event_id) == "peak_memory" else None
    parts: list[tuple[str, ...]] = []
    if memory is not None:
        parts.append((memory[0], memory[0], memory[0], memory[1]))
        if wide:
            parts.append((speed, speed, speed, speed_style))
    else:
        parts.append((speed, speed, speed, speed_style))
        size = size_phrase((result.get("scores") or {}).get("compression")) or ""
        parts.append((size, size, "", "default"))
    full, short = quality_phrase(result, wide) or "", quality_phrase(result, wide, change=False) or ""
    parts.append((full, short, short, "default"))
    return parts


def _cut(line: Text, width: int) -> Text:
    """`line` shortened to `width` cells with an ellipsis (only a long failure text ever needs it)."""
    if line.cell_len <= width:
        return line
    line.truncate(width - 1)
    line.append("…")
    return line
