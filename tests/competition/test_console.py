"""Terminal output: the 80-column table, truthful one-line verdicts, progress that degrades to plain lines."""

import copy
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from competition.console import ProgressDisplay, results_table, tie_reason, verdict_line
from competition.console.download import DownloadBar
from competition.console.progress import eta_text, parse_counted

STORED = sorted((Path(__file__).resolve().parents[2] / "leaderboard" / "results").glob("*.json"))


def render(renderable, width: int = 80) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def result(value=1.5, ci=(1.4, 1.6), verdict="faster", rounds=20, aa=(0.98, 1.02), compression=4.0,
           accuracy=0.973, delta=0.6, qualified=True, event="cnn_marathon_offline") -> dict:
    """A hand-made result with the fields the console reads."""
    estimate = {"median": 0.5, "ci95": [0.45, 0.55], "n": rounds}
    return {
        "event": {"id": event}, "status": "ok", "errors": [], "config": {"quick": False},
        "candidate": {"accuracy": accuracy, "time_s": estimate, "throughput_per_s": 2000.0,
                      "peak_memory": {"tracemalloc_bytes": None, "external_bytes": 2_500_000}},
        "baseline": {"accuracy": 0.967, "time_s": {**estimate, "median": 0.75}},
        "noise": {"rounds": rounds, "aa_speedup": {"median": 1.0, "ci95": list(aa), "n": rounds} if aa else None},
        "scores": {"speedup": {"value": value, "ci95": list(ci), "verdict": verdict}, "compression": compression,
                   "accuracy_delta_points": delta, "qualified": qualified,
                   "qualification": [{"rule": "accuracy_floor", "passed": qualified,
                                      "detail": "accuracy 97.30 % vs floor 95.00 %"}]},
    }


@pytest.mark.parametrize("path", STORED, ids=lambda p: p.name.split("--")[1])
def test_a_stored_result_fits_80_columns_with_whole_cells(path):
    stored = json.loads(path.read_text())
    text = render(results_table([stored, stored]))
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    rows = [line for line in lines if stored["event"]["id"] in line]
    assert len(rows) == 2  # each row on one line, the event id never broken
    assert "yes" in rows[0] and "x" in rows[0]


def test_wide_table_has_every_column_and_explains_the_speedup():
    text = render(results_table([result()], wide=True), width=250)
    for column in ("status", "your time", "baseline time", "speedup [95 % CI]", "verdict", "throughput",
                   "peak memory", "qualifies"):
        assert column in text
    assert "1.50x [1.40-1.60]" in text and "2.4 MiB" in text  # 2 500 000 bytes, in the verdict line's unit
    assert "median over rounds" in text  # why 0.75 s / 0.5 s need not equal the speedup


def test_verdict_line_for_a_qualifying_speedup():
    line = verdict_line(result(value=1.76, ci=(1.62, 1.98), compression=8.1)).plain
    assert line == "cnn_marathon_offline: 1.76x faster [1.62-1.98], 8.1x smaller, 97.3 %: qualifies"
    wide = verdict_line(result(value=1.76, ci=(1.62, 1.98), compression=8.1), wide=True).plain
    assert wide == ("cnn_marathon_offline: 1.76x faster [1.62-1.98] than the baseline, 8.1x smaller, "
                    "accuracy 97.3 % (+0.6 pt): qualifies")


def test_verdict_line_keeps_the_accuracy_change_when_it_fits():
    line = verdict_line(result(value=1.76, ci=(1.62, 1.98), compression=1.0, event="cnn_marathon")).plain
    assert line == "cnn_marathon: 1.76x faster [1.62-1.98], same size, 97.3 % (+0.6 pt): qualifies"


def test_verdict_line_for_a_slower_entry_inverts_the_interval():
    line = verdict_line(result(value=0.8, ci=(0.75, 0.85), verdict="slower", compression=0.5)).plain
    assert "1.25x slower [1.18-1.33], 2.0x larger" in line


def test_tie_because_the_interval_contains_one():
    tied = result(value=1.02, ci=(0.99, 1.06), verdict="tie", aa=(0.995, 1.005))
    assert tie_reason(tied) == "the 95 % interval contains 1"
    assert "tie: could be 1x [0.99-1.06]" in verdict_line(tied).plain
    assert "a tie with the baseline (the 95 % interval contains 1)" in verdict_line(tied, wide=True).plain


def test_tie_inside_the_noise_floor_although_the_interval_excludes_one():
    tied = result(value=1.03, ci=(1.01, 1.05), verdict="tie", aa=(0.953, 1.04))
    assert tie_reason(tied) == "inside the noise floor (A/A interval +/-4.7 %)"
    assert "tie: within the noise, ±4.7 %" in verdict_line(tied).plain
    assert "contains 1" not in verdict_line(tied, wide=True).plain


def test_tie_words_come_from_the_reason_scoring_records():
    tied = result(value=1.03, ci=(0.9, 1.2), verdict="tie")
    tied["scores"]["speedup"]["reason"] = "budget_spent_before_target"
    assert "tie: too noisy [0.90-1.20]" in verdict_line(tied).plain
    tied["scores"]["speedup"]["reason"] = "too_few_units"
    assert "tie: too few rounds to tell" in verdict_line(tied).plain


def test_tie_because_of_too_few_rounds():
    tied = result(value=1.5, ci=(1.5, 1.5), verdict="tie", rounds=1, aa=None)
    assert tie_reason(tied) == "too few rounds (1, a verdict needs 3)"


