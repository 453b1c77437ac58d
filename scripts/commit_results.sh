#!/usr/bin/env bash
# Record official results: add RESULTS_DIR/*.json to the store, rebuild LEADERBOARD.md, commit, push to $BRANCH.
# If $BRANCH moved meanwhile (another merge's results landed first), fetch the new tip, replay onto it (re-add,
# rebuild) and push again, up to $MAX_TRIES times, so two merges never lose a result.
#
#   scripts/commit_results.sh RESULTS_DIR [MESSAGE]
#   env: PUSH_REMOTE (origin) BRANCH (main) MAX_TRIES (5) RETRY_DELAY (seconds, 3) GITHUB_TOKEN (optional, for https)
#        TITO (the tito command, default "tito"; the rehearsal passes "python -m competition.cli")
set -euo pipefail

results_dir=${1:?usage: scripts/commit_results.sh RESULTS_DIR [MESSAGE]}
message=${2:-Record official results}
remote=${PUSH_REMOTE:-origin}
branch=${BRANCH:-main}
tries=${MAX_TRIES:-5}
delay=${RETRY_DELAY:-3}
read -r -a tito <<< "${TITO:-tito}"

git_auth=(git -c user.name="${GIT_AUTHOR_NAME:-tinymlperf-bot}"
          -c user.email="${GIT_AUTHOR_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}")
if [ -n "${GITHUB_TOKEN:-}" ]; then
  basic=$(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\n')
  if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::add-mask::$basic"; fi
  git_auth+=(-c "http.extraheader=AUTHORIZATION: basic $basic")
fi

shopt -s nullglob
files=("$results_dir"/*.json)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no result files in $results_dir; nothing to record"
  exit 0
fi

for attempt in $(seq 1 "$tries"); do
  "${git_auth[@]}" fetch --quiet "$remote" "$branch"
  git checkout --quiet --force -B "$branch" FETCH_HEAD
  "${tito[@]}" leaderboard add "${files[@]}" --store leaderboard/results
  "${tito[@]}" leaderboard build --store leaderboard/results --markdown LEADERBOARD.md --site _site
  git add leaderboard/results LEADERBOARD.md
  if git diff --cached --quiet; then
    echo "the store already holds these results; nothing to commit"
    exit 0
  fi
  "${git_auth[@]}" commit --quiet -m "$message"
  if "${git_auth[@]}" push --quiet "$remote" "HEAD:$branch"; then
    echo "recorded ${#files[@]} result(s) on $branch (attempt $attempt)"
    exit 0
  fi
  echo "::warning::$branch moved while recording (attempt $attempt of $tries); replaying onto the new tip"
  sleep "$((attempt * delay))"
done
echo "::error::could not push the results to $branch after $tries attempts"
exit 1
