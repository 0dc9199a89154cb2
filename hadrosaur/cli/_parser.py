"""The argument parser of ``hadrosaur``: one sub-command per job, each with an example.

Each sub-command's parser sets ``command``, the function that runs it (see
the command modules); the options that several share (``--json``, ``--raw``
/ ``--visible``, ``--index-timeout``) are added the same way for each.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .. import __version__
from ..project import DEFAULT_INDEX_TIMEOUT
from ..resource import ERROR, INTERRUPTED, STATUSES
from ._base_directory import (
    BASE_ENV,
    POSITIONALS,
    base_from_environment,
    split_base,
    taken_without_base,
    typed_words,
)
from ._completion import complete_directory, complete_group, complete_positional
from ._errors import cmd_errors
from ._listing import cmd_ls
from ._output import Output
from ._overview import cmd_reindex, cmd_stats
from ._recompute import cmd_recompute
from ._showing import cmd_show
from ._texts import cmd_error, cmd_log

__all__ = ("build_parser", "parse_arguments")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def _base_note(positionals: Sequence[str]) -> str:
    names = " ".join(p.rstrip("?*") for p in positionals)
    full = f", or when BASE {names} are all given" if taken_without_base(positionals) else ""
    return textwrap.fill(
        f"BASE may be left out when ${BASE_ENV} is set. The first argument is then BASE "
        f"only when it is written as a path (it holds a / or starts with .){full}; "
        f"otherwise the arguments start at {positionals[0].rstrip('?*')} and BASE is "
        f"${BASE_ENV}.",
        width=78,
    )


def _add(
    sub: Any,
    name: str,
    command: Callable[[argparse.Namespace], int],
    text: str,
    example: str,
    positionals: str = "",
    json: bool = False,
    display: bool = False,
) -> argparse.ArgumentParser:
    after_base = positionals.split()
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=text,
        description=text,
        epilog="example:\n"
        + "\n".join(f"  {line}" for line in example.splitlines())
        + "\n\n"
        + _base_note(after_base),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    in_environment = base_from_environment() is not None
    base_argument = parser.add_argument(
        "base",
        nargs="?" if in_environment else None,
        metavar="BASE",
        help=f"the base directory (may be left out when ${BASE_ENV} is set: see below)",
    )
    base_argument.completer = complete_positional  # type: ignore[attr-defined]
    parser.add_argument(
        "--index-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="how long to wait for an index another process holds "
        f"(default {DEFAULT_INDEX_TIMEOUT:g})",
    )
    for positional in after_base:
        action = parser.add_argument(metavar=positional.rstrip("?*"), **POSITIONALS[positional])
        action.completer = complete_positional  # type: ignore[attr-defined]
    if json:
        parser.add_argument("--json", action="store_true", help="print JSON for machines")
    if display:
        shown = parser.add_mutually_exclusive_group()
        shown.add_argument(
            "--raw",
            dest="display",
            action="store_const",
            const="raw",
            help="print the text exactly as stored, even to a terminal (which then acts on "
            "any escape sequences in it)",
        )
        shown.add_argument(
            "--visible",
            dest="display",
            action="store_const",
            const="visible",
            help="show control characters visibly (ESC as ^[) even into a pipe or file; "
            "by default only a terminal gets them so",
        )
        parser.set_defaults(display="auto")
    parser.set_defaults(command=command, positionals=after_base, parser=parser)
    return parser


def _add_group(parser: argparse.ArgumentParser, text: str, repeat: bool = False) -> None:
    action = parser.add_argument(
        "--group",
        action="append" if repeat else "store",
        metavar="SIG",
        help=f"{text}: a signature from `hadrosaur errors`, or its first 4 or more digits",
    )
    action.completer = complete_group  # type: ignore[attr-defined]


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` and settle BASE by the rule of _base_directory.py.

    Sets ``base`` (a Path), ``base_from_environment`` (whether it came from
    ``$HADROSAUR_BASE``) and the positional arguments after it.
    """
    args = build_parser().parse_args(argv)
    parser: argparse.ArgumentParser = args.parser
    if getattr(args, "jsonl", False) and getattr(args, "json", False):
        parser.error("argument --jsonl: not allowed with argument --json")
    if args.command is cmd_ls and args.group is not None and args.status not in (None, ERROR):
        parser.error("argument --group: lists errors; leave out --status or use --status error")
    env_base = base_from_environment()
    words = typed_words(args, args.positionals)
    base, rest = split_base(words, taken_without_base(args.positionals), env_base)
    if base is None:
        parser.error(f"the following arguments are required: BASE (or set {BASE_ENV})")
    value: Any
    for positional in args.positionals:
        spec = POSITIONALS[positional]
        if positional.endswith("*"):
            value = rest
            rest = []
        elif rest:
            value = rest.pop(0)
        elif positional.endswith("?"):
            value = None
        else:
            parser.error(f"the following arguments are required: {positional}")
        setattr(args, spec["dest"], value)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.base_from_environment = env_base is not None and base is env_base
    args.base = Path(base)
    return args


