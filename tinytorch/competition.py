"""The course's competition API, as the TinyTorch capstone documents it:

    from tinytorch.competition import generate_baseline, generate_submission
    generate_baseline(event="cnn_marathon_offline")                       # -> baseline_submission.json
    generate_submission("submissions/NAME", event="cnn_marathon_offline") # -> submissions/NAME/submission.json

Both run the real TinyMLPerf harness (the `competition` package); tinytorch itself knows nothing of the
competition, so the harness is imported only when these are called.
"""

from __future__ import annotations

from pathlib import Path


def generate_baseline(event: str = "cnn_marathon_offline", out_dir: str | Path = ".", *, quick: bool = False,
                      runner_class: str = "local") -> Path:
    """Measure the baseline on `event` and write out_dir/baseline_submission.json (see competition.api)."""
    from competition.api import generate_baseline as run

    return run(event, out_dir, quick=quick, runner_class=runner_class)


def generate_submission(submission_dir: str | Path, event: str, out_dir: str | Path | None = None, *,
                        quick: bool = False, runner_class: str = "local") -> Path:
    """Measure a submission folder against the baseline and write its submission.json (see competition.api)."""
    from competition.api import generate_submission as run

    return run(submission_dir, event, out_dir, quick=quick, runner_class=runner_class)
