"""The entry runs: for each event, model.py is imported and load(event) called in a jailed worker, which then
answers one request the way a run asks it (one image to predict, a short token window's next-token logits, one
epoch of train() on a few hundred examples and a prediction). `valid` thus means the entry loads and answers. Runs
only on a folder that passed every static check, and only inside the jail: validation also runs on the maintainers'
runners before the official run, where submission code must never run outside it. Without the jail the check is
not run, and `not_run_reason` says why (the CLI prints it beside the verdict).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from competition.problems import Problem
from competition.rules import Event, Rules

TRAIN_EXAMPLES = 256  # one epoch of train() on this many examples: seconds, not the event's minutes
TOKENS = 16


def not_run_reason() -> str | None:
    """Why the entry cannot be run here (no working jail), or None."""
    from competition.sandbox import jail

    state = jail.status()
    return None if state.available else f"the OS jail is unavailable here ({state.reason})"


def check(folder: Path, rules: Rules, manifest: dict) -> list[Problem]:
    """One problem per event whose load() or first answer fails (events without local data are skipped; nothing
    runs without the jail)."""
    from competition.datasets import unavailable_reason

    if not_run_reason() is not None:
        return []
    problems = []
    for event_id in manifest["events"]:
        event = rules.event(event_id)
        if unavailable_reason(event.dataset) is not None:
            continue  # `tito data download` first; the run itself loads and checks the entry then
        failure = first_answer(event, folder)
        if failure is not None:
            stage, message = failure
            problems.append(Problem(str(folder / "model.py"), f"{event_id}: {stage} failed in the worker: {message}",
                                    _fix(stage, event), field=stage))
    return problems


def _fix(stage: str, event: Event) -> str:
    if stage == "load":
        return ("load(event) must rebuild the model from this folder's weights: "
                "`return tinytorch.rebuild.load_model(\"<model>.npz\")` loads every kit form (docs/students.md)")
    if stage == "import":
        return "model.py must import (run `python -c \"import model\"` inside the folder to see the error)"
    return f"{stage}() must answer as docs/architecture.md's contract says for a {event.kind} event"


def first_answer(event: Event, folder: Path) -> tuple[str, str] | None:
    """(stage, first line of the error) if the entry fails to import, load or answer one request; None if it works."""
    from competition.datasets import load_event_data
    from competition.measure import verify
    from competition.sandbox.limits import Limits
    from competition.sandbox.process import Worker, WorkerError

    data = load_event_data(event.dataset, event.split, event.kind)
    worker = Worker(folder, Limits(wall_seconds=300.0, cpu_seconds=600), blas_threads=1, label="validate",
                    isolation="jail")
    stage = "import"
    try:
        worker.start()
        worker.request("import")
        if event.kind != "training":
            stage = "load"
            worker.request("load", event=event.id, timeout=300)
        stage = {"inference": "predict", "generation": "next_token_logits", "training": "train"}[event.kind]
        _answer(worker, event, data, verify)
    except (WorkerError, verify.Disqualified) as err:
        lines = [line for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
        return stage, _last_error_line(lines)[:300]
    finally:
        worker.close()
    return None


def _answer(worker, event: Event, data, verify) -> None:
    """One request of the event's kind, its reply checked as a run checks it."""
    if event.kind == "generation":
        tokens = data.tokens[None, :TOKENS]
        _, (out,) = worker.request("call", [tokens], fn="next_token_logits", kwargs={})
        if out.ndim != 3 or out.shape[:2] != tokens.shape or not np.all(np.isfinite(out)):
            raise verify.Disqualified(f"next_token_logits returned shape {out.shape}, expected (1, {TOKENS}, vocab)")
        return
    classes = int(data.labels.max()) + 1
    if event.kind == "training":
        worker.request("store", [data.train_inputs[:TRAIN_EXAMPLES], data.train_labels[:TRAIN_EXAMPLES]],
                       names=["train_x", "train_y"])
        worker.request("train_start", args=["train_x", "train_y"], event=event.id, seed=0)
        header, _ = worker.request("train_next", timeout=300)
        if header.get("done"):
            raise verify.Disqualified("train() yielded no model")
    _, (out,) = worker.request("call", [data.inputs[:1]], fn="predict", kwargs={})
    verify.scores(out, 1, classes, "predict")


def _last_error_line(lines: list[str]) -> str:
    """The line of a worker's traceback that names the error (its last 'Name: message' line), else the first."""
    for line in reversed(lines):
        head = line.strip().split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head:
            return line.strip()
    return lines[0].strip()
