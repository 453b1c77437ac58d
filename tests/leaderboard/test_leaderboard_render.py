"""LEADERBOARD.md and the site as text: content, escaping, determinism, and the CLI."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from competition.leaderboard.cli import main
from competition.leaderboard.config import Config, ConfigError, load_config
from competition.leaderboard.markdown import render_markdown
from competition.leaderboard.model import assemble
from competition.leaderboard.site import render_site
from competition.rules import load_rules
from tests.leaderboard.factory import make_scored_result, sample_results


def _markdown(results=None):
    return render_markdown(assemble(results or sample_results(), [], Config(repository="org/repo")))


def _render(markdown: str) -> str:
    """LEADERBOARD.md as a CommonMark renderer with GitHub's tables shows it (raw HTML passes through)."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable("table").render(markdown)


def test_markdown_prints_percent_cis_and_not_measured():
    text = _markdown()
    assert "| =1 " in text and "2.00x [1.90, 2.10]" in text and "1.95x [1.85, 2.05]" in text
    assert "81.00 %" in text and "perplexity 4.20" in text
    assert "not measured" in text and "0.0125 J" in text
    assert "0.5 J" not in text  # the estimate in the test data is never shown
    assert re.search(r"^\|-", text, re.MULTILINE)  # tabulate's github format


def test_markdown_links_reports_and_prs():
    text = _markdown()
    assert "[alpha][]" in text and "\n[alpha]: submissions/alpha/README.md\n" in text
    assert "[#12][pr-12]" in text and "\n[pr-12]: https://github.com/org/repo/pull/12" in text


def test_markdown_escapes_user_strings():
    text = _markdown()
    rendered = _render(text)  # CommonMark passes raw HTML through: an unescaped tag would appear here
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert '\\<script>alert("x")\\</script>' in text  # a backslash escape, readable in the raw file
    for table in re.findall(r"(?:^\|.*\n)+", text, re.MULTILINE):  # a user's "|" never adds a column
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.splitlines()}
        assert len(widths) == 1, table


def test_markdown_separates_unranked_and_unofficial():
    text = _markdown()
    not_ranked = text.index("## Not ranked")
    unofficial = text.index("## Unofficial results")
    assert text.index("### CNN Marathon · closed") < unofficial < not_ranked
    assert "accuracy\\_floor failed" in text[not_ranked:]
    assert "CNN Marathon · closed · local runner" in text[unofficial:not_ranked]
    assert "CNN Marathon (offline)" in text[unofficial:not_ranked]


def test_markdown_tables_fit_120_columns_and_empty_sections_are_left_out():
    for results in (sample_results(), _local_only_board()):
        text = _markdown(results)
        tables = [line for line in text.splitlines() if line.startswith("|")]
        assert tables and max(len(line) for line in tables) <= 120
        assert "Every entry is ranked" not in text and "_None._" not in text and "yet._\n\n##" not in text
    local = _markdown(_local_only_board())
    for absent in ("## Awards", "## Official rankings", "## Category podiums", "## History", "## Badges"):
        assert absent not in local
    assert local.index("## Leaders") < local.index("## Unofficial results") < local.index("## Not ranked")
    assert "within the measurement noise" in local and "verdict 'tie'" not in local


def test_not_ranked_reasons_are_plain_words():
    crashed = make_scored_result("crash", event_id="cnn_marathon_offline", runner_class="local", speedup=2.0)
    crashed["status"] = "error"
    crashed["errors"] = [{"stage": "run", "message": "worker failed: Traceback (most recent call last):\n  File "
                          '"/home/alice/tiny/model.py", line 3, in forward\nnumpy.core._exceptions.'
                          "MemoryError: Unable to allocate 8 GiB in /home/alice/tiny/model.py"}]
    lb = assemble([crashed], [], Config())
    for text in (render_markdown(lb), *render_site(lb).values()):
        assert "Traceback" not in text and "/home/alice" not in text and "MemoryError" not in text
    assert "Unable to allocate 8 GiB in ~/tiny/model.py" in render_site(lb)["index.html"]


