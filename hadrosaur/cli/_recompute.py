"""``hadrosaur recompute``: compute resources again, one line per resource as it ends.

One after the other in this process by default; ``--jobs N`` runs them on N
worker processes (:func:`hadrosaur.runner.recompute`). ``--jsonl`` makes the
lines JSON objects for a program to follow (the TUI's bulk retry does), and
``--idents-from`` takes the idents from a file or standard input, since a
command line cannot hold thousands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from ..display import format_duration
from ..errors import DamagedResource, HadrosaurError
from ..project import Project
from ..resource import COMPLETED, ERROR, Resource
from ..runner import recompute
from ._errors import group_members
from ._listing import entry_fields, listed_entry
from ._opening import open_project, require_resource, stdout_for
from ._output import format_json_line

__all__ = ("cmd_recompute",)


def error_reason(proj: Project, collection: str, ident: str) -> str:
    """The last line of a resource's traceback, or why it cannot be read."""
    try:
        text = proj.fetch_error(collection, ident)
    except DamagedResource as exc:  # error.log is a symlink...: say so, read nothing
        return exc.problem
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def cmd_recompute(args: argparse.Namespace) -> int:
    proj = open_project(args)
    idents = list(args.idents)
    if args.idents_from is not None:
        idents.extend(_idents_from(args.idents_from))
    for ident in idents:
        require_resource(proj, args.collection, ident)
    for status in args.status or ():
        idents.extend(proj.fetch_by_status(args.collection, status))
    for group in args.group or ():
        idents.extend(group_members(proj, args.collection, group)[1])
    idents = list(dict.fromkeys(idents))
    if not idents:
        if not args.status and not args.group:
            raise HadrosaurError(
                "name the idents to recompute, or select them with --status or --group"
            )
        chosen = [*(args.status or ()), *(f"group {g}" for g in args.group or ())]
        print(f"nothing to recompute: no {' or '.join(chosen)} resources", file=sys.stderr)
        return 0
    width = max(len(i) for i in idents)
    counts: dict[str, int] = {}
    cell = stdout_for(args).cell

    def report(res: Resource) -> None:
        counts[res.status] = counts.get(res.status, 0) + 1
        if args.jsonl:
            print(format_json_line(entry_fields(listed_entry(res))), flush=True)
            return
        reason = cell(error_reason(proj, res.collection, res.ident)) if res.status == ERROR else ""
        cells = [res.ident.ljust(width), res.status.ljust(9), format_duration(res.duration_ms, "-")]
        print("  ".join(cells) + (f"  {reason}" if reason else ""), flush=True)

    recompute(
        proj.base,
        args.collection,
        idents,
        app=args.app,
        log_output=args.log_output,
        on_result=report,
        jobs=args.jobs,
    )
    if not args.jsonl:
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(f"recomputed {len(idents)}: {summary}")
    return 0 if set(counts) <= {COMPLETED} else 1  # an error, or interrupted in a worker


def _idents_from(path: str) -> Iterator[str]:
    """The idents of a file (``-``: standard input), one per line; empty lines are skipped.

    Only the line ending is removed: an ident may start or end with a space,
    but never holds a control character, so a ``\r`` is the CRLF's.
    """
    if path == "-":
        yield from _lines(sys.stdin)
        return
    with open(path, encoding="utf-8") as lines:
        yield from _lines(lines)


def _lines(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        ident = line.rstrip("\r\n")
        if ident:
            yield ident