def test_memory_master_speaks_peak_memory_not_speed():
    measured = result(event="memory_master_offline", value=2.5, ci=(2.2, 2.8))
    measured["candidate"]["peak_memory"]["external_bytes"] = 41.8 * 2**20
    measured["baseline"]["peak_memory"] = {"external_bytes": 58.3 * 2**20}
    line = verdict_line(measured).plain
    assert line.startswith("memory_master_offline: peak 41.8 MiB, 1.39x less, ") and "faster" not in line
    assert "faster" in verdict_line(measured, wide=True).plain  # the details keep the speed


@pytest.mark.parametrize("path", STORED, ids=lambda p: p.name.split("--")[1])
@pytest.mark.parametrize("quick", [False, True])
def test_every_stored_verdict_fits_80_columns_with_its_verdict_whole(path, quick):
    stored = json.loads(path.read_text())
    stored["config"] = {**(stored.get("config") or {}), "quick": quick}
    line = verdict_line(stored).plain
    assert len(line) <= 80 and "…" not in line, line
    assert line.count("(") <= 1  # no nested parentheses, no jargon
    assert "A/A" not in line and (line.endswith(" (smoke)") == quick)


def test_no_tie_reason_for_a_decided_result():
    assert tie_reason(result()) is None


def test_failed_qualification_and_failed_runs_say_what_failed():
    failing = result(qualified=False)
    assert verdict_line(failing).plain.endswith(": fails: accuracy floor")
    assert "does not qualify: accuracy 97.30 % vs floor 95.00 %" in verdict_line(failing, wide=True).plain
    crashed = {"event": {"id": "mlp_sprint"}, "status": "failed", "candidate": None, "scores": {},
               "errors": [{"stage": "load", "message": "model.py: NameError\nline 2"}]}
    assert verdict_line(crashed).plain == "mlp_sprint: failed at load: model.py: NameError"
    assert "failed" in render(results_table([crashed]))


def test_smoke_runs_are_labelled():
    quick = result()
    quick["config"]["quick"] = True
    assert verdict_line(quick).plain.endswith(" (smoke)")
    assert verdict_line(quick, wide=True).plain.endswith("(smoke run: not for the leaderboard)")


def test_text_events_show_perplexity():
    text_result = copy.deepcopy(result(event="transformer_decathlon", accuracy=None, delta=None))
    text_result["candidate"]["perplexity"] = 6.99
    assert "ppl 6.99" in verdict_line(text_result).plain
    assert "perplexity 6.99" in verdict_line(text_result, wide=True).plain
    assert "ppl 6.99" in render(results_table([text_result]))


def plain_display(total: int = 2) -> tuple[ProgressDisplay, io.StringIO]:
    out = io.StringIO()
    return ProgressDisplay(total, console=Console(file=out, width=120, color_system=None)), out


def test_plain_progress_lines_fit_80_columns():
    display, out = plain_display()
    with display as show:
        show.event(1, "memory_master_offline")
        show("measuring the import-only worker and this runner's GEMM peak, and then some more words")
    lines = out.getvalue().splitlines()
    assert max(map(len, lines)) <= 80 and lines[-1].endswith("…")


def test_progress_degrades_to_plain_lines_when_not_a_terminal():
    display, out = plain_display()
    with display as show:
        show.event(1, "mlp_sprint")
        show("loading mnist/test")
        for r in range(1, 101):
            show(f"round {r}/100")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[event 1/2 mlp_sprint] starting"
    assert lines[1] == "[event 1/2 mlp_sprint] loading mnist/test"
    rounds = lines[2:]
    assert 10 <= len(rounds) <= 12  # about every 10 %, not a line per round
    assert rounds[-1] == "[event 1/2 mlp_sprint] round 100/100"
    assert "ETA" in rounds[1]


def test_structured_updates_and_disabled_display():
    display, out = plain_display(1)
    with display as show:
        show.event(1, "cnn_marathon_offline")
        show(stage="round", done=3, total=3)
    assert "[event 1/1 cnn_marathon_offline] round 3/3" in out.getvalue()
    silent, quiet_out = plain_display(1)
    silent.enabled = False
    with silent as show:
        show("anything")
    assert quiet_out.getvalue() == ""


def test_progress_on_a_terminal_is_a_transient_live_display():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with ProgressDisplay(1, console=console) as show:
        show.event(1, "mlp_sprint")
        show("round 2/4")
        show.event_done(1)
    assert "round" in out.getvalue()  # drawn live on the terminal


def test_counted_messages_and_eta():
    assert parse_counted("round 3/20") == ("round", 3, 20)
    assert parse_counted("training interleaved rounds") is None
    assert eta_text(10.0, 5, 10) == "ETA 0:10"
    assert eta_text(10.0, 0, 10) == ""


def test_download_bar_prints_quarters_when_not_a_terminal():
    out = io.StringIO()
    with DownloadBar(Console(file=out, width=120, color_system=None)) as bar:
        for received in range(0, 4_000_001, 250_000):
            bar("a.gz", received, 4_000_000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5 and lines[-1] == "a.gz: 4.0 MB of 4.0 MB"


def test_the_memory_master_table_row_shows_peak_memory_not_speed():
    memory = result(event="memory_master_offline")
    memory["baseline"]["peak_memory"] = {"tracemalloc_bytes": None, "external_bytes": 5_000_000}
    row = next(line for line in render(results_table([memory, result()])).splitlines() if "memory_master" in line)
    assert "peak 2.4 MiB" in row and "1.50x" not in row  # the verdict line's unit
    speed = next(line for line in render(results_table([result()])).splitlines() if "cnn_marathon" in line)
    assert "1.50x" in speed
