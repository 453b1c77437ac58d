"""Test helper: a stand-in for `gh attestation verify` that answers from recorded attestations, offline.

Attestations are listed in the JSON file named by FAKE_GH_ATTESTED: {sha256 of a file: {"signer": workflow path,
"ref": source ref, "commit": source commit}}. Like gh, it fails (exit 1) when the file has no attestation or none
matches the policy flags (--repo, --signer-workflow, --source-ref, --source-digest); otherwise it prints what gh
prints with --format json (tests/fixtures/github/attestation_verify_official.json, filled in). With
FAKE_GH_LENIENT=1 it ignores the flags, so the caller's own check of the JSON is what refuses. Each call's arguments
are appended to FAKE_GH_LOG as one JSON line.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "attestation_verify_official.json"


def flag(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def main(argv: list[str]) -> int:
    if os.environ.get("FAKE_GH_LOG"):
        with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps(argv) + "\n")
    if argv[:2] != ["attestation", "verify"]:
        print(f"fake gh: unknown command {argv[:2]}", file=sys.stderr)
        return 2
    path = Path(argv[2])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    known = json.loads(Path(os.environ["FAKE_GH_ATTESTED"]).read_text(encoding="utf-8"))
    attested = known.get(digest)
    if attested is None:
        print(f"✗ Loading attestations from GitHub API failed: no attestations found for sha256:{digest}",
              file=sys.stderr)
        return 1
    repo = flag(argv, "--repo")
    wanted = (f"{repo}/{attested['signer']}", attested["ref"], attested["commit"])
    given = (flag(argv, "--signer-workflow"), flag(argv, "--source-ref"), flag(argv, "--source-digest"))
    if os.environ.get("FAKE_GH_LENIENT") != "1" and given != wanted:
        print("✗ Verification failed: no attestation matched the policy criteria", file=sys.stderr)
        return 1
    text = json.dumps(json.loads(FIXTURE.read_text(encoding="utf-8"))["output"])
    signer = f"https://github.com/{repo}/{attested['signer']}@{attested['ref']}"
    text = (text.replace("https://github.com/tinymlperf/tinymlperf/.github/workflows/official.yml@refs/heads/main",
                         signer).replace("refs/heads/main", attested["ref"])
            .replace("SUBJECT_DIGEST", digest).replace("SUBJECT_NAME", path.name)
            .replace("HARNESS_COMMIT", attested["commit"]))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
