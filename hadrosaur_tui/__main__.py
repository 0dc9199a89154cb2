# PYTHON_ARGCOMPLETE_OK  (argcomplete's global completion looks for this marker)
"""The ``hadrosaur-tui`` command (also ``hadrosaur tui``, which runs ``python -m hadrosaur_tui``).

``hadrosaur-tui [BASE]`` or ``hadrosaur-tui --demo``. Without BASE the base
directory is ``$HADROSAUR_BASE``, else ``.`` when it holds collections.
``--serve`` shows the same app in a browser instead (see :mod:`hadrosaur_tui.serve`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hadrosaur import HadrosaurError, Project, __version__
from hadrosaur.cli import BASE_ENV, base_from_environment, complete_directory, positive_seconds

from .serve import DEFAULT_HOST, DEFAULT_PORT, is_loopback

__all__ = ("build_parser", "main")


def build_parser() -> argparse.ArgumentParser:
    """The arguments of ``hadrosaur-tui``, which ``hadrosaur tui`` passes on unchanged."""
    parser = argparse.ArgumentParser(
        prog="hadrosaur-tui",
        description="Watch a hadrosaur base directory live: counts per collection, "
        "filterable resource lists, logs, tracebacks and results, with keys to recompute. "
        "hadrosaur tui takes the same arguments.",
        epilog="example:\n  hadrosaur tui ./base_directory\n  hadrosaur-tui ./base_directory\n"
        f"  {BASE_ENV}=./base_directory hadrosaur-tui\n  hadrosaur-tui --demo\n"
        "  hadrosaur-tui --serve ./base_directory    then open http://127.0.0.1:8000\n"
        "  (from another machine: ssh -L 8000:127.0.0.1:8000 HOST, then the same address)\n\n"
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
    web = parser.add_argument_group(
        "from a browser",
        "serve the same app over HTTP (textual-serve): each browser tab runs its own app\n"
        "on the same base. There is no password, so it listens on this machine only\n"
        "unless --public is given; from elsewhere, use an SSH tunnel (see the example).",
    )
    web.add_argument(
        "--serve",
        action="store_true",
        help="serve the app to a browser instead of drawing it in this terminal "
        "(with BASE or --demo and the options above)",
    )
    web.add_argument(
        "--host",
        default=None,
        metavar="ADDRESS",
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only); "
        "any other needs --public",
    )
    web.add_argument(
        "--port",
        type=_port,
        default=None,
        metavar="PORT",
        help=f"port to listen on, 1-65535 (default {DEFAULT_PORT})",
    )
    web.add_argument(
        "--public",
        action="store_true",
        help="allow a --host beyond this machine (e.g. 0.0.0.0): anyone who reaches the port "
        "can watch and recompute; prefer an SSH tunnel",
    )
    return parser


def _port(text: str) -> int:
    """A TCP port to listen on: 0 is refused, as the page must name the port its socket uses."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {port}")
    return port


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
    if not args.serve:
        given = [name for name in ("host", "port") if getattr(args, name) is not None]
        given += ["public"] if args.public else []
        if given:
            parser.error(f"--{given[0]} goes with --serve")
    else:
        args.host = DEFAULT_HOST if args.host is None else args.host
        args.port = DEFAULT_PORT if args.port is None else args.port
        if not is_loopback(args.host) and not args.public:
            parser.error(
                f"--host {args.host} would listen beyond this machine, and the served app has "
                "no password (anyone reaching it can recompute); reach 127.0.0.1 through an "
                "SSH tunnel instead (ssh -L PORT:127.0.0.1:PORT HOST), or add --public"
            )
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
    if args.serve:
        return _serve(args)
    if args.demo:
        from .demo import run_with_demo

        return run_with_demo(poll_interval=args.poll, watch=not args.no_watch)
    from .app import run

    return run(args.base, poll_interval=args.poll, watch=not args.no_watch, jobs=args.jobs)


def _serve(args: argparse.Namespace) -> int:
    """--serve: on BASE, or on a demo base whose pipeline runs as long as the server."""
    from .serve import ServeError, serve, warn_public

    if not is_loopback(args.host):
        warn_public(args.host, args.port)
    base: Path = args.base
    child = None
    if args.demo:
        from .demo import demo_base, start_demo_pipeline

        base = demo_base()
        child = start_demo_pipeline(base)
    try:
        return serve(
            base,
            host=args.host,
            port=args.port,
            poll_interval=args.poll,
            watch=not args.no_watch,
            jobs=args.jobs,
        )
    except ServeError as error:
        print(f"hadrosaur-tui: error: {error}", file=sys.stderr)
        return 1
    finally:
        if child is not None:
            from .demo import stop_demo_pipeline

            stop_demo_pipeline(child)
            print(f"The demo base directory stays in {base} (delete it when done).")


if __name__ == "__main__":
    sys.exit(main())
