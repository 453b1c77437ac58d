"""Which workflow run produced an artifact, decided from what GitHub says about the run, never from the artifact.

comment.yml is triggered by workflow_run for every run *named* Validate or Benchmark, and a PR can add a workflow
with either name (or edit benchmark.yml on its branch and run it under pull_request). So the run's own record is
checked: its workflow file path, the event that started it, the branch whose workflow file ran and the repository.

- official: `.github/workflows/benchmark.yml`, started by workflow_dispatch (write access needed) on the default
  branch of this repository: main's workflow file and main's harness measured the submission.
- smoke: `.github/workflows/validate.yml` started by pull_request: a preview whose workflow file may be the PR's,
  so its numbers are shown as unverified, only for the `local` runner class, and only when that file at the run's
  head is byte-identical to the default branch's (the comment job compares their blob SHAs through the API).
- untrusted: anything else; nothing it uploaded is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VALIDATE_PATH = ".github/workflows/validate.yml"
BENCHMARK_PATH = ".github/workflows/benchmark.yml"
OFFICIAL_EVENTS = frozenset({"workflow_dispatch"})
ARTIFACTS = {"official": ("results-reference", "results-edge"), "smoke": ("results-local",), "untrusted": ()}
RUNNER_CLASSES = {"official": frozenset({"reference", "edge"}), "smoke": frozenset({"local"}),
                  "untrusted": frozenset()}


@dataclass(frozen=True)
class RunInfo:
    """A workflow run as GitHub describes it (workflow_run event payload or GET /actions/runs/{id})."""

    id: int
    path: str
    event: str
    head_branch: str | None
    head_sha: str
    head_repository: str | None
    pull_requests: list[int] = field(default_factory=list)
    html_url: str | None = None
    conclusion: str | None = None
    display_title: str = ""

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> "RunInfo":
        head_repo = raw.get("head_repository") or {}
        return cls(id=int(raw["id"]), path=str(raw.get("path") or "").split("@", 1)[0],
                   event=str(raw.get("event") or ""), head_branch=raw.get("head_branch"),
                   head_sha=str(raw.get("head_sha") or ""), head_repository=head_repo.get("full_name"),
                   pull_requests=[int(p["number"]) for p in raw.get("pull_requests") or []],
                   html_url=raw.get("html_url"), conclusion=raw.get("conclusion"),
                   display_title=str(raw.get("display_title") or ""))


@dataclass(frozen=True)
class Provenance:
    """`kind` (official, smoke, untrusted), the runner classes whose results may be shown, and why."""

    kind: str
    reason: str

    @property
    def runner_classes(self) -> frozenset[str]:
        return RUNNER_CLASSES[self.kind]

    @property
    def artifact_names(self) -> tuple[str, ...]:
        return ARTIFACTS[self.kind]


def classify(run: RunInfo, repository: str, default_branch: str) -> Provenance:
    """Decide what a run's artifacts may claim, from the run's workflow path, event, branch and repository."""
    where = f"{run.path or '(no path)'} on {run.event or '(no event)'} from {run.head_repository}:{run.head_branch}"
    if run.path == BENCHMARK_PATH:
        if (run.event in OFFICIAL_EVENTS and run.head_branch == default_branch
                and run.head_repository == repository):
            return Provenance("official", f"maintainer-triggered run of {default_branch}'s {BENCHMARK_PATH}")
        return Provenance("untrusted", f"{where}: official results come only from {BENCHMARK_PATH} started by "
                                       f"workflow_dispatch on {repository}:{default_branch}")
    if run.path == VALIDATE_PATH and run.event == "pull_request":
        return Provenance("smoke", f"pull-request smoke run ({where}); its workflow file may be the PR's")
    return Provenance("untrusted", f"{where} is neither the Validate nor the Benchmark workflow")
