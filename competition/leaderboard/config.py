"""leaderboard/config.yaml: repository slug (for PR and report links), site title, season."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_SLUG = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")


class ConfigError(ValueError):
    """config.yaml is malformed."""


@dataclass(frozen=True)
class Config:
    """Site-wide settings."""

    repository: str = "tinymlperf/tinymlperf"
    site_title: str = "TinyMLPerf Leaderboard"
    season: str = "2026"

    def pr_url(self, number: int) -> str:
        """Link to a pull request."""
        return f"https://github.com/{self.repository}/pull/{number}"

    def report_url(self, submission: str) -> str:
        """Link to a submission's report (its README) on the default branch."""
        return f"https://github.com/{self.repository}/blob/main/submissions/{submission}/README.md"


def load_config(path: str | Path) -> Config:
    """Read config.yaml; a missing file gives the defaults."""
    source = Path(path)
    if not source.exists():
        return Config()
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or set(data) - {"repository", "site_title", "season"}:
        raise ConfigError(f"{source}: must be a mapping with keys repository, site_title, season")
    values = {key: str(value) for key, value in data.items()}
    if "repository" in values and not _SLUG.match(values["repository"]):
        raise ConfigError(f"{source} [repository]: {values['repository']!r}; fix: use OWNER/NAME")
    return Config(**values)
