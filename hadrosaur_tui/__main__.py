# PYTHON_ARGCOMPLETE_OK  (argcomplete's global completion looks for this marker)
"""The ``hadrosaur-tui`` command (also ``hadrosaur tui``, which runs ``python -m hadrosaur_tui``).

``hadrosaur-tui [BASE]`` or ``hadrosaur-tui --demo``. Without BASE the base
directory is ``$HADROSAUR_BASE``, else ``.`` when it holds collections.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hadrosaur import HadrosaurError, Project, __version__
from hadrosaur.cli import BASE_ENV, base_from_environment, complete_directory, positive_seconds

__all__ = ("build_parser", "main")


def build_parser() -> argparse.ArgumentParser:
    """The arguments of ``hadrosaur-tui``, which ``hadrosaur tui`` passes on unchanged."""
    parser = argparse.ArgumentParser(
        prog="hadrosaur-tui",
        description="Watch a hadrosaur base directory live: counts per collection, "
        "filterable resource lists, logs, tracebacks and results, with keys to recompute. "
        "hadrosaur tui takes the same arguments.",
        epilog="example:\n  hadrosaur tui ./base_directory\n  hadrosaur-tui ./base_directory\n"
        f"  {BASE_ENV}=./base_directory hadrosaur-tui\n  hadrosaur-tui --demo\n\n"
        "Inside the app, press ? for every key.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hadrosaur-tui {__version__}")
    base = parser.add_argument(
        "base",
        nargs="?",
        type=Path,
        metavar="BASE",
        help=f"the base directory to watch; default ${BASE_ENV}, else . when it holds collections",
    )
    # Directories only, and never a name with control characters (see complete_directory).
    base.completer = complete_directory  # type: ignore[attr-defined]
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a small live demo pipeline in a temporary base directory and watch it",
    )
    parser.add_argument(
        "--poll",
        type=positive_seconds,  # as --index-timeout: nan, inf, 0 and below are usage errors
        default=2.0,
        metavar="SECONDS",
        help="fallback poll interval when file events are missing (default 2)",
    )
    parser.add_argument(
        "--no-watch",
        action="store_true",
        help="do not use file events (e.g. on network filesystems); poll only",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes of a retry (R); default one per CPU",
    )
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    if argv is None and "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (TAB)
        import argcomplete

        argcomplete.autocomplete(parser, always_complete_options=False)
    args = parser.parse_args(argv)
    if args.demo and args.base is not None:
        parser.error("give either a base directory or --demo")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be 1 or more")
    if not args.demo and args.base is None:
        args.base = _default_base()
        if args.base is None:
            parser.error(
                f"give a base directory, set {BASE_ENV}, or start where . holds collections "
                "(or try --demo)"
            )
    if args.base is not None and args.base.exists() and not args.base.is_dir():
        parser.error(f"{args.base} is a file, not a base directory")
    return args


def _default_base() -> Path | None:
    """$HADROSAUR_BASE, else . when it holds collections, else None."""
    from_env = base_from_environment()
    if from_env is not None:
        return Path(from_env)
    try:
        holds_collections = bool(Project(".", create=False).collections())
    except (HadrosaurError, OSError):
        holds_collections = False
    return Path(".") if holds_collections else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.demo:
        from .demo import run_with_demo

        return run_with_demo(poll_interval=args.poll, watch=not args.no_watch)
    from .app import run

    return run(args.base, poll_interval=args.poll, watch=not args.no_watch, jobs=args.jobs)


if __name__ == "__main__":
    sys.exit(main())
