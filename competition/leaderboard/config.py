"""leaderboard/config.yaml: repository slug (for PR and report links), site title, season, the registered official
runners (by fingerprint, see competition.leaderboard.fingerprint) and the oldest harness version still current."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_SLUG = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")
KEYS = ("repository", "site_title", "season", "runners", "min_harness_version")


class ConfigError(ValueError):
    """config.yaml is malformed."""


@dataclass(frozen=True)
class RegisteredRunner:
    """A maintainers' runner whose results may be ranked: its fingerprint and runner class."""

    fingerprint: str
    runner_class: str  # reference | edge
    name: str


@dataclass(frozen=True)
class Config:
    """Site-wide settings."""

    repository: str = "tinymlperf/tinymlperf"
    site_title: str = "TinyMLPerf Leaderboard"
    season: str = "2026"
    runners: tuple[RegisteredRunner, ...] = field(default=())
    min_harness_version: str | None = None

    def pr_url(self, number: int) -> str:
        """Link to a pull request."""
        return f"https://github.com/{self.repository}/pull/{number}"

    def report_url(self, submission: str) -> str:
        """Link to a submission's report (its README) on the default branch."""
        return f"https://github.com/{self.repository}/blob/main/submissions/{submission}/README.md"

    def result_url(self, result_id: str) -> str:
        """Link to a stored result file on the default branch."""
        return f"https://github.com/{self.repository}/blob/main/leaderboard/results/{result_id}.json"

    def registered(self, fingerprint: str, runner_class: str) -> bool:
        """Whether this fingerprint is registered for this runner class."""
        return any(r.fingerprint == fingerprint and r.runner_class == runner_class for r in self.runners)


def version_tuple(version: str) -> tuple[int, ...]:
    """"0.10.2" -> (0, 10, 2); anything unparsable sorts as oldest."""
    return tuple(int(p) for p in version.split(".")) if _VERSION.match(version or "") else ()


def _runners(source: Path, entries: object) -> tuple[RegisteredRunner, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"{source} [runners]: must be a list; fix: see `tito leaderboard fingerprint --help`")
    runners = []
    for i, entry in enumerate(entries):
        where = f"{source} [runners.{i}]"
        if not isinstance(entry, dict) or set(entry) - {"fingerprint", "class", "name"}:
            raise ConfigError(f"{where}: must be a mapping with keys fingerprint, class, name")
        if not _FINGERPRINT.match(str(entry.get("fingerprint", ""))):
            raise ConfigError(f"{where}.fingerprint: must be 64 hex digits; fix: paste the line printed by "
                              "`tito leaderboard fingerprint RESULT.json`")
        if entry.get("class") not in ("reference", "edge"):
            raise ConfigError(f"{where}.class: {entry.get('class')!r}; fix: use reference or edge")
        runners.append(RegisteredRunner(entry["fingerprint"], entry["class"], str(entry.get("name", ""))))
    return tuple(runners)


def load_config(path: str | Path) -> Config:
    """Read config.yaml; a missing file gives the defaults (no registered runner)."""
    source = Path(path)
    if not source.exists():
        return Config()
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or set(data) - set(KEYS):
        raise ConfigError(f"{source}: must be a mapping with keys {', '.join(KEYS)}")
    values = {key: str(data[key]) for key in ("repository", "site_title", "season") if key in data}
    if "repository" in values and not _SLUG.match(values["repository"]):
        raise ConfigError(f"{source} [repository]: {values['repository']!r}; fix: use OWNER/NAME")
    minimum = data.get("min_harness_version")
    if minimum is not None and not _VERSION.match(str(minimum)):
        raise ConfigError(f"{source} [min_harness_version]: {minimum!r}; fix: use a version such as 0.2.0")
    return Config(**values, runners=_runners(source, data.get("runners")),
                  min_harness_version=None if minimum is None else str(minimum))
