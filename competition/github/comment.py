"""Render the bot's sticky PR comment (markdown) from checked result dicts. Pure: no network, no clock."""

from __future__ import annotations

import re
from typing import Any, Callable

from tabulate import tabulate

from competition.console.verdict import tie_reason
from competition.scoring import aa_halfwidth

MARKER = "<!-- tinymlperf-bot -->"
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
        return NOT_MEASURED  # the reason is given once, in the comment's footer (energy_note)
    return f"{energy['joules_per_inference']:.4g} J/inference ({escape(energy['method'] or '')})"


def energy_reasons(results: list[Result]) -> list[str]:
    """Why energy was not measured, each distinct reason once (escaped)."""
    reasons: list[str] = []
    for result in results:
        for side in (result.get("candidate"), result.get("baseline")):
            energy = (side or {}).get("energy") or {}
            if energy and not (energy.get("measured") and energy.get("joules_per_inference") is not None):
                reason = escape(energy.get("reason") or "no energy meter on this runner")
                if reason not in reasons:
                    reasons.append(reason)
    return reasons


def energy_note(reasons: list[str]) -> str | None:
    """The one sentence of the whole comment about unmeasured energy."""
    if not reasons:
        return None
    return (f"Energy reads \"{NOT_MEASURED}\" where no meter could be read ({'; '.join(reasons)}); it is never "
            "estimated.")


def _measurement_rows(result: Result) -> list[list[str]]:
    sides = [result["candidate"], result["baseline"]]
    rows: list[tuple[str, Callable[[dict], str]]] = [
        ("accuracy", lambda m: _accuracy(m["accuracy"])),
        ("time", lambda m: _estimate(m["time_s"], "s")),
        ("peak memory (outside)", lambda m: _bytes(m["peak_memory"].get("external_bytes"))),
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
               "tie": "a tie with the baseline"}[score["verdict"]]
    if score["verdict"] == "tie":
        verdict += f": {tie_reason(result)}"
    return f"speedup **{score['value']:.3f}×** (95 % CI {low:.3f}–{high:.3f}): {verdict}"


def noise_floor(result: Result) -> str:
    """The run's A/A (baseline vs baseline) speedup: how far two identical programs differ on this machine."""
    noise = result["noise"]["aa_speedup"]
    if noise is None:
        return f"noise floor: {NOT_MEASURED}"
    low, high = noise["ci95"]
    return (f"noise floor (baseline vs baseline, {result['noise']['rounds']} rounds): {noise['median']:.3f}× "
            f"({low:.3f}–{high:.3f}), ±{100 * aa_halfwidth(noise):.1f} %")


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


def _category_title(category: str) -> str:
    """The category's name as the rules spell it (competition/rules), else its escaped id."""
    from competition.rules import load_rules

    known = load_rules().categories.get(category)
    return known.name if known is not None else escape(category)


def _category_rows(result: Result, ranks: dict | None) -> list[list[str]]:
    rows = []
    for category, verdict in sorted(result["scores"]["categories"].items()):
        title = _category_title(category)
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


IMPLAUSIBLE = "implausible, not shown"


def implausible(result: Result) -> list[str]:
    """Why a result's scores are outside the course's plausibility bounds (the rules' limits.self_report, the same
    the self-reported submission.json is held to); empty when they are inside or not measured."""
    from competition.rules import load_rules

    bounds = load_rules().limits.self_report
    scores = result["scores"]
    reasons = []
    for label, value, low, high in (
            ("speedup", (scores.get("speedup") or {}).get("value"), bounds["speedup_min"], bounds["speedup_max"]),
            ("compression", scores.get("compression"), bounds["compression_min"], bounds["compression_max"])):
        if value is not None and not low <= value <= high:
            reasons.append(f"{label} {value:.4g}× is outside {low:g}–{high:g}×")
    delta, limit = scores.get("accuracy_delta_points"), bounds["max_accuracy_drop_points"]
    if delta is not None and -delta >= limit:
        reasons.append(f"accuracy drop of {-delta:.4g} points is not under {limit:g}")
    return reasons


