"""Render the bot's sticky PR comment (markdown) from checked result dicts. Pure: no network, no clock."""

from __future__ import annotations

import re
from typing import Any, Callable

from tabulate import tabulate

MARKER = "<!-- tinymlperf-bot -->"
CATEGORY_TITLES = {
    "speed_demon": "Speed Demon",
    "memory_miser": "Memory Miser",
    "edge_expert": "Edge Expert",
    "energy_efficient": "Energy Efficient",
    "tinymlperf_overall": "TinyMLPerf overall",
}
NOT_MEASURED = "not measured"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+!|~])")

Result = dict[str, Any]


def escape(text: str) -> str:
    """Submission-controlled text made inert: no markdown, HTML, mentions or line breaks."""
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat).replace("@", "@\u200b")


def _estimate(value: dict | None, unit: str, scale: float = 1.0) -> str:
    if value is None:
        return NOT_MEASURED
    low, high = (x * scale for x in value["ci95"])
    return f"{value['median'] * scale:.4g} {unit} (95 % CI {low:.4g}–{high:.4g})"


def _bytes(value: int | None) -> str:
    if value is None:
        return NOT_MEASURED
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value} B"


def _accuracy(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{100 * value:.2f} %"


def _energy(measurements: dict) -> str:
    energy = measurements["energy"]
    if not energy["measured"] or energy["joules_per_inference"] is None:
        reason = energy.get("reason")
        return NOT_MEASURED + (f" ({escape(reason)})" if reason else "")
    return f"{energy['joules_per_inference']:.4g} J/inference ({escape(energy['method'] or '')})"


def _measurement_rows(result: Result) -> list[list[str]]:
    sides = [result["candidate"], result["baseline"]]
    rows: list[tuple[str, Callable[[dict], str]]] = [
        ("accuracy", lambda m: _accuracy(m["accuracy"])),
        ("time", lambda m: _estimate(m["time_s"], "s")),
        ("peak memory (tracemalloc)", lambda m: _bytes(m["peak_memory"]["tracemalloc_bytes"])),
        ("model size", lambda m: _bytes(m["model_size_bytes"])),
        ("energy", _energy),
    ]
    if any(side and side.get("perplexity") is not None for side in sides):
        rows.insert(1, ("perplexity", lambda m: NOT_MEASURED if m.get("perplexity") is None
                        else f"{m['perplexity']:.3f}"))
    return [[label] + [("no measurement" if side is None else show(side)) for side in sides] for label, show in rows]


def _speedup(result: Result) -> str:
    score = result["scores"]["speedup"]
    if score is None:
        return f"speedup: {NOT_MEASURED}"
    low, high = score["ci95"]
    verdict = {"faster": "faster than the baseline", "slower": "slower than the baseline",
               "tie": "a statistical tie with the baseline (the CI contains 1)"}[score["verdict"]]
    noise = result["noise"]["aa_speedup"]
    floor = "" if noise is None else f"; noise floor (baseline vs baseline) {_ci(noise['median'], noise['ci95'])}"
    return f"speedup **{score['value']:.3f}×** (95 % CI {low:.3f}–{high:.3f}): {verdict}{floor}"


def _ci(value: float, ci: list[float]) -> str:
    return f"{value:.3f}× ({ci[0]:.3f}–{ci[1]:.3f})"


def _ratio(label: str, value: float | None, fmt: str) -> str:
    return f"{label} {NOT_MEASURED}" if value is None else f"{label} {value:{fmt}}"


def _rank_text(projection: dict | None) -> str:
    """One projected_ranks entry ({rank, tied, of, reason, ...}) as text."""
    if projection is None:
        return "not ranked"
    if projection.get("rank") is None:
        return "not ranked: " + escape(projection.get("reason") or "no ranking")
    of = f" of {projection['of']}" if projection.get("of") else ""
    return f"#{projection['rank']}{of}" + (" (tie)" if projection.get("tied") else "")


def _projection(ranks: dict, board: str, result: Result) -> dict | None:
    """This result's entry in projected_ranks: boards are keyed "<board>/<event>/<division>[/<runner>]"."""
    key = f"{board}/{result['event']['id']}/{result['submission']['division']}"
    return ranks.get(f"{key}/{result['runner']['class']}", ranks.get(key))


def _category_rows(result: Result, ranks: dict | None) -> list[list[str]]:
    rows = []
    for category, verdict in sorted(result["scores"]["categories"].items()):
        title = CATEGORY_TITLES.get(category, escape(category))
        eligible = "yes" if verdict["eligible"] else f"no: {escape(verdict['reason'])}"
        if ranks is None:
            rank = "unavailable"
        else:
            rank = _rank_text(_projection(ranks, category, result)) if verdict["eligible"] else "—"
        rows.append([title, eligible, rank])
    return rows


def _qualification(result: Result) -> str:
    failed = [q for q in result["scores"]["qualification"] if not q["passed"]]
    if result["status"] != "ok":
        errors = "; ".join(escape(e["message"]) for e in result["errors"][:3])
        return f"**run {result['status']}**" + (f": {errors}" if errors else "")
    if result["scores"]["qualified"]:
        return "qualified: yes (all thresholds met)"
    return "qualified: **no**: " + "; ".join(f"{escape(q['rule'])}: {escape(q['detail'])}" for q in failed)


def render_result(result: Result, ranks: dict | None) -> str:
    """One event x runner class section of the comment."""
    event = result["event"]
    official = "" if event["official"] else " · unofficial event (bundled data)"
    runner = result["runner"]
    hardware = runner["hardware"]
    lines = [
        f"<!-- submission={result['submission']['name']} -->",
        f"### {escape(event['name'])} (`{event['id']}`){official}",
        "",
        f"{escape(hardware['cpu_model'])}, {hardware['cores']} cores, {escape(hardware['machine'])}",
        "",
        _qualification(result),
        "",
    ]
    if result["candidate"] is not None or result["baseline"] is not None:
        lines += [tabulate(_measurement_rows(result), headers=["", "your submission", "baseline (same machine)"],
                           tablefmt="github"), ""]
    scores = result["scores"]
    lines += [
        "- " + _speedup(result),
        "- " + _ratio("compression", scores["compression"], ".3f") + (
            "×" if scores["compression"] is not None else ""),
        "- " + _ratio("accuracy change vs baseline (points)", scores["accuracy_delta_points"], "+.2f"),
        "- " + _ratio("efficiency score", scores["efficiency"], ".3f"),
        "",
    ]
    if ranks is not None:
        event_board = ranks.get(f"{event['id']}/{result['submission']['division']}/{runner['class']}")
        lines += [f"Projected rank in this event ({result['submission']['division']} division, "
                  f"{runner['class']} runner): {_rank_text(event_board)}", ""]
    if scores["categories"]:
        lines += [tabulate(_category_rows(result, ranks), headers=["category", "eligible", "projected rank"],
                           tablefmt="github"), ""]
    return "\n".join(lines)


RUNNER_ORDER = ("local", "reference", "edge")
RUNNER_TITLES = {"local": "Preview run (runner class `local`, never official)",
                 "reference": "Reference runner (x86)", "edge": "Edge runner (ARM64)"}
_SECTION = re.compile(r"<!-- tinymlperf:section runner=(local|reference|edge) sha=([0-9a-f]{40}) -->\n"
                      r"(.*?)<!-- /tinymlperf:section -->\n", re.S)


def render_section(runner_class: str, results: list[Result], sha: str, ranks: dict | None = None,
                   run_url: str | None = None) -> str:
    """The part of the comment one workflow run owns: its runner class's results for commit `sha`."""
    run = f" · [workflow run]({run_url})" if run_url else ""
    lines = [f"<!-- tinymlperf:section runner={runner_class} sha={sha} -->",
             f"## {RUNNER_TITLES[runner_class]}{run}", ""]
    if not results:
        lines += ["No results were produced for this commit: open the workflow run for the log, reproduce it "
                  "locally (`tito submit --validate-only`, `tito benchmark run --all-events --quick`) and push "
                  "again.", ""]
    for result in sorted(results, key=lambda r: r["event"]["id"]):
        lines.append(render_result(result, ranks))
    lines.append("<!-- /tinymlperf:section -->")
    return "\n".join(lines) + "\n"


def sections_of(body: str | None, sha: str) -> dict[str, str]:
    """The sections of an earlier comment that still describe commit `sha`, by runner class."""
    return {m.group(1): m.group(0) for m in _SECTION.finditer(body or "") if m.group(2) == sha}


def render_comment(sections: dict[str, str], sha: str, pr_number: int | None = None,
                   previous_body: str | None = None) -> str:
    """The whole sticky comment: new `sections` (by runner class) plus those of `previous_body` for the same SHA."""
    merged = {**sections_of(previous_body, sha), **sections}
    names = sorted(set(re.findall(r"<!-- submission=([a-z0-9_-]+) -->", "".join(merged.values()))))
    title = f"`{names[0]}`" if len(names) == 1 else "this pull request"
    pr_text = f"PR #{pr_number} · " if pr_number is not None else ""
    lines = [MARKER, f"# TinyMLPerf results for {title}", "", f"{pr_text}commit `{sha}`", ""]
    lines += [merged[runner] for runner in RUNNER_ORDER if runner in merged]
    lines += [
        "<sub>Pull-request runs are previews; official results come from the maintainers' reference (x86) and edge "
        "(ARM64) runners after merge. Ranks are projected against the current leaderboard; a tie means the 95 % "
        "confidence intervals overlap. Energy reads \"not measured\" unless RAPL was read on the runner.</sub>",
        "",
    ]
    return "\n".join(lines)


def projected(store_results: list[Result], new_results: list[Result]) -> dict | None:
    """projected_ranks from the leaderboard, or None if the leaderboard cannot rank (missing module or bad store)."""
    try:
        from competition.leaderboard.rankings import projected_ranks
    except ImportError:
        return None
    return projected_ranks(store_results, new_results)
