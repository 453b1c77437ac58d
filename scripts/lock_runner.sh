#!/usr/bin/env bash
# Regenerate requirements/runner.lock: every runtime dependency pinned, with the SHA-256 of every file PyPI has for
# that version (all platforms, so the lock serves x86-64 and ARM64 runners alike). Runs pip-compile in a throwaway
# venv against PyPI only. Install a runner from it with:
#   python -m pip install --require-hashes --no-deps -r requirements/runner.lock
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3.11 -m venv "$tools/venv"
PIP_CONFIG_FILE=/dev/null "$tools/venv/bin/pip" install --quiet --index-url https://pypi.org/simple pip-tools
cd "$root"
PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= CUSTOM_COMPILE_COMMAND="scripts/lock_runner.sh" \
  "$tools/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
  --index-url https://pypi.org/simple --output-file requirements/runner.lock requirements/runner.in
echo "wrote requirements/runner.lock"
