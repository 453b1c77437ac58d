"""Verify the GitHub artifact attestation of each official result before it is stored.

The chunk workflow (.github/workflows/official.yml) attests every checked result file with
actions/attest-build-provenance on a GitHub-hosted runner: SLSA provenance, signed through Sigstore with the
workflow's OIDC identity. The record job then runs `gh attestation verify` on each file, pinned to this repository,
the signer workflow official.yml on refs/heads/main, the harness commit and a GitHub-hosted signer, and checks the
JSON it prints again. A file without such an attestation is refused. Anyone can run the same command on a stored
result (docs/maintainers.md).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from competition.problems import Problem
from tinytorch.atomic import write_atomic

SIGNER_WORKFLOW = ".github/workflows/official.yml"
SOURCE_REF = "refs/heads/main"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
TIMEOUT_S = 120


def command(path: Path, repository: str, harness_commit: str, gh: str = "gh") -> list[str]:
    """The `gh attestation verify` call for one file (what anyone can run to check a stored result)."""
    return [gh, "attestation", "verify", str(path), "--repo", repository,
            "--signer-workflow", f"{repository}/{SIGNER_WORKFLOW}", "--source-ref", SOURCE_REF,
            "--source-digest", harness_commit, "--predicate-type", PREDICATE_TYPE, "--deny-self-hosted-runners",
            "--format", "json"]


def expected_identity(repository: str, harness_commit: str) -> dict[str, str]:
    """The signing certificate's fields an official result's attestation must carry."""
    return {"buildSignerURI": f"https://github.com/{repository}/{SIGNER_WORKFLOW}@{SOURCE_REF}",
            "sourceRepositoryURI": f"https://github.com/{repository}", "sourceRepositoryRef": SOURCE_REF,
            "sourceRepositoryDigest": harness_commit, "runnerEnvironment": "github-hosted"}


def _matches(item: Any, digest: str, identity: dict[str, str]) -> bool:
    result = item.get("verificationResult") if isinstance(item, dict) else None
    if not isinstance(result, dict):
        return False
    statement = result.get("statement") or {}
    certificate = (result.get("signature") or {}).get("certificate") or {}
    subjects = statement.get("subject") or []
    return (statement.get("predicateType") == PREDICATE_TYPE
            and any(isinstance(s, dict) and (s.get("digest") or {}).get("sha256") == digest for s in subjects)
            and all(certificate.get(key) == value for key, value in identity.items()))


def check_output(output: str, digest: str, repository: str, harness_commit: str) -> str | None:
    """None if gh's JSON holds a verified attestation of `digest` with the official identity, else why not."""
    try:
        items = json.loads(output)
    except ValueError:
        return "gh printed no JSON verification result"
    if not isinstance(items, list) or not items:
        return "gh verified no attestation"
    if not any(_matches(item, digest, expected_identity(repository, harness_commit)) for item in items):
        return (f"no verified attestation of sha256:{digest[:16]}… was signed by {SIGNER_WORKFLOW} on {SOURCE_REF} "
                f"at {harness_commit[:12]} on a GitHub-hosted runner")
    return None


def verify_file(path: Path, repository: str, harness_commit: str, gh: str = "gh") -> str | None:
    """None if `path` carries an official attestation, else the reason it does not."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    executable = shutil.which(gh)
    if executable is None:
        return f"{gh!r} (the GitHub CLI) is not installed, so nothing can be verified"
    try:
        done = subprocess.run(command(path, repository, harness_commit, executable), capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"gh attestation verify did not answer within {TIMEOUT_S} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"gh attestation verify refused it: {last[:300]}"
    return check_output(done.stdout, digest, repository, harness_commit)


@dataclass
class Verified:
    """The files that carry an official attestation (copied to the output folder) and why the others do not."""

    verified: list[Path] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)


def verify_folder(source: Path | str, out: Path | str, repository: str, harness_commit: str,
                  gh: str = "gh") -> Verified:
    """Copy each result in `source` whose attestation verifies into `out` (fresh); every other file is refused.
    Fail-closed: `out` holds only verified files, whatever goes wrong."""
    source, out = Path(source), Path(out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    outcome = Verified()
    for path in sorted(source.glob("*.json")):
        reason = verify_file(path, repository, harness_commit, gh)
        if reason is None:
            write_atomic(out / path.name, path.read_bytes())
            outcome.verified.append(out / path.name)
        else:
            outcome.refused.append(Problem(path.name, f"has no official attestation: {reason}",
                                           "resume the run: the chunk is measured and attested again"))
    return outcome
