#!/usr/bin/env bash
# Record official results on the results branch: a data-only branch ($BRANCH, default "results") holding
# leaderboard/results/*.json and LEADERBOARD.md. Protected main is never pushed to. Run it from a checkout of main:
# its `tito` adds the results (the store recomputes every score) and renders LEADERBOARD.md into a fresh clone of
# the results branch. If the branch moved meanwhile (another merge's results landed first), the push is refused;
# the script fetches the new tip, replays (re-add, rebuild) and pushes again, up to $MAX_TRIES times, so two merges
# never lose a result. A season's chunks record this way as each finishes (raise MAX_TRIES for many at once).
#
#   scripts/commit_results.sh RESULTS_DIR [MESSAGE]
#   env: PUSH_REMOTE (origin) BRANCH (results) MAX_TRIES (5) RETRY_DELAY (seconds, 3) GITHUB_TOKEN (optional, https)
#        TITO (the tito command, default "tito"; the rehearsal passes "python -m competition.cli")
set -euo pipefail

results_dir=${1:?usage: scripts/commit_results.sh RESULTS_DIR [MESSAGE]}
message=${2:-Record official results}
remote=${PUSH_REMOTE:-origin}
branch=${BRANCH:-results}
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
files=()
for file in "$results_dir"/*.json; do files+=("$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"); done
if [ "${#files[@]}" -eq 0 ]; then
  echo "no result files in $results_dir; nothing to record"
  exit 0
fi

url=$(git remote get-url "$remote")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree="$work/results"

for attempt in $(seq 1 "$tries"); do
  rm -rf "$tree" "$work/site"
  git init --quiet "$tree"
  set +e
  "${git_auth[@]}" ls-remote --exit-code "$url" "refs/heads/$branch" > /dev/null
  listed=$?
  set -e
  if [ "$listed" -eq 0 ]; then
    "${git_auth[@]}" -C "$tree" fetch --quiet --depth 1 "$url" "refs/heads/$branch"
    git -C "$tree" checkout --quiet --detach FETCH_HEAD
  elif [ "$listed" -ne 2 ]; then
    echo "::error::cannot read $url (git ls-remote exited $listed)"
    exit 1
  fi  # exit 2: the branch does not exist yet; this commit starts it
  mkdir -p "$tree/leaderboard/results"
  "${tito[@]}" leaderboard add "${files[@]}" --store "$tree/leaderboard/results"
  "${tito[@]}" leaderboard build --store "$tree/leaderboard/results" --markdown "$tree/LEADERBOARD.md" \
    --site "$work/site"
  git -C "$tree" add leaderboard/results LEADERBOARD.md
  if git -C "$tree" diff --cached --quiet; then
    echo "the $branch branch already holds these results; nothing to commit"
    exit 0
  fi
  "${git_auth[@]}" -C "$tree" commit --quiet -m "$message"
  if "${git_auth[@]}" -C "$tree" push --quiet "$url" "HEAD:refs/heads/$branch"; then
    echo "recorded ${#files[@]} result(s) on $branch (attempt $attempt)"
    exit 0
  fi
  echo "::warning::$branch moved while recording (attempt $attempt of $tries); replaying onto the new tip"
  # many chunks of one run record at once: a random share of the delay keeps them from retrying in lockstep
  sleep "$((attempt * delay + RANDOM % (delay + 1)))"
done
echo "::error::could not push the results to $branch after $tries attempts"
exit 1