def test_site_escapes_every_user_string_and_has_no_inline_script():
    pages = render_site(assemble(sample_results(), [], Config()))
    for path, html in pages.items():
        if not path.endswith(".html"):
            continue
        assert "<script>alert" not in html and '"><img' not in html and "<b>bold" not in html, path
        assert "Content-Security-Policy" in html and "script-src 'self'" in html
        scripts = re.findall(r"<script([^>]*)>", html)
        assert all('src="' in attrs or 'type="application/json"' in attrs for attrs in scripts), path
    beta = pages["submissions/beta.html"]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in beta
    assert "/blob/main/leaderboard/results/beta--cnn_marathon--reference--" in beta  # the raw result


def test_site_shows_energy_only_when_measured():
    pages = render_site(assemble(sample_results(), [], Config()))
    assert "not measured (no RAPL access)" in pages["submissions/alpha.html"]
    assert "0.0125 J" in pages["submissions/gamma.html"]
    assert "0.5 J" not in "".join(pages.values())


def test_site_pages_and_charts_exist():
    pages = render_site(assemble(sample_results(), [], Config()))
    assert {"index.html", "assets/site.css", "assets/site.js", ".nojekyll", "submissions/alpha.html"} <= set(pages)
    index = pages["index.html"]
    assert index.count('class="chart"') >= 4 and 'class="point front"' in index and 'class="record-line"' in index
    assert index.count('class="reference"') >= 4  # the baseline drawn on every chart
    alpha = pages["submissions/alpha.html"]
    for provenance in ("Test CPU", "commit " + "d" * 40, "sha256 " + "c" * 64, "a" * 64, "2026-11-01T12:00:00Z"):
        assert provenance in alpha


def _local_only_board():
    """A board with only local runs (practice): one entry beats the baseline, one ties it; a text event."""
    return [make_scored_result("fast", event_id="cnn_marathon_offline", runner_class="local", speedup=2.0,
                               accuracy=0.96, baseline_accuracy=0.96, model_size=400_000),
            make_scored_result("even", event_id="cnn_marathon_offline", runner_class="local", speedup=1.0,
                               accuracy=0.96, baseline_accuracy=0.96),
            make_scored_result("gpt", event_id="transformer_decathlon", runner_class="local", speedup=3.0,
                               accuracy=None, baseline_accuracy=None, perplexity=7.0)]


def test_index_of_a_local_only_board_starts_with_numbers_not_empty_sections():
    index = render_site(assemble(_local_only_board(), [], Config()))["index.html"]
    assert "None yet" not in index and "No awards yet" not in index and "No ranked entries yet" not in index
    for absent in ('id="awards"', 'id="official"', 'id="highlights"', 'id="history"', 'id="progression"'):
        assert absent not in index and f'href="#{absent[4:-1]}"' not in index
    leaders = index[index.index('id="leaders"'):index.index('id="pareto"')]
    assert leaders.count('class="card filterable"') == 2 and ">fast</a>" in leaders and "2.00x" in leaders
    assert index.index('id="leaders"') < index.index('id="unofficial"')
    pareto = index[index.index('id="pareto"'):]
    assert pareto.count('class="chart"') == 2 and "perplexity (lower is better)" in pareto


def test_site_names_categories_as_the_rules_do():
    names = {rule.name for rule in load_rules().categories.values()}
    index = render_site(assemble(sample_results(), [], Config()))["index.html"]
    for title in ("Speed Champions", "Memory Misers", "Efficiency Leaders"):
        assert title not in index
    assert "<h3>Speed Demon</h3>" in index and "<h3>TinyMLPerf Overall</h3>" in index
    assert all(f"<td>{name}</td>" in index for name in names)  # the category table, exactly as named


