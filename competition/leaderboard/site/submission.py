"""submissions/<name>.html: ranks, badges, every current result with CIs and provenance, and the run history."""

from __future__ import annotations

from competition.leaderboard import fields, formatting
from competition.leaderboard.config import Config
from competition.leaderboard.fields import Result
from competition.leaderboard.formatting import NOT_MEASURED, with_ci
from competition.leaderboard.model import Leaderboard
from competition.leaderboard.site.html import esc, key_value_table, link, page, table


def _estimate(estimate: dict | None, unit: str, digits: int = 4) -> str:
    if estimate is None:
        return NOT_MEASURED
    return f"{with_ci(estimate['median'], estimate['ci95'], unit, digits)} (n = {estimate['n']})"


def _optional(value: float | int | None, fmt: str = "{:.4g}") -> str:
    return NOT_MEASURED if value is None else fmt.format(value)


def metrics(result: Result) -> list[tuple[str, str]]:
    """The candidate's measurements and scores, formatted with their CIs."""
    cand, base, scores = fields.candidate(result), result["baseline"] or {}, result["scores"]
    latency = cand.get("latency_ms")
    speedup = scores["speedup"]
    return [
        ("Status", result["status"] + ("" if scores["qualified"] else " (not qualified)")),
        ("Speedup [95 % CI]", formatting.speedup(result) + (f" ({speedup['verdict']})" if speedup else "")),
        ("Time (candidate)", _estimate(cand.get("time_s"), " s")),
        ("Time (baseline, same machine)", _estimate(base.get("time_s"), " s")),
        ("Noise floor (A/A speedup)", _estimate(result["noise"]["aa_speedup"], "x", 3)),
        ("Latency p50 / p90", NOT_MEASURED if latency is None
         else f"{latency['p50']:.4g} ms / {latency['p90']:.4g} ms (n = {latency['n']})"),
        ("Throughput", _optional(cand.get("throughput_per_s"), "{:.4g} / s")),
        ("Accuracy", formatting.percent(fields.accuracy(result))),
        *([("Perplexity", _optional(fields.perplexity(result), "{:.3f}"))]
          if fields.perplexity(result) is not None or fields.accuracy(result) is None else []),
        ("Accuracy change vs baseline", _optional(scores["accuracy_delta_points"], "{:+.2f} points")),
        ("Peak memory (measured outside)", formatting.size(fields.peak_memory_bytes(result))),
        ("Model size", formatting.size(fields.model_size_bytes(result))),
        ("Parameters", _optional(cand.get("parameter_count"), "{:d}")),
        ("Compression vs baseline", _optional(scores["compression"], "{:.2f}x")),
        ("Efficiency score", formatting.number(fields.efficiency(result))),
        ("Energy per inference", formatting.energy(result, long=True)),
    ]


def provenance(result: Result) -> list[tuple[str, str]]:
    """Where and how the result was measured."""
    hw, event, sub = result["runner"]["hardware"], result["event"], result["submission"]
    return [
        ("Result id", result["result_id"]),
        ("Runner", f"{result['runner']['class']}: {hw['cpu_model']} ({hw['machine']}, {hw['cores']} cores, "
                   f"{formatting.size(hw['ram_bytes'])} RAM)"),
        ("Software", f"{hw['os']}; Python {hw['python']}; NumPy {hw['numpy']}; BLAS {hw['blas']}"),
        ("GEMM peak", _optional(result["runner"]["gemm_gflops"], "{:.1f} GFLOP/s")),
        ("Harness", f"{result['harness']['version']} at commit {result['harness']['git_commit'] or 'unknown'}"),
        ("Dataset", f"{event['dataset']['name']} / {event['dataset']['split']} "
                    f"({event['dataset']['n_examples']} examples), sha256 {event['dataset']['sha256'] or 'not available (data not loaded)'}"),
        ("Submission tree sha256", sub["tree_sha256"]),
        ("Submission commit", sub.get("commit_sha") or "unknown"),
        ("Sandbox", f"{result['sandbox']['method']}; network isolated: {result['sandbox']['network_isolated']}"),
        ("Started / finished (UTC)", f"{result['started_at']} / {result['finished_at']}"),
    ]


