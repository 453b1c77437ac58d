"""`tito setup --validate`: is this machine ready? Install, NumPy's BLAS, the jail, the data, the baselines.

Each check returns a Check with a status ("ok", "warn": works with a caveat, "fail": nothing will run) and, unless
ok, the command that fixes it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import sys
from dataclasses import dataclass
from typing import Callable

REQUIRED_PYTHON = (3, 11)
RUNTIME_PACKAGES = {"numpy": "numpy", "yaml": "pyyaml", "jsonschema": "jsonschema", "rich": "rich",
                    "tabulate": "tabulate", "threadpoolctl": "threadpoolctl", "github": "PyGithub"}


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < REQUIRED_PYTHON:
        return Check("python", "fail", f"Python {version}; TinyMLPerf needs 3.11 or newer",
                     "python3.11 -m venv .venv && . .venv/bin/activate && pip install -e .")
    return Check("python", "ok", f"Python {version} ({sys.executable})")


def check_packages() -> Check:
    missing = [dist for module, dist in RUNTIME_PACKAGES.items() if importlib.util.find_spec(module) is None]
    if missing:
        return Check("packages", "fail", f"missing: {', '.join(missing)}", "pip install -e .")
    versions = []
    for dist in ("numpy", "rich"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(dist)
    return Check("packages", "ok", f"all {len(RUNTIME_PACKAGES)} runtime packages ({', '.join(versions)})")


def check_install() -> Check:
    import competition
    import tinytorch

    where = f"tinymlperf {competition.__version__} (tinytorch from {tinytorch.__file__.rsplit('/', 2)[0]})"
    if shutil.which("tito") is None:
        return Check("install", "warn", f"{where}; the `tito` command is not on PATH",
                     "activate the venv (. .venv/bin/activate) or run `python -m competition.cli`")
    return Check("install", "ok", where)


def check_blas() -> Check:
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return Check("blas", "warn", "NumPy reports no BLAS library; matrix products will be slow",
                     "pip install --force-reinstall numpy (the wheels ship OpenBLAS)")
    pool = pools[0]
    return Check("blas", "ok", f"{pool.get('internal_api')} {pool.get('version') or ''}".strip()
                 + f", {pool.get('num_threads')} threads (workers are pinned to 1)")


def check_jail() -> list[Check]:
    """The OS-level jail submissions run in, proven from outside by a jailed probe (competition.sandbox.diagnose).
    Without it local runs still work (unranked); reference and edge runs refuse to start."""
    from competition.sandbox.diagnose import diagnose

    return [Check(f"jail: {probe.name}", "ok" if probe.ok else "warn",
                  probe.detail if probe.ok else f"{probe.detail} (local runs work, unranked; official runs need it)",
                  "" if probe.ok else probe.fix)
            for probe in diagnose()]


def check_data() -> list[Check]:
    """One check per downloaded dataset an event uses."""
    from competition.datasets import BUNDLED_DATASETS, unavailable_reason
    from competition.rules import load_rules

    rules = load_rules()
    users: dict[str, list[str]] = {}
    for event_id, event in sorted(rules.events.items()):
        if event.dataset not in BUNDLED_DATASETS:
            users.setdefault(event.dataset, []).append(event_id)
    checks = [Check("data", "ok", "bundled MNIST subset and Shakespeare (offline events)")]
    for dataset, events in sorted(users.items()):
        if unavailable_reason(dataset) is None:
            checks.append(Check(f"data {dataset}", "ok", f"present and verified (SHA-256), for {', '.join(events)}"))
        else:
            checks.append(Check(f"data {dataset}", "warn", f"not downloaded; needed by {', '.join(events)}",
                                f"tito data download {dataset}"))
    return checks


def check_baselines() -> list[Check]:
    """Official events without a baseline cannot score anyone."""
    from competition.baseline import baseline_status
    from competition.rules import load_rules

    checks = []
    for event_id, event in sorted(load_rules().events.items()):
        ok, message = baseline_status(event_id)
        if not ok:
            checks.append(Check(f"baseline {event_id}", "warn", message))
    return checks or [Check("baselines", "ok", "every event has a baseline")]


CHECKS: tuple[Callable[[], Check | list[Check]], ...] = (check_python, check_packages, check_install, check_blas,
                                                          check_jail, check_data, check_baselines)


def run_checks() -> list[Check]:
    """Every check, in order; a check that crashes is reported as a failure, not raised."""
    results: list[Check] = []
    for check in CHECKS:
        try:
            outcome = check()
        except Exception as exc:  # one broken probe must not hide the others
            outcome = Check(check.__name__.removeprefix("check_"), "fail", f"{type(exc).__name__}: {exc}".splitlines()[0],
                            "report this output as a bug")
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results
