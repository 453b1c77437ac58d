"""`tito leaderboard add|build`; competition.cli calls `register(subparsers)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from competition.leaderboard.awards import AwardsError
from competition.leaderboard.build import build
from competition.leaderboard.config import ConfigError
from competition.leaderboard.store import DEFAULT_STORE, StoreError, add_results


def _add(args: argparse.Namespace) -> int:
    written = add_results(args.results, args.store)
    for path in written:
        print(f"stored {path}")
    skipped = len(args.results) - len(written)
    if skipped:
        print(f"{skipped} result(s) already stored with identical content (no change)")
    return 0


def _build(args: argparse.Namespace) -> int:
    written = build(args.store, args.markdown, args.site, args.awards, args.config)
    print(f"wrote {len(written)} file(s)" + (f"; markdown {args.markdown}" if args.markdown else "")
          + (f"; site {args.site}" if args.site else ""))
    return 0


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the leaderboard's input errors into a message on stderr and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (StoreError, AwardsError, ConfigError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `leaderboard` command group to the `tito` parser."""
    group = subparsers.add_parser("leaderboard", help="store results and render LEADERBOARD.md and the site")
    commands = group.add_subparsers(dest="leaderboard_command", required=True)

    add = commands.add_parser("add", help="add result JSON files to the append-only store")
    add.add_argument("results", nargs="+", metavar="RESULT.json")
    add.add_argument("--store", default=str(DEFAULT_STORE), help="store directory (default: %(default)s)")
    add.set_defaults(func=_guarded(_add))

    render = commands.add_parser("build", help="render LEADERBOARD.md and the static site from the store")
    render.add_argument("--store", default=str(DEFAULT_STORE), help="store directory (default: %(default)s)")
    render.add_argument("--markdown", default="LEADERBOARD.md", help="output Markdown (default: %(default)s)")
    render.add_argument("--site", default="_site", help="output site directory (default: %(default)s)")
    render.add_argument("--awards", default="leaderboard/awards.yaml", help="awards file (default: %(default)s)")
    render.add_argument("--config", default="leaderboard/config.yaml", help="config file (default: %(default)s)")
    render.set_defaults(func=_guarded(_build))


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (tests, or before competition.cli exists): `python -m competition.leaderboard.cli`."""
    parser = argparse.ArgumentParser(prog="tito")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