def _checks(result: Result) -> str:
    rules = [f"<li>{'passed' if q['passed'] else 'FAILED'}: {esc(q['rule'])}: "
             f"{esc(formatting.plain_reason(q['detail']))}</li>" for q in result["scores"]["qualification"]]
    errors = [f"<li>{esc(e['stage'])}: {esc(formatting.plain_reason(e['message']))}</li>" for e in result["errors"]]
    return ("<h4>Thresholds</h4><ul>" + "".join(rules) + "</ul>"  # category verdicts: the Rankings table
            + (f"<h4>Errors</h4><ul>{''.join(errors)}</ul>" if errors else ""))


def result_section(result: Result, config: Config) -> str:
    """One current result: metrics, checks, provenance and a link to the stored file (the machine-readable data)."""
    label = "official" if fields.is_official(result) else "unofficial"
    title = f"{result['event']['name']}, {result['runner']['class']} runner ({label})"
    raw = link(config.result_url(result["result_id"]), "raw result (JSON)")
    return (f'<section class="result"><h2>{esc(title)}</h2>{key_value_table(metrics(result))}{_checks(result)}'
            f"<details><summary>Provenance</summary>{key_value_table(provenance(result))}</details>"
            f'<p class="links">{raw}</p></section>')


def _ranks(lb: Leaderboard, name: str) -> str:
    rows = []
    for board, row in lb.placements(name):
        where = (formatting.rank(row.rank, row.tied) + f" of {len(board.ranked)}" if row.rank
                 else formatting.plain_reason(row.reason or ""))
        rows.append(f"<tr><td>{esc(board.title)}</td><td>{esc(where)}</td></tr>")
    return table(["Ranking", "Rank"], rows) if rows else '<p class="empty">Not on any ranking.</p>'


def _history(lb: Leaderboard, name: str) -> str:
    rows = [f"<tr><td>{esc(r['started_at'])}</td><td>{esc(r['event']['name'])}</td><td>{esc(r['runner']['class'])}"
            f"</td><td>{esc(r['status'])}</td><td>{esc(formatting.speedup(r))}</td></tr>" for r in lb.history(name)]
    return table(["Started (UTC)", "Event", "Runner", "Status", "Speedup [95 % CI]"], rows)


def render_submission(lb: Leaderboard, name: str) -> str:
    """The page of one submission (its latest stored run supplies athlete and techniques)."""
    history = lb.history(name)
    sub = history[-1]["submission"]
    current = sorted(lb.current_of(name),
                     key=lambda r: (not fields.is_official(r), r["runner"]["class"] != "reference", r["result_id"]))
    prs = sorted({r["submission"]["pr_number"] for r in history if r["submission"].get("pr_number")})
    links = [link(lb.config.report_url(name), "report (README)")] + [link(lb.config.pr_url(n), f"PR #{n}")
                                                                    for n in prs]
    honours = [f"<li>{esc(a.title)} ({esc(a.detail)})</li>" for a in lb.awards if name in a.submissions]
    honours += [f"<li>{esc(b.label)} ({esc(b.detail)})</li>" for b in lb.badges.get(name, [])]
    team = f" · team {esc(sub['team'])}" if sub["team"] else ""
    body = (
        f"<h1>{esc(name)}</h1>"
        f'<p class="athlete"><span id="athlete-name">{esc(sub["athlete_name"])}</span>{team} · '
        f'{link("https://github.com/" + sub["github_handle"], "@" + sub["github_handle"])} · '
        f'{esc(sub["division"])} division</p>'
        f'<p class="links">{" · ".join(links)}</p>'
        "<h2>Techniques</h2><ul>" + "".join(f"<li>{esc(t)}</li>" for t in sub["techniques_used"])
        + ("" if sub["techniques_used"] else "<li>none listed</li>") + "</ul>"
        + (f"<h2>Awards and badges</h2><ul>{''.join(honours)}</ul>" if honours else "")
        + f"<h2>Rankings</h2>{_ranks(lb, name)}"
        + '<div class="results">' + "".join(result_section(r, lb.config) for r in current) + "</div>"
        + f"<h2>Run history</h2>{_history(lb, name)}"
    )
    return page(f"{name}: {lb.config.site_title}", lb.config.site_title, body, "../")
