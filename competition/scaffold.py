"""`tito submission new NAME`: a valid submissions/<name>/ folder that starts from the baseline's weights.

Its model.py (tinytorch.competition.model_source) rebuilds each model from the weights file alone
(tinytorch.rebuild.load_model), so whatever the optimization kit saves over those files loads unchanged."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from string import Template

import yaml

from tinytorch.competition import EVENT_MODELS, model_source

from competition.rules import load_rules
from competition.validation import BASELINE_DIR
from competition.validation.folder import NAME_PATTERN

TEMPLATES = Path(__file__).resolve().parent / "templates"
HANDLE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


class ScaffoldError(ValueError):
    """The folder cannot be created (bad or reserved name, already exists, bad option)."""


def new_submission(name: str, root: str | Path = "submissions", *, athlete_name: str | None = None,
                   github_handle: str | None = None, division: str = "closed", events: list[str] | None = None,
                   baseline_dir: Path = BASELINE_DIR) -> Path:
    """Create root/<name>/ from the baseline's weights, a model.py that rebuilds them, and the templates; return its
    path.

    The folder appears complete or not at all (built in a temporary directory, then renamed).
    """
    rules = load_rules()
    target = Path(root) / name
    _check_options(name, target, rules, github_handle, division, events)
    baseline_events = yaml.safe_load((baseline_dir / "submission.yaml").read_text(encoding="utf-8"))["events"]
    values = {
        "name": name,
        "athlete_name": athlete_name or name,
        "github_handle": github_handle or name.replace("_", "-"),
        "division": division,
        "events": ", ".join(events or baseline_events),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    chosen = events or baseline_events
    stems = {EVENT_MODELS[e] for e in chosen if e in EVENT_MODELS}
    try:
        for source in sorted(baseline_dir.glob("*.npz")):
            if source.stem in stems:
                shutil.copy2(source, staging / source.name)
        (staging / "model.py").write_text(model_source(chosen), encoding="utf-8")
        for template in ("submission.yaml", "README.md"):
            text = Template((TEMPLATES / f"{template}.tmpl").read_text(encoding="utf-8")).substitute(values)
            (staging / template).write_text(text, encoding="utf-8")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _check_options(name, target, rules, github_handle, division, events) -> None:
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(f"{name!r} is not a valid name: use lowercase letters, digits, '-' or '_' (at most 64)")
    if name in rules.limits.reserved_names:
        raise ScaffoldError(f"{name!r} is reserved; pick another name (your GitHub handle, for example)")
    if target.exists():
        raise ScaffoldError(f"{target} already exists; pick another name or delete it")
    handle = github_handle or name.replace("_", "-")
    if not HANDLE.match(handle):
        raise ScaffoldError(f"{handle!r} is not a GitHub handle; pass --github YOUR_HANDLE")
    if division not in rules.divisions:
        raise ScaffoldError(f"division {division!r} is unknown; use one of: {', '.join(rules.divisions)}")
    unknown = [e for e in events or [] if e not in rules.events]
    if unknown:
        raise ScaffoldError(f"unknown event(s) {', '.join(unknown)}; use: {', '.join(sorted(rules.events))}")
