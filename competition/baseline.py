"""The baseline entrant per event: whether an event has one, and training the one that needs downloaded data.

An event has a baseline when submissions/baseline/submission.yaml lists it (and, for a trained baseline, its weights
file is in the folder). The official CNN Marathon needs CIFAR-10 weights, which cannot be committed untrained:
`tito baseline train --event cnn_marathon` trains them on the downloaded data, writes the weights and model card to
tinytorch/models/weights/, copies the weights into the baseline folder and enters the event.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from tinytorch.atomic import write_atomic

from competition.rules import load_rules
from competition.validation.base import BASELINE_DIR  # read at call time, so tests can point it elsewhere


class BaselineError(RuntimeError):
    """The baseline cannot be trained here; the message names the command that fixes it."""


@dataclass(frozen=True)
class Recipe:
    """How a baseline model is trained: the training module, its arguments, and the weights it produces."""

    module: str
    weights: str  # stem of <weights>.npz / <weights>.json
    args: tuple[str, ...]


RECIPES = {"cnn_marathon": Recipe("tinytorch.train.cnn", "cifar10_cnn", ("--dataset", "cifar10", "--name", "cifar10_cnn"))}


def _weights_dir() -> Path:
    from tinytorch.train.loop import WEIGHTS_DIR

    return WEIGHTS_DIR


def entered_events(baseline_dir: Path | None = None) -> list[str]:
    """The events the baseline folder's submission.yaml lists ([] if it cannot be read)."""
    baseline_dir = baseline_dir or BASELINE_DIR
    try:
        doc = yaml.safe_load((baseline_dir / "submission.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    events = doc.get("events") if isinstance(doc, dict) else None
    return [str(e) for e in events] if isinstance(events, list) else []


def baseline_status(event_id: str, baseline_dir: Path | None = None) -> tuple[bool, str]:
    """(True, what serves the event) or (False, a plain sentence saying the event has no baseline yet and the fix)."""
    baseline_dir = baseline_dir or BASELINE_DIR
    rules = load_rules()
    if event_id not in rules.events:
        return False, f"unknown event {event_id!r}; events: {', '.join(sorted(rules.events))}"
    event = rules.event(event_id)
    recipe = RECIPES.get(event_id)
    if event_id in entered_events(baseline_dir):
        if recipe and not (baseline_dir / f"{recipe.weights}.npz").is_file():
            return False, (f"{event.name} has no baseline yet: {baseline_dir}/{recipe.weights}.npz is missing; "
                           f"{train_hint(event_id)}")
        return True, f"{event.name}: the baseline entrant ({baseline_dir}) enters it"
    if recipe:
        return False, f"{event.name} has no baseline yet: {train_hint(event_id)}"
    return False, f"{event.name} has no baseline yet: the baseline entrant does not enter it"


def train_hint(event_id: str) -> str:
    """The maintainer commands that create the baseline of `event_id`."""
    dataset = load_rules().event(event_id).dataset
    return (f"a maintainer runs `tito data download {dataset}` then `tito baseline train --event {event_id}` "
            f"(CIFAR-10 weights cannot be trained offline)")


def train_baseline(event_id: str, *, epochs: int | None = None, limit: int | None = None, seed: int = 0,
                   weights_dir: Path | None = None, baseline_dir: Path | None = None, quiet: bool = False) -> dict:
    """Train the baseline model of `event_id` on its downloaded data; record weights + model card; return the card.

    Writes <weights_dir>/<name>.npz and .json, copies the .npz into `baseline_dir` and adds the event to its
    submission.yaml. Raises BaselineError when the event has no recipe or its data is not on this machine.
    """
    from competition.datasets import unavailable_reason

    baseline_dir = baseline_dir or BASELINE_DIR
    rules = load_rules()
    recipe = RECIPES.get(event_id)
    if recipe is None:
        raise BaselineError(f"{event_id}: no baseline training recipe (events with one: {', '.join(RECIPES)}); "
                            f"the other baselines are committed, see submissions/baseline/README.md")
    dataset = rules.event(event_id).dataset
    if unavailable_reason(dataset) is not None:
        raise BaselineError(f"{dataset} data is not on this machine: run `tito data download {dataset}` first")
    weights_dir = Path(weights_dir) if weights_dir is not None else _weights_dir()
    argv = [*recipe.args, "--out", str(weights_dir), "--seed", str(seed)]
    argv += ["--epochs", str(epochs)] if epochs is not None else []
    argv += ["--limit", str(limit)] if limit is not None else []
    argv += ["--quiet"] if quiet else []
    _, card = importlib.import_module(recipe.module).run(argv)
    write_atomic(baseline_dir / f"{recipe.weights}.npz", (weights_dir / f"{recipe.weights}.npz").read_bytes())
    enter_event(event_id, baseline_dir)
    return card


def enter_event(event_id: str, baseline_dir: Path | None = None) -> None:
    """Add `event_id` to the `events: [...]` line of the baseline's submission.yaml, keeping its comments."""
    baseline_dir = baseline_dir or BASELINE_DIR
    if event_id in entered_events(baseline_dir):
        return
    manifest = baseline_dir / "submission.yaml"
    text = manifest.read_text(encoding="utf-8")
    pattern = re.compile(r"^events:\s*\[(?P<items>[^\]]*)\]", re.MULTILINE)
    match = pattern.search(text)
    if match is None:
        raise BaselineError(f"{manifest}: no one-line `events: [...]` list to add {event_id} to; add it by hand")
    items = [item.strip() for item in match["items"].split(",") if item.strip()] + [event_id]
    write_atomic(manifest, text[:match.start()] + f"events: [{', '.join(items)}]" + text[match.end():])