def render_result(result: Result, ranks: dict | None) -> str:
    """One event x runner class section of the comment (no numbers at all when any is implausible)."""
    event = result["event"]
    reasons = implausible(result)
    if reasons:
        return "\n".join([f"<!-- submission={result['submission']['name']} -->",
                          f"### {escape(event['name'])} (`{event['id']}`)", "",
                          f"**{IMPLAUSIBLE}**: {'; '.join(reasons)}. Reproduce the run locally "
                          "(`tito benchmark run --all-events --quick`) and push again.", ""])
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
        "- " + noise_floor(result),
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


ENERGY_SEPARATOR = " ;; "
RUNNER_ORDER = ("local", "reference", "edge")
RUNNER_NAMES = {"local": "GitHub-hosted machine", "reference": "reference runner (x86)",
                "edge": "edge runner (ARM64)"}


def section_title(runner_class: str, official: bool) -> tuple[str, str]:
    """Heading and one-line provenance of a section: smoke numbers are unverified, official ones say who ran them."""
    name = RUNNER_NAMES[runner_class]
    if runner_class == "local":
        return (f"Smoke run on a {name} (unverified)",
                "A quick preview run by the pull request's Validate workflow: few rounds, shared hardware, and a "
                "workflow the pull request can edit. Not a result; nothing here is ranked.")
    if official:
        return (f"Official rerun: {name}",
                "Measured by a maintainer-triggered run of the default branch's Benchmark workflow with main's "
                "harness, the submission in the jail (checked: workflow path, event and branch of the run).")
    return (f"{name[0].upper()}{name[1:]}: unverified",
            "These files claim a maintainers' runner but were not checked against the workflow run that made "
            "them; treat them as unverified.")
_SECTION = re.compile(r"<!-- tinymlperf:section runner=(local|reference|edge) sha=([0-9a-f]{40}) -->\n"
                      r"(.*?)<!-- /tinymlperf:section -->\n", re.S)


def _section_head(runner_class: str, sha: str, title: str, run_url: str | None) -> list[str]:
    run = f" · [workflow run]({run_url})" if run_url else ""
    return [f"<!-- tinymlperf:section runner={runner_class} sha={sha} -->", f"## {title}{run}", ""]


def render_notice(runner_class: str, sha: str, title: str, text: str, run_url: str | None = None) -> str:
    """A section that carries no results, only why (a failed official run, a smoke run whose numbers are not
    shown). `text` is written by our code, never taken from an artifact."""
    return "\n".join(_section_head(runner_class, sha, title, run_url) + [text, "", "<!-- /tinymlperf:section -->"]) + "\n"


def failed_official_text(reason: str) -> str:
    """The sentence a failed official run leaves on the PR."""
    return f"official run failed: {reason}, a maintainer will retry"


def render_section(runner_class: str, results: list[Result], sha: str, ranks: dict | None = None,
                   run_url: str | None = None, official: bool = False) -> str:
    """The part of the comment one workflow run owns: its runner class's results for commit `sha`."""
    title, provenance = section_title(runner_class, official)
    lines = _section_head(runner_class, sha, title, run_url) + [f"_{provenance}_", ""]
    reasons = energy_reasons(results)
    if reasons:
        lines.append(f"<!-- energy-reasons: {ENERGY_SEPARATOR.join(reasons)} -->")
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
    reasons: list[str] = []
    for found in re.findall(r"<!-- energy-reasons: (.*?) -->", "".join(merged.values())):
        reasons += [r for r in found.split(ENERGY_SEPARATOR) if r not in reasons]
    note = energy_note(reasons)
    lines += [
        "<sub>Speedup is baseline time / your time, measured side by side on the same machine; a tie means the "
        "interval contains 1, the difference is inside the noise floor (baseline vs baseline), or there were too "
        "few rounds. Ranks are projected against the current leaderboard. Smoke runs are previews; an official rerun "
        "shows what the maintainers' runners measure; the leaderboard records the measurement made after merge."
        + (f" {note}" if note else "") + "</sub>",
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