class _Parser(argparse.ArgumentParser):
    """argparse, but a message that repeats the user's arguments never reaches a
    terminal raw: an argument may hold escape sequences (xargs over names)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {Output(sys.stderr).cell(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hadrosaur`` command."""
    parser = _Parser(
        prog="hadrosaur",
        description="Inspect and recompute the resources of a hadrosaur base directory.",
        epilog="exit codes: 0 ok, 1 a recomputed resource ended in error or an index could "
        "not be rebuilt, 2 bad input or a "
        "function that cannot be loaded, 130 interrupted.\n"
        "example:\n  hadrosaur stats ./base_directory\n\n"
        f"BASE may be left out of every command when ${BASE_ENV} is set (see a command's "
        '--help).\nTAB completion: see the README, "Shell completion".',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hadrosaur {__version__}")
    sub = parser.add_subparsers(metavar="COMMAND", required=True)
    base = "hadrosaur {} ./base_directory "
    _add(
        sub,
        "stats",
        cmd_stats,
        "counts per status, one row per collection",
        base.format("stats") + "\n" + base.format("stats") + "genomes --json",
        "COLL?",
        json=True,
    )
    p = _add(
        sub,
        "ls",
        cmd_ls,
        "list resources, newest first",
        base.format("ls") + "genomes --status error",
        "COLL",
        json=True,
        display=True,
    )
    p.add_argument("--status", choices=(*STATUSES, "complete"), help="only those in this status")
    _add_group(p, "only the errors of this cause (implies --status error)")
    p.add_argument(
        "--limit", type=_positive_int, metavar="N", help="only the N newest (N at least 1)"
    )
    p.add_argument(
        "--jsonl",
        action="store_true",
        help="print one JSON object per line as the index is read, in ident order (with "
        "--limit: the N newest, newest first): for very long lists",
    )
    _add(
        sub,
        "errors",
        cmd_errors,
        "errors grouped by cause (signature), largest group first",
        base.format("errors")
        + "genomes\n"
        + base.format("ls")
        + "genomes --group 3fa9    # the errors of one cause (4+ digits of its signature)",
        "COLL",
        json=True,
        display=True,
    )
    _add(
        sub,
        "show",
        cmd_show,
        "status, times, args, paths and result of one resource",
        base.format("show") + "genomes GCF_0001 --json",
        "COLL IDENT",
        json=True,
        display=True,
    )
    p = _add(
        sub,
        "log",
        cmd_log,
        "print a resource's log (rotated parts first)",
        base.format("log") + "genomes GCF_0001 -f",
        "COLL IDENT",
        display=True,
    )
    p.add_argument(
        "-f",
        "--follow",
        action="store_true",
        help="keep printing what is appended, through truncation and rotation, until Ctrl-C",
    )
    _add(
        sub,
        "error",
        cmd_error,
        "print the traceback of a resource's last failure",
        base.format("error") + "genomes GCF_0003",
        "COLL IDENT",
        display=True,
    )
    recompute = base.format("recompute")
    p = _add(
        sub,
        "recompute",
        cmd_recompute,
        "compute resources again, with the args they were computed with",
        f"{recompute}genomes GCF_0003 GCF_0007\n"
        f"{recompute}genomes --status error --status interrupted\n"
        f"{recompute}genomes --status error --jobs 8\n"
        f"{recompute}genomes --idents-from failed.txt --jsonl\n"
        f"{recompute}genomes --group 3fa9\n"
        f"{recompute}genomes --status error --app pipeline:proj",
        "COLL IDENT*",
    )
    p.add_argument(
        "--status",
        action="append",
        choices=(ERROR, INTERRUPTED),
        help="also every resource in this status (repeatable)",
    )
    _add_group(p, "also every error of this cause (repeatable)", repeat=True)
    p.add_argument(
        "--app",
        metavar="MODULE:PROJECT",
        help="load the function from this Project (module or path/script.py) "
        "instead of the reference recorded in .collection.json",
    )
    p.add_argument(
        "--log-output",
        action="store_true",
        help="append what the function prints (stdout, stderr) to each resource's run.log",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="compute N resources at once, in N worker processes (default 1: one after "
        "the other, in this process)",
    )
    p.add_argument(
        "--idents-from",
        metavar="FILE",
        help="also the idents in FILE, one per line ('-': standard input); for more "
        "idents than a command line holds",
    )
    p.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON object per resource as it ends (the keys of ls --json), no summary",
    )
    _add(
        sub,
        "reindex",
        cmd_reindex,
        "rebuild the index from the resource directories",
        base.format("reindex") + "genomes",
        "COLL?",
        json=True,
    )
    # Only listed here (and completed): main hands `tui ...` to hadrosaur-tui unparsed.
    tui = sub.add_parser(
        "tui",
        help="the live terminal monitor: hadrosaur-tui with the same arguments",
        add_help=False,
    )
    tui_args = tui.add_argument(
        "tui_args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="the arguments of hadrosaur-tui (hadrosaur tui --help lists them)",
    )
    tui_args.completer = complete_directory  # type: ignore[attr-defined]
    return parser
