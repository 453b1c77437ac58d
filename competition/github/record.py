"""The record job's checks of what one chunk's measure job uploaded.

Each chunk job (competition.github.plan) runs its entries one after the other and uploads one artifact,
`official-<runner class>-<chunk>`. The chunk's record job keeps a result only if it belongs to an entry of that
chunk, was measured on that runner class, by the harness commit the run checked out, and is not a quick run; it
writes it in the store's canonical form (the bytes the attestation covers and the results branch stores).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from competition.github import artifact
from competition.github.plan import Chunk
from competition.problems import Problem
from competition.results import dumps
from tinytorch.atomic import write_atomic


@dataclass
class Collected:
    """Results accepted for recording (file name -> result) and every problem with the rest."""

    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def check_official(source: Path | str, chunk: Chunk, harness_commit: str, collected: Collected) -> None:
    """Check one measure job's artifact against its chunk of the plan; add good results to `collected`."""
    expected = set(chunk.names)
    documents, problems = artifact.read_documents(source, submissions=len(expected))
    runner_class = chunk.runner_class
    for name, result in sorted(documents.items()):
        if result is None or not artifact.check_result(name, result, runner_class, problems):
            continue
        checks = [
            (result["submission"]["name"] in expected,
             f"submission {result['submission']['name']!r} was not measured by this job ({sorted(expected)})",
             "submission.name"),
            (result["harness"]["git_commit"] == harness_commit,
             f"harness commit {result['harness']['git_commit']} is not the run's {harness_commit}", "harness"),
            (not (result.get("config") or {}).get("quick", False), "is a quick (smoke) run", "config.quick"),
            (name == f"{result['result_id']}.json", f"file name differs from result_id {result['result_id']}",
             "result_id"),
        ]
        failed = [Problem(name, message, "results are recorded only as the measure job wrote them", field=where)
                  for ok, message, where in checks if not ok]
        problems += failed
        if not failed:
            collected.accepted[name] = result
    collected.problems += [Problem(f"{chunk.artifact}/{p.file}", p.message, p.hint, p.field, p.line)
                           for p in problems]
    measured = {result["submission"]["name"] for result in collected.accepted.values()}
    collected.problems += [Problem(f"{chunk.artifact}", f"holds no acceptable result of {name!r}",
                                   "open the measure job's log; resume the run to measure it again")
                           for name in sorted(expected - measured)]


def collect(artifacts: dict[str, Path], chunks: list[Chunk], harness_commit: str, out: Path | str) -> Collected:
    """Check each chunk's downloaded artifact (a missing one is a problem) and write accepted results into `out`."""
    collected = Collected()
    for chunk in chunks:
        source = artifacts.get(chunk.artifact)
        if source is None:
            collected.problems.append(Problem(chunk.artifact, "was not uploaded (the measure job failed or was "
                                              "cancelled)", "open the job's log; resume the run"))
            continue
        check_official(source, chunk, harness_commit, collected)
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, result in collected.accepted.items():
        write_atomic(out / name, dumps(result))
    return collected
