# PYTHON_ARGCOMPLETE_OK  (argcomplete's global completion looks for this marker)
"""The ``hadrosaur`` command: answers about a base directory from the shell and from scripts.

``hadrosaur stats|ls|show|log|error|recompute|reindex|tui BASE ...`` (also
``python -m hadrosaur ...``). Everything is read through the public
:class:`~hadrosaur.Project` API, so the command sees exactly what a program
would, from any process, while workers write. Bad input (a missing base, an
unknown collection or ident, an invalid name) prints one line on stderr and
exits with 2, never a traceback; ``--json`` prints what ``json.loads`` reads.

Exit codes: 0 success, 1 a recomputed resource ended in error or an index
could not be rebuilt (read-only), 2 bad input or a function that cannot be
loaded, 130 interrupted by Ctrl-C.

Text read from the base directory (logs, tracebacks, results, reasons) goes
to a terminal with its control characters in a visible form (``ESC`` as
``^[``), and to a pipe or file byte-exact; ``--raw`` and ``--visible`` choose
either way explicitly (see :class:`~hadrosaur.cli._output.Output`).

BASE may come from ``$HADROSAUR_BASE`` (``_base_directory``); TAB
completion is argcomplete's (``_completion``). The other modules:
``_parser`` (the arguments), ``_opening`` (what every command does first),
``_output`` (how things are printed), and one per command or pair of
commands (``_overview``, ``_listing``, ``_showing``, ``_texts``,
``_recompute``, ``_tui``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from ..errors import HadrosaurError, IndexBusy, UnknownCollection
from ._base_directory import BASE_ENV, base_from_environment
from ._completion import complete, complete_directory
from ._output import Output
from ._parser import _seconds as positive_seconds
from ._parser import build_parser, parse_arguments
from ._tui import start_tui

__all__ = (
    "BASE_ENV",
    "base_from_environment",
    "build_parser",
    "complete_directory",
    "main",
    "positive_seconds",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Example:
        >>> main(["stats", "./base_directory", "--json"])  # doctest: +SKIP
        {"genomes": {"counts": {"total": 2, ...}}}
        0
    """
    if argv is None and "_ARGCOMPLETE" in os.environ:
        complete(build_parser())  # the shell asks for completions (TAB): answers and exits
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["tui"]:
        # Everything after `tui` is hadrosaur-tui's, --help and --version included.
        return _run(lambda: start_tui(argv[1:]))
    args = parse_arguments(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    hint = ""
    if args.base_from_environment:
        hint = (
            f" (BASE is ${BASE_ENV}, {args.base}; to use another base directory, "
            "write it as a path: ./NAME)"
        )
    return _run(lambda: command(args), unknown_collection_hint=hint)


def _run(command: Callable[[], int], unknown_collection_hint: str = "") -> int:
    """Run a command; turn what it raises into one line on stderr and an exit code."""
    try:
        return command()
    except UnknownCollection as exc:
        return _fail(exc, unknown_collection_hint)
    except HadrosaurError as exc:
        return _fail(exc)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # `hadrosaur ls ... | head`: not an error
            _silence_stdout()
            return 0
        return _fail(exc)
    except KeyboardInterrupt:
        print("hadrosaur: interrupted", file=sys.stderr)
        return 130


def _fail(exc: BaseException, hint: str = "") -> int:
    message = " ".join(str(exc).split("\n")) + hint
    if isinstance(exc, IndexBusy):
        # The library's advice names Project(index_timeout=...); here it is an option.
        message = (
            f"the index {exc.path} stayed busy for {exc.waited:.1f} s (another process "
            "holds it); try again, or wait longer with --index-timeout SECONDS"
        )
    # Messages name paths inside the base directory, which anyone may have named.
    print(f"hadrosaur: error: {Output(sys.stderr).cell(message)}", file=sys.stderr)
    return 2


def _silence_stdout() -> None:
    # As the Python docs advise for SIGPIPE: point stdout at devnull so that
    # the flush at interpreter exit does not raise a second time.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # stdout is not a real file (captured); nothing to flush at exit
