"""The course's Python API: generate_baseline / generate_submission write the self-reported JSON files
(baseline_submission.json, submission.json) from a real harness run. Those files are checked, never trusted:
the leaderboard uses only the harness's result JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from tinytorch.atomic import write_atomic

from competition.baseline import baseline_status
from competition.rules.schema import schema_problems
from competition.validation import BASELINE_DIR


class ReportError(RuntimeError):
    """The harness run failed, so there is nothing to report; the message names the failing stage."""


def generate_baseline(event: str = "cnn_marathon_offline", out_dir: str | Path = ".", *, quick: bool = False,
                      runner_class: str = "local", show_progress: bool = True) -> Path:
    """Measure the baseline against itself on `event`; write out_dir/baseline_submission.json; return its path.
    `show_progress` prints the step, round r/N and ETA to stderr while it runs."""
    return _generate(BASELINE_DIR, event, Path(out_dir) / "baseline_submission.json", quick, runner_class,
                     show_progress)


def generate_submission(submission_dir: str | Path, event: str, out_dir: str | Path | None = None, *,
                        quick: bool = False, runner_class: str = "local", show_progress: bool = True) -> Path:
    """Measure `submission_dir` against the baseline on `event`; write submission.json (default: in the folder).
    `show_progress` shows the progress while it runs, then prints the verdict and the report's path."""
    folder = Path(submission_dir)
    return _generate(folder, event, Path(out_dir or folder) / "submission.json", quick, runner_class, show_progress)


def _generate(folder: Path, event: str, target: Path, quick: bool, runner_class: str, show_progress: bool) -> Path:
    from competition.baseline import BaselineError
    from competition.console import ProgressDisplay
    from competition.run import run_event

    ok, message = baseline_status(event)
    if not ok:
        raise BaselineError(message)
    with ProgressDisplay(1, enabled=show_progress) as show:
        show.event(1, event)
        result = run_event(event, folder, BASELINE_DIR, runner_class=runner_class, quick=quick, progress=show)
    manifest = yaml.safe_load((folder / "submission.yaml").read_text(encoding="utf-8"))
    write_report(report_from_result(result, manifest), target)
    if show_progress:
        _print_verdict(result, target)
    return target


def _print_verdict(result: dict, target: Path) -> None:
    """The run's one-line verdict (as `tito benchmark run` prints it) and where the report went."""
    from rich.console import Console

    from competition.console import verdict_line

    console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 80)
    console.print(verdict_line(result))
    console.print(f"wrote {target}")


def report_from_result(result: dict, manifest: dict) -> dict:
    """The course's submission.json fields from one harness result and the folder's submission.yaml."""
    if result.get("candidate") is None or result.get("baseline") is None:
        stages = "; ".join(f"{e['stage']}: {e['message']}" for e in result.get("errors", [])) or result.get("status")
        raise ReportError(f"the run produced no measurements to report ({stages}); "
                          f"see the result with `tito benchmark run --event {result['event']['id']}`")
    scores = result["scores"]
    speed = scores["speedup"] or {}
    hardware = result["runner"]["hardware"]
    return {
        "event": result["event"]["id"],
        "division": manifest["division"],
        "athlete_name": manifest["athlete_name"],
        "github_repo": manifest["github_repo"],
        "baseline": _metrics(result["baseline"]),
        "optimized": _metrics(result["candidate"]),
        "normalized_scores": {
            "speedup": speed.get("value"),
            "speedup_ci95": speed.get("ci95"),
            "speedup_verdict": speed.get("verdict"),
            "compression_ratio": scores["compression"],
            "accuracy_delta": scores["accuracy_delta_points"],
            "efficiency_score": scores["efficiency"],
        },
        "techniques_used": list(manifest["techniques_used"]),
        "honor_code": manifest["honor_code"],
        "hardware": {"cpu_model": hardware["cpu_model"], "machine": hardware["machine"], "cores": hardware["cores"],
                     "runner_class": result["runner"]["class"]},
        "tinytorch_version": _tinytorch_version(),
        "timestamp": result["finished_at"],
        "result_id": result["result_id"],
    }


def _metrics(measured: dict) -> dict:
    time_s, latency = measured.get("time_s"), measured.get("latency_ms")
    return {
        "accuracy": measured.get("accuracy"),
        "time_s": time_s["median"] if time_s else None,
        "latency_ms": latency["p50"] if latency else None,
        "throughput_per_s": measured.get("throughput_per_s"),
        "perplexity": measured.get("perplexity"),
        "peak_memory_bytes": (measured.get("peak_memory") or {}).get("external_bytes"),
        "model_size_bytes": measured.get("model_size_bytes"),
        "parameter_count": measured.get("parameter_count"),
    }


def _tinytorch_version() -> str:
    try:
        import tinytorch
    except ImportError:
        return "unknown"
    return str(getattr(tinytorch, "__version__", "unknown"))


def write_report(report: dict, target: Path) -> None:
    """Schema-check `report` and write it atomically (temp file + os.replace)."""
    problems = schema_problems(report, "submission_report", str(target))
    if problems:
        raise ValueError("report does not match submission_report.schema.json:\n" + "\n".join(map(str, problems)))
    write_atomic(target, json.dumps(report, indent=2, sort_keys=True) + "\n")


__all__ = ["ReportError", "baseline_status", "generate_baseline", "generate_submission", "report_from_result", "write_report"]
