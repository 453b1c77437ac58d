"""Stable text formatting of values for both renderers (fixed decimals, "not measured" instead of 0)."""

from __future__ import annotations

import re

from competition.leaderboard import fields
from competition.leaderboard.fields import Result

NOT_MEASURED = "not measured"
NO_ENERGY = "not measured (no RAPL access)"


def number(value: float | None, digits: int = 2) -> str:
    """Fixed-decimal number or "not measured"."""
    return NOT_MEASURED if value is None else f"{value:.{digits}f}"


def with_ci(value: float | None, ci: tuple[float, float] | list[float] | None, unit: str = "x",
            digits: int = 2) -> str:
    """"1.23x [1.18, 1.29]"."""
    if value is None:
        return NOT_MEASURED
    text = f"{value:.{digits}f}{unit}"
    return text if ci is None else f"{text} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def speedup(result: Result) -> str:
    """Speedup with its 95 % CI."""
    return with_ci(fields.speedup(result), fields.speedup_ci(result))


def ratio(value: float | None) -> str:
    """A ratio vs the baseline, "2.50x"."""
    return NOT_MEASURED if value is None else f"{value:.2f}x"


def percent(fraction: float | None) -> str:
    """Accuracy fraction printed as percent (renderers only)."""
    return NOT_MEASURED if fraction is None else f"{100 * fraction:.2f} %"


def quality(result: Result) -> str:
    """Accuracy in percent; for text events (no accuracy) the perplexity."""
    if fields.accuracy(result) is None and fields.perplexity(result) is not None:
        return f"perplexity {fields.perplexity(result):.2f}"
    return percent(fields.accuracy(result))


def size(n_bytes: int | None) -> str:
    """Bytes in binary units with two decimals."""
    if n_bytes is None:
        return NOT_MEASURED
    value, unit = float(n_bytes), "B"
    for next_unit in ("KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            break
        value, unit = value / 1024, next_unit
    return f"{n_bytes} B" if unit == "B" else f"{value:.2f} {unit}"


def energy(result: Result, long: bool = False) -> str:
    """Measured energy per inference in joules, or why it is missing (estimates are never shown)."""
    joules = fields.energy_joules(result)
    if joules is None:
        return NO_ENERGY if long else NOT_MEASURED
    return f"{joules:.4g} J"


def rank(rank_value: int | None, tied: bool) -> str:
    """"3", "=3" for a tie, "-" when not ranked."""
    if rank_value is None:
        return "-"
    return f"={rank_value}" if tied else str(rank_value)


def edge_score(result: Result) -> str:
    """The Edge Expert composite with its interval, saying when energy was not measured (never guessed)."""
    value = fields.rank_value(result, "edge_score")
    text = with_ci(value, fields.edge_score_ci(result), "")
    if value is not None and not fields.edge_energy_measured(result):
        text += " (energy not measured)"
    return text


def lower_first(label: str) -> str:
    """A label inside a sentence: "Accuracy per MB" -> "accuracy per MB" (acronyms kept)."""
    return label[:1].lower() + label[1:]


def metric_value(rank_by: str, value: float | None) -> str:
    """A board's metric value (e.g. its baseline reference line) in that metric's unit."""
    if rank_by in ("peak_memory_bytes", "model_size_bytes"):
        return size(None if value is None else int(value))
    if rank_by == "accuracy":
        return percent(value)
    if rank_by == "joules_per_inference":
        return NOT_MEASURED if value is None else f"{value:.4g} J"
    if rank_by in ("speedup", "edge_score"):
        return ratio(value)
    return number(value, 3 if rank_by == "accuracy_per_mb" else 2)


HOME_PATH = re.compile(r"(?:/home/[^/\s]+|/Users/[^/\s]+|/root(?=/|\b)|[A-Za-z]:\\Users\\[^\\\s]+)")
EXCEPTION_NAME = re.compile(r"\b(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception):\s*")
FIELD_TAG = re.compile(r"\[[\w.]+\] ")  # "[config] ..." as admission.Problem prints itself
VERDICT = re.compile(r"speedup verdict '(\w[\w ]*)' \(not faster than the baseline beyond the noise\)")
VERDICT_WORDS = {"tie": "as fast as the baseline within the measurement noise (a tie never ranks)",
                 "slower": "slower than the baseline", "not measured": "speedup not measured"}


def plain_reason(text: str) -> str:
    """A "not ranked" reason for people: a traceback shrinks to its last line, exception class names and
    home-directory paths go (a path keeps its part after the home folder), so do "[field]" tags, and the speedup
    verdict reads as words."""
    head, traceback, tail = text.partition("Traceback (most recent call last):")
    if traceback:
        last = [line.strip() for line in tail.splitlines() if line.strip()][-1:]
        text = " ".join([head.strip(), *last])
    plain = " ".join(line.strip() for line in text.splitlines() if line.strip())
    plain = HOME_PATH.sub("~", EXCEPTION_NAME.sub("", FIELD_TAG.sub("", plain)))
    return VERDICT.sub(lambda m: VERDICT_WORDS.get(m.group(1), f"speedup verdict {m.group(1)}"), plain)
