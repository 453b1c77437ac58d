"""The results table: five columns that fit an 80-column terminal, every measured column with `wide`."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rich import box
from rich.table import Table

from competition.console.units import mebibytes
from competition.console.verdict import primary_metric

WIDE_CAPTION = ("speedup = median over rounds of (baseline time / your time) in the same round, so it can differ "
                "from the ratio of the two median times")


def _speedup(scores: Mapping[str, Any], interval: bool) -> str:
    speed = scores.get("speedup")
    if not speed:
        return "-"
    text = f"{speed['value']:.2f}x"
    if interval:
        text += f" [{speed['ci95'][0]:.2f}-{speed['ci95'][1]:.2f}]"
    return text if interval else f"{text} {speed['verdict']}"


def _compression(scores: Mapping[str, Any]) -> str:
    value = scores.get("compression")
    return "-" if value is None else f"{value:.1f}x"


def _quality(measured: Mapping[str, Any]) -> str:
    if measured.get("accuracy") is not None:
        return f"{100 * measured['accuracy']:.1f} %"
    if measured.get("perplexity") is not None:
        return f"ppl {measured['perplexity']:.2f}"
    return "-"


def _qualifies(result: Mapping[str, Any], details: bool) -> str:
    scores = result.get("scores") or {}
    if result.get("status") not in (None, "ok") and result.get("candidate") is None:
        return f"[red]{result['status']}[/red]"
    if scores.get("qualified"):
        return "[green]yes[/green]"
    if not details:
        return "[red]no[/red]"
    failed = [check["rule"] for check in scores.get("qualification", []) if not check["passed"]]
    return "[red]no[/red]: " + ", ".join(failed)


def _seconds(estimate: Mapping[str, Any] | None) -> str:
    if not estimate:
        return "-"
    lo, hi = estimate["ci95"]
    return f"{estimate['median']:.4g} [{lo:.3g}-{hi:.3g}]"


def _peak(measured: Mapping[str, Any]) -> int | None:
    return (measured.get("peak_memory") or {}).get("external_bytes")


def results_table(results: Sequence[Mapping[str, Any]], wide: bool = False) -> Table:
    """One row per result. Default: event, the event's ranked metric (speedup + verdict, or peak memory against the
    baseline's for Memory Master), compression, quality, qualifies (fits 80 columns);
    `wide`: also status, both times with 95 % CIs, throughput, peak memory and the failed rules."""
    table = Table(title="TinyMLPerf results", box=box.SIMPLE_HEAD, caption=WIDE_CAPTION if wide else None)
    table.add_column("event", no_wrap=True)
    if wide:
        table.add_column("status")
        table.add_column("your time (s) [95 % CI]", overflow="fold")
        table.add_column("baseline time (s)", overflow="fold")
    table.add_column("speedup [95 % CI]" if wide else "ranked on", no_wrap=True, justify="right")
    if wide:
        table.add_column("verdict")
    table.add_column("smaller", justify="right", no_wrap=True)
    table.add_column("quality", justify="right", no_wrap=True)
    if wide:
        table.add_column("throughput", justify="right")
        table.add_column("peak memory", justify="right")
    table.add_column("qualifies", no_wrap=not wide)
    for result in results:
        scores, candidate = result.get("scores") or {}, result.get("candidate") or {}
        baseline = result.get("baseline") or {}
        cells = [result["event"]["id"]]
        if wide:
            cells += [result.get("status", "?"), _seconds(candidate.get("time_s")), _seconds(baseline.get("time_s"))]
        if not wide and primary_metric(result["event"]["id"]) == "peak_memory":
            peak = _peak(candidate)
            cells.append("-" if peak is None else f"peak {mebibytes(peak)}")  # as the verdict line says it
        else:
            cells.append(_speedup(scores, interval=wide))
        if wide:
            cells.append((scores.get("speedup") or {}).get("verdict", "-"))
        cells += [_compression(scores), _quality(candidate)]
        if wide:
            throughput = candidate.get("throughput_per_s")
            cells += ["-" if throughput is None else f"{throughput:.4g}/s",
                      mebibytes(_peak(candidate))]
        cells.append(_qualifies(result, details=wide))
        table.add_row(*cells)
    return table
