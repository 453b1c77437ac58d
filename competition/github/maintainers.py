"""Who is a maintainer: the repository says so (a role read from the API's permission endpoint), never the PR.

`author_association` is not used: in a course organization (GitHub Classroom) every student is a MEMBER. The
configuration (.github/maintainers.yml, reviewed by code owners) names the lowest role that counts, an optional
list of logins and the bots that may open code-only PRs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONFIG = Path(".github") / "maintainers.yml"
ROLES = ("read", "triage", "write", "maintain", "admin")  # GitHub's repository roles, weakest first
MAINTAINER_ROLES = ("maintain", "admin")


class ConfigError(ValueError):
    """The maintainers file is unreadable or wrong; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class Maintainers:
    """The lowest role that makes a maintainer, the logins allowed (empty: any), the code-only bots."""

    role: str = "maintain"
    logins: tuple[str, ...] = ()
    bots: tuple[str, ...] = ()

    def decides(self, login: str, role: str | None) -> bool:
        """True if `login`, whose repository role the API reported as `role`, is a maintainer."""
        if role not in ROLES or ROLES.index(role) < ROLES.index(self.role):
            return False
        return not self.logins or login.lower() in {name.lower() for name in self.logins}

    def is_bot(self, login: str) -> bool:
        return login.lower() in {name.lower() for name in self.bots}


def _strings(path: Path, data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{path}: field {key!r} must be a list of GitHub logins; fix: e.g. {key}: [alice, bob]")
    return tuple(value)


def load(path: Path | str = CONFIG) -> Maintainers:
    """Read the maintainers file; a missing file means the defaults (role maintain, any login, no bots)."""
    path = Path(path)
    if not path.is_file():
        return Maintainers()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: unreadable ({type(err).__name__}); fix: write valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping with role, logins, bots")
    role = data.get("role", "maintain")
    if role not in MAINTAINER_ROLES:
        raise ConfigError(f"{path}: field 'role' is {role!r}; fix: use one of {', '.join(MAINTAINER_ROLES)}")
    return Maintainers(role=role, logins=_strings(path, data, "logins"), bots=_strings(path, data, "bots"))


def role_of(gh: Any, repository: str, login: str) -> str | None:
    """The login's role on the repository from GET /repos/{repo}/collaborators/{login}/permission (None if the API
    says it is not a collaborator). `role_name` is the fine-grained role; `permission` the legacy one."""
    from github import GithubException

    repo = gh.get_repo(repository)
    try:
        _, data = repo._requester.requestJsonAndCheck("GET", f"{repo.url}/collaborators/{login}/permission")
    except GithubException as err:
        if err.status == 404:
            return None
        raise
    role = data.get("role_name") or data.get("permission")
    return role if role in ROLES else None
