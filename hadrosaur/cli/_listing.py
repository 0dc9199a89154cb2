"""``hadrosaur ls``: the resources of a collection as its index lists them.

The index is read a page at a time (one opening each, so that other readers
get a turn). ``--jsonl`` prints each entry as it is read, in ident order, so
that a list of millions streams instead of being held in memory; the table
and ``--json`` sort the whole list, newest first.
"""

from __future__ import annotations

import argparse
import heapq
import math
import sys
import time
from collections.abc import Iterator
from typing import Any

from .._records import read_record
from ..display import format_duration
from ..entries import Entry
from ..project import Project
from ..resource import PENDING, Resource
from ._errors import group_members
from ._opening import open_project, print_json, stdout_for
from ._output import format_json_line, format_time, table

__all__ = ("LS_PAGE", "cmd_ls", "duration_text", "entry_fields", "listed_entry")

#: Entries read per opening of the index, so that other readers get a turn.
LS_PAGE = 20_000


def entry_fields(entry: Entry) -> dict[str, Any]:
    """The JSON keys of one resource that ``ls`` prints and ``show`` starts with.

    One function for both, so that the same resource has the same values
    under the same names in either: the index's view of it (``reason``: the
    last line of an error's traceback with control characters as spaces, or
    what is damaged).
    """
    return {
        "ident": entry.ident,
        "status": entry.status,
        "start_time": entry.start_time,
        "end_time": entry.end_time,
        "duration_ms": entry.duration_ms,
        "reason": entry.reason,
    }


def listed_entry(res: Resource) -> Entry:
    """The resource as ``ls`` lists it: the record the index keeps, read from its files.

    Read from the files (what the index is built from), not from the index:
    ``show`` and ``recompute`` open no index for it, so they neither wait for
    a busy one nor scan a read-only collection. The status is ``load``'s
    (interrupted included), as the index records it.
    """
    rec = read_record(res.directory)
    if rec is None:  # a directory with no status file: the index lists nothing
        return Entry(res.ident, res.status, res.start_time, res.end_time, res.problem)
    return rec._replace(status=res.status)


def duration_text(entry: Entry | Resource, now: int) -> str:
    """The duration column: ``running 4m05s`` while it runs, else how long it took."""
    if entry.status == PENDING and entry.start_time is not None and entry.end_time is None:
        return "running " + format_duration(now - entry.start_time, "-")
    return format_duration(entry.duration_ms, "-")


def _entries(
    proj: Project, collection: str, status: str | None, group: str | None = None
) -> Iterator[Entry]:
    """Entries in ident order, a page per opening of the index (closed while the caller works).

    ``group``: a signature or a prefix of one: only the errors of that cause.
    """
    if status or group:
        if group:
            idents = group_members(proj, collection, group)[1]
        else:
            assert status is not None
            with proj.view(collection) as view:
                idents = view.idents(status)
        for start in range(0, len(idents), LS_PAGE):
            with proj.view(collection) as view:
                page = view.entries_of(idents[start : start + LS_PAGE])
            yield from page
        return
    after = None
    while True:
        page = proj.entries(collection, after=after, limit=LS_PAGE)
        yield from page
        if len(page) < LS_PAGE:
            return
        after = page[-1].ident


def _newest_first(entries: Iterator[Entry], limit: int | None) -> list[Entry]:
    """Newest first; never-started (planned) resources last, in ident order.

    With a limit only ``limit`` entries are kept while reading (a heap), not the whole list.
    """

    def started(e: Entry) -> float:
        return e.start_time if e.start_time is not None else -math.inf

    if limit is not None:
        return heapq.nlargest(limit, entries, key=started)  # stable, as sorted(reverse=True)
    return sorted(entries, key=started, reverse=True)


def cmd_ls(args: argparse.Namespace) -> int:
    proj = open_project(args)
    entries = _entries(proj, args.collection, args.status, args.group)
    if args.jsonl:
        if args.limit is not None:
            entries = iter(_newest_first(entries, args.limit))
        for entry in entries:
            print(format_json_line(entry_fields(entry)))
        return 0
    listed = _newest_first(entries, args.limit)
    if args.json:
        print_json([entry_fields(e) for e in listed])
        return 0
    if not listed:
        which = f"{args.status} resources" if args.status else "resources"
        if args.group:
            which = f"errors in group {args.group}"
        print(f"no {which} in {args.collection}", file=sys.stderr)
        return 0
    now = int(time.time() * 1000)
    cell = stdout_for(args).cell
    rows = [
        [cell(e.ident), e.status, format_time(e.start_time), duration_text(e, now), cell(e.reason)]
        for e in listed
    ]
    print(table(["IDENT", "STATUS", "START", "DURATION", "REASON"], rows))
    return 0
