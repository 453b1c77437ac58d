#!/usr/bin/env bash
# Install main's harness with the locked dependency set (requirements/runner.lock: exact versions, SHA-256 of every
# file), then the harness itself without resolving anything else. Used by every GitHub-hosted job that runs tito;
# the self-hosted runner images install the same lock once (docs/maintainers.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python}
"$python" -m pip install --quiet --require-hashes --no-deps -r "$root/requirements/runner.lock"
"$python" -m pip install --quiet --no-deps --no-build-isolation -e "$root"