def test_rendering_does_not_depend_on_input_order():
    results = sample_results()
    shuffled = results[:]
    random.Random(3).shuffle(shuffled)
    first, second = assemble(results, [], Config()), assemble(shuffled, [], Config())
    assert render_markdown(first) == render_markdown(second)
    assert render_site(first) == render_site(second)


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_twice_gives_byte_identical_output(sample_store, registered_config, tmp_path):
    outputs = []
    for attempt in ("one", "two"):
        out = tmp_path / attempt
        code = main(["leaderboard", "build", "--store", str(sample_store), "--markdown", str(out / "LEADERBOARD.md"),
                     "--site", str(out / "site"), "--awards", str(tmp_path / "none.yaml"),
                     "--config", str(registered_config), "--submissions", ""])
        assert code == 0
        outputs.append(_tree(out))
    assert outputs[0] == outputs[1] and "LEADERBOARD.md" in outputs[0]
    text = outputs[0]["LEADERBOARD.md"].decode()
    assert "| 1 " in text and "alpha" in text and "Baseline (reference line, not ranked)" in text


def test_cli_add_refuses_to_overwrite(sample_store, registered_config, tmp_path, capsys):
    options = ["--store", str(sample_store), "--config", str(registered_config), "--submissions", ""]
    changed = make_scored_result("alpha", speedup=7.0)
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    assert main(["leaderboard", "add", str(path), *options]) == 1
    assert "append-only" in capsys.readouterr().err
    fresh = tmp_path / "fresh.json"
    fresh.write_text(json.dumps(make_scored_result("alpha", speedup=7.0, run=5)), encoding="utf-8")
    assert main(["leaderboard", "add", str(fresh), *options]) == 0
    assert "stored" in capsys.readouterr().out


def test_config_defaults_links_and_errors(tmp_path):
    repo_config = load_config(Path(__file__).resolve().parents[2] / "leaderboard" / "config.yaml")
    assert repo_config.report_url("alpha").endswith("/blob/main/submissions/alpha/README.md")
    assert load_config(tmp_path / "missing.yaml") == Config()
    bad = tmp_path / "config.yaml"
    bad.write_text("repository: 'not a slug'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[repository\]"):
        load_config(bad)


def test_cli_build_reports_a_bad_awards_file(sample_store, tmp_path, capsys):
    awards = tmp_path / "awards.yaml"
    awards.write_text("- award: fastest\n  submission: alpha\n", encoding="utf-8")
    code = main(["leaderboard", "build", "--store", str(sample_store), "--markdown", str(tmp_path / "L.md"),
                 "--site", str(tmp_path / "site"), "--awards", str(awards), "--config", str(tmp_path / "none.yaml")])
    assert code == 1 and "awards.yaml: entry 1 [award]" in capsys.readouterr().err
    assert not (tmp_path / "L.md").exists()


def test_leaders_show_the_value_each_ranking_sorts_by():
    """Memory Master ranks peak memory, so its leader line shows peak memory, not a speedup."""
    results = [make_scored_result("lean", event_id="memory_master_offline", runner_class="local", speedup=1.0,
                                  accuracy=0.97, baseline_accuracy=0.97, peak_memory=20_000_000,
                                  baseline_peak=40_000_000),
               make_scored_result("fast", event_id="cnn_marathon_offline", runner_class="local", speedup=2.0,
                                  accuracy=0.96, baseline_accuracy=0.96)]
    text = _markdown(results)
    leaders = text[text.index("## Leaders"):text.index("## Unofficial results")]
    memory_line = next(line for line in leaders.splitlines() if "Memory Master" in line)
    speed_line = next(line for line in leaders.splitlines() if "CNN Marathon" in line)
    assert "lean" in memory_line and "Peak memory:" in memory_line and "Speedup" not in memory_line
    assert "fast" in speed_line and "Speedup: 2.00x" in speed_line
