"""`tito pr check-settings`: read the GitHub settings the safety of the loop relies on and say which are missing.

The workflows cannot see these settings, yet the self-hosted boundary and the review rule rest on them. Run it with
a maintainer's token (organization admin for the runner group): `GITHUB_TOKEN=$(gh auth token) tito pr
check-settings --repo OWNER/NAME`. Every check names the setting, what it must be, what GitHub reports and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from github import GithubException

OFFICIAL_WORKFLOWS = (".github/workflows/benchmark.yml", ".github/workflows/official.yml")
REQUIRED_CHECKS = ("Submission rule",)  # the Gate job's name: the check-run context a ruleset requires


@dataclass(frozen=True)
class Finding:
    """One setting: its name, whether it is as required ("ok", "missing", "unreadable"), what was found, the fix."""

    setting: str
    status: str
    found: str
    fix: str


def _get(gh: Any, url: str) -> tuple[int, Any]:
    try:
        _, data = gh.requester.requestJsonAndCheck("GET", url)
        return 200, data
    except GithubException as err:
        return err.status, None


def _rule_types(data: Any) -> dict[str, dict]:
    return {r.get("type"): (r.get("parameters") or {}) for r in data or [] if isinstance(r, dict)}


def _check(findings: list[Finding], setting: str, status_data: tuple[int, Any], test: Callable[[Any], str | None],
           fix: str) -> None:
    status, data = status_data
    if status != 200:
        hint = "needs an admin token" if status in (401, 403) else "not set up"
        findings.append(Finding(setting, "missing" if status == 404 else "unreadable", f"HTTP {status} ({hint})",
                                fix))
        return
    problem = test(data)
    findings.append(Finding(setting, "ok" if problem is None else "missing", problem or "as required", fix))


def _runner_group(gh: Any, api: str, org: str, repository: str) -> tuple[int, Any]:
    """The runner group restricted to exactly main's official workflows and selected for this repository."""
    status, data = _get(gh, f"{api}/orgs/{org}/actions/runner-groups")
    if status != 200:
        return status, None
    wanted = {f"{repository}/{path}@refs/heads/main" for path in OFFICIAL_WORKFLOWS}
    for group in data.get("runner_groups") or []:
        if not (group.get("restricted_to_workflows") and set(group.get("selected_workflows") or []) == wanted):
            continue
        if group.get("visibility") != "selected":
            return 200, {"problem": f"group {group.get('name')!r} is visible to {group.get('visibility')} "
                                    "repositories, not to selected ones"}
        code, repos = _get(gh, f"{api}/orgs/{org}/actions/runner-groups/{group['id']}/repositories")
        names = {r.get("full_name") for r in (repos or {}).get("repositories") or []}
        if code != 200 or names != {repository}:
            return 200, {"problem": f"group {group.get('name')!r} is available to {sorted(names) or 'no'} "
                                    f"repositories, not only {repository}"}
        return 200, {"problem": None}
    return 200, {"problem": "no runner group is restricted to exactly " + ", ".join(sorted(wanted))}


def check(gh: Any, api: str, repository: str) -> list[Finding]:
    """Every setting the safety relies on, read through the API at `api` (e.g. https://api.github.com)."""
    base = f"{api.rstrip('/')}/repos/{repository}"
    findings: list[Finding] = []
    status, repo = _get(gh, base)
    owner_type = ((repo or {}).get("owner") or {}).get("type")
    _check(findings, "owner is an organization", (status, repo),
           lambda d: None if owner_type == "Organization" else f"owner is a {owner_type}: a personal account has "
           "no runner groups, so nothing limits self-hosted runners to main's benchmark workflows",
           "transfer the repository to an organization (Settings > General > Transfer)")
    if owner_type == "Organization":
        _check(findings, "runner group limited to main's benchmark workflows",
               _runner_group(gh, api.rstrip('/'), repository.split("/")[0], repository), lambda d: d["problem"],
               "Organization settings > Actions > Runner groups: selected repositories = this one, selected "
               "workflows = benchmark.yml and official.yml @refs/heads/main (docs/maintainers.md)")
    _check(findings, "fork PR workflows need approval from all external contributors",
           _get(gh, f"{base}/actions/permissions/fork-pr-contributor-approval"),
           lambda d: None if d.get("approval_policy") == "all_external_contributors"
           else f"approval_policy is {d.get('approval_policy')!r}",
           "Settings > Actions > General > 'Require approval for all external contributors'")
    _check(findings, "default workflow token is read-only",
           _get(gh, f"{base}/actions/permissions/workflow"),
           lambda d: None if d.get("default_workflow_permissions") == "read" and not d.get(
               "can_approve_pull_request_reviews") else f"default {d.get('default_workflow_permissions')!r}, "
           f"can approve PRs: {d.get('can_approve_pull_request_reviews')}",
           "Settings > Actions > General > Workflow permissions: read; do not allow approving PRs")
    _check(findings, "main: PR with code-owner review, Gate required, no force push or deletion",
           _get(gh, f"{base}/rules/branches/main"), _main_rules,
           "Settings > Rules > Rulesets on main (docs/maintainers.md, step 2)")
    _check(findings, "results: no force push or deletion", _get(gh, f"{base}/rules/branches/results"),
           lambda d: None if {"non_fast_forward", "deletion"} <= set(_rule_types(d))
           else f"rules present: {sorted(_rule_types(d)) or 'none'}",
           "a ruleset on refs/heads/results blocking force pushes and deletions")
    _check(findings, "Pages built by GitHub Actions", _get(gh, f"{base}/pages"),
           lambda d: None if d.get("build_type") == "workflow" else f"build_type is {d.get('build_type')!r}",
           "Settings > Pages > Source: GitHub Actions")
    _check(findings, "github-pages environment deploys from main only",
           _get(gh, f"{base}/environments/github-pages"),
           lambda d: None if d.get("deployment_branch_policy") else "any branch may deploy",
           "Settings > Environments > github-pages > Deployment branches: main")
    return findings


def _main_rules(data: Any) -> str | None:
    rules = _rule_types(data)
    problems = [f"no {kind} rule" for kind in ("pull_request", "required_status_checks", "non_fast_forward",
                                                "deletion") if kind not in rules]
    if "pull_request" in rules and not rules["pull_request"].get("require_code_owner_review"):
        problems.append("code-owner review not required")
    contexts = {c.get("context") for c in rules.get("required_status_checks", {}).get("required_status_checks", [])}
    problems += [f"check {name!r} not required" for name in REQUIRED_CHECKS
                 if "required_status_checks" in rules and name not in contexts]
    return "; ".join(problems) or None
