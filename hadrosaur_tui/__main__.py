"""The ``hadrosaur-tui`` command: ``hadrosaur-tui BASE`` or ``hadrosaur-tui --demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .demo import run_with_demo

__all__ = ("main",)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="hadrosaur-tui",
        description="Watch a hadrosaur base directory live: counts per collection, "
        "filterable resource lists, logs, tracebacks and results, with keys to recompute.",
        epilog="Examples:\n  hadrosaur-tui ./base_directory\n  hadrosaur-tui --demo\n\n"
        "Inside the app, press ? for every key.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("base", nargs="?", type=Path, help="the base directory to watch")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a small live demo pipeline in a temporary base directory and watch it",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="fallback poll interval when file events are missing (default 2)",
    )
    parser.add_argument(
        "--no-watch",
        action="store_true",
        help="do not use file events (e.g. on network filesystems); poll only",
    )
    args = parser.parse_args(argv)
    if args.demo == (args.base is not None):
        parser.error("give either a base directory or --demo")
    if args.poll <= 0:
        parser.error("--poll must be above 0")
    if args.base is not None and args.base.exists() and not args.base.is_dir():
        parser.error(f"{args.base} is a file, not a base directory")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.demo:
        return run_with_demo(poll_interval=args.poll, watch=not args.no_watch)
    from .app import run

    return run(args.base, poll_interval=args.poll, watch=not args.no_watch)


if __name__ == "__main__":
    sys.exit(main())
