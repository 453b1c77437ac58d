"""`tito leaderboard add|build|fingerprint`; competition.cli calls `register(subparsers)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from competition.leaderboard.admission import Policy
from competition.leaderboard.awards import AwardsError
from competition.leaderboard.build import build, submissions_folder
from competition.leaderboard.config import ConfigError, load_config
from competition.leaderboard.disqualified import DisqualifiedError, load_disqualified
from competition.leaderboard.fingerprint import registration_snippet
from competition.leaderboard.index import default_index_path
from competition.leaderboard.site import SiteError
from competition.leaderboard.store import DEFAULT_STORE, StoreError, add_results, read_result


def _submissions(path: str) -> Path | None:
    return submissions_folder(path) if path else None


def _add(args: argparse.Namespace) -> int:
    """Store every file that passes, each on its own; report each refused file with its own fix. Exit 1 if any file
    was refused, except smoke runs of an entry and event whose full run this call stored (or had stored)."""
    policy = Policy(load_config(args.config), load_disqualified(args.disqualified), _submissions(args.submissions))
    refused: dict[str, str] = {}
    stored: set[tuple[str, str]] = set()
    for source in args.results:
        try:
            written = add_results([source], args.store, policy)
        except StoreError as exc:
            refused[source] = str(exc).removeprefix("nothing was stored:\n")
            continue
        key = _entry_event(source)
        if key is not None:
            stored.add(key)
        print(f"stored {written[0]}" if written else f"already stored, identical: {source}")
    failed = 0
    for source, reason in refused.items():
        if _is_smoke(source) and _entry_event(source) in stored:
            print(f"skipped {source}: a smoke (--quick) run, never stored; the full run of the same entry and "
                  "event is stored")
            continue
        failed += 1
        print(reason, file=sys.stderr)
    if failed:
        print(f"{failed} of {len(args.results)} file(s) refused (each with its fix above)", file=sys.stderr)
    return 1 if failed else 0


def _entry_event(source: str) -> tuple[str, str] | None:
    try:
        result = read_result(Path(source))
    except StoreError:
        return None
    return result["submission"]["name"], result["event"]["id"]


def _is_smoke(source: str) -> bool:
    try:
        return bool((read_result(Path(source)).get("config") or {}).get("quick"))
    except StoreError:
        return False


def _build(args: argparse.Namespace) -> int:
    index = None if args.no_index else (Path(args.index) if args.index else default_index_path())
    written = build(args.store, args.markdown or None, args.site or None, args.awards, args.config,
                    args.disqualified, args.submissions or None, args.reveal, index)
    print(f"wrote {len(written)} file(s)" + (f"; markdown {args.markdown}" if args.markdown else "")
          + (f"; site {args.site}" if args.site else "") + ("; private split revealed" if args.reveal else ""))
    return 0


def _fingerprint(args: argparse.Namespace) -> int:
    result = read_result(Path(args.result))
    if result["runner"]["class"] == "local":
        raise StoreError(f"{args.result} [runner.class]: a local run; fix: run the benchmark on the maintainers' "
                         "runner with --runner-class reference or edge, then fingerprint that result")
    print("# add under `runners:` in leaderboard/config.yaml, in a pull request the maintainers review:")
    print(registration_snippet(result), end="")
    return 0


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the leaderboard's input errors into a message on stderr and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (StoreError, AwardsError, ConfigError, DisqualifiedError, SiteError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return run


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=str(DEFAULT_STORE), help="store directory (default: %(default)s)")
    parser.add_argument("--config", default="leaderboard/config.yaml",
                        help="config with the registered runners (default: %(default)s)")
    parser.add_argument("--disqualified", default="leaderboard/disqualified.yaml",
                        help="disqualification list (default: %(default)s)")
    parser.add_argument("--submissions", default="submissions",
                        help="submissions folder; results of removed folders do not count; '' to skip "
                             "(default: %(default)s)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `leaderboard` command group to the `tito` parser."""
    group = subparsers.add_parser("leaderboard", help="store results and render LEADERBOARD.md and the site")
    commands = group.add_subparsers(dest="leaderboard_command", required=True)

    add = commands.add_parser("add", help="check result JSON files (schema, scores recomputed, run and runner) "
                                          "and add them to the append-only store")
    add.add_argument("results", nargs="+", metavar="RESULT.json")
    _policy_options(add)
    add.set_defaults(func=_guarded(_add))

    render = commands.add_parser("build", help="render LEADERBOARD.md and the static site from the store")
    _policy_options(render)
    render.add_argument("--markdown", default="LEADERBOARD.md", help="output Markdown (default: %(default)s)")
    render.add_argument("--site", default="_site", help="output site directory (default: %(default)s)")
    render.add_argument("--awards", default="leaderboard/awards.yaml", help="awards file (default: %(default)s)")
    render.add_argument("--reveal", action="store_true",
                        help="end of season: publish the private-split (hidden test set) rankings beside the public")
    render.add_argument("--index", default="", help="check index (a cache of per-file schema and score checks; "
                                                    "default: $XDG_CACHE_HOME/tinymlperf/leaderboard-index.json)")
    render.add_argument("--no-index", action="store_true", help="check every file from scratch, keep no index")
    render.set_defaults(func=_guarded(_build))

    finger = commands.add_parser("fingerprint", help="print the config.yaml lines that register the runner of a "
                                                     "reference/edge result (maintainers, in a reviewed PR)")
    finger.add_argument("result", metavar="RESULT.json")
    finger.set_defaults(func=_guarded(_fingerprint))


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (tests, or before competition.cli exists): `python -m competition.leaderboard.cli`."""
    parser = argparse.ArgumentParser(prog="tito")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
