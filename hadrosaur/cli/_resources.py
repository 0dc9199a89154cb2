"""``hadrosaur ls`` and ``hadrosaur show``: resources as the index lists them, and one in full."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Any

from .._nofollow import directory_problem
from ..entries import Entry
from ..errors import DamagedResource
from ..project import Project
from ..resource import COMPLETED, ERROR, PENDING, Resource
from ._opening import open_project, print_json, require_resource, stdout_for
from ._output import format_duration, format_time, table

__all__ = ("cmd_ls", "cmd_show", "error_reason")

#: Entries read per opening of the index, so that other readers get a turn.
LS_PAGE = 20_000


def _all_entries(proj: Project, collection: str) -> list[Entry]:
    entries: list[Entry] = []
    after = None
    while True:
        page = proj.entries(collection, after=after, limit=LS_PAGE)
        entries.extend(page)
        if len(page) < LS_PAGE:
            return entries
        after = page[-1].ident


def _duration(entry: Entry | Resource, now: int) -> str:
    if entry.status == PENDING and entry.start_time is not None and entry.end_time is None:
        return "running " + format_duration(now - entry.start_time)
    return format_duration(entry.duration_ms)


def cmd_ls(args: argparse.Namespace) -> int:
    proj = open_project(args)
    if args.status:
        with proj.view(args.collection) as view:
            entries = view.entries_of(view.idents(args.status))
    else:
        entries = _all_entries(proj, args.collection)
    # Newest first; never-started (planned) resources last, in ident order.
    entries.sort(key=lambda e: -e.start_time if e.start_time is not None else math.inf)
    if args.limit is not None:
        entries = entries[: args.limit]
    if args.json:
        print_json([_entry_json(e) for e in entries])
        return 0
    if not entries:
        which = f"{args.status} resources" if args.status else "resources"
        print(f"no {which} in {args.collection}", file=sys.stderr)
        return 0
    now = int(time.time() * 1000)
    cell = stdout_for(args).cell
    rows = [
        [cell(e.ident), e.status, format_time(e.start_time), _duration(e, now), cell(e.reason)]
        for e in entries
    ]
    print(table(["IDENT", "STATUS", "START", "DURATION", "REASON"], rows))
    return 0


def _entry_json(e: Entry) -> dict[str, Any]:
    return {
        "ident": e.ident,
        "status": e.status,
        "start_time": e.start_time,
        "end_time": e.end_time,
        "duration_ms": e.duration_ms,
        "reason": e.reason,
    }


def error_reason(proj: Project, collection: str, ident: str) -> str:
    """The last line of a resource's traceback, or why it cannot be read."""
    try:
        text = proj.fetch_error(collection, ident)
    except DamagedResource as exc:  # error.log is a symlink...: say so, read nothing
        return exc.problem
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def cmd_show(args: argparse.Namespace) -> int:
    proj = open_project(args)
    require_resource(proj, args.collection, args.ident)
    res = proj.load(args.collection, args.ident, strict=False)
    damaged = bool(res.problem)  # e.g. a symlinked resource directory: nothing to read in it
    reason = ""
    if res.status == ERROR and not damaged:
        reason = error_reason(proj, res.collection, res.ident)
    reason = reason or res.problem
    info: dict[str, Any] = {
        "collection": res.collection,
        "ident": res.ident,
        "status": res.status,
        "reason": reason,
        "problem": res.problem,
        "start_time": res.start_time,
        "end_time": res.end_time,
        "duration_ms": res.duration_ms,
        "attempt": res.attempt,
        "pid": res.pid,
        "host": res.host,
        "args": res.args,
        "result": res.result,
        "paths": {name: str(path) for name, path in res.paths.items()},
    }
    if args.json:
        print_json(info)
        return 0
    now = int(time.time() * 1000)
    lines = [
        f"{res.collection}/{res.ident}",
        f"  status    {res.status}" + (f": {reason}" if reason else ""),
        f"  start     {format_time(res.start_time)}",
        f"  end       {format_time(res.end_time)}",
        f"  duration  {_duration(res, now)}",
        f"  attempt   {res.attempt}   pid {res.pid or '-'}   host {res.host or '-'}",
        f"  args      {json.dumps(res.args, ensure_ascii=False)}",
        "  result    "
        + (
            f"DAMAGED: {res.problem}"
            if res.problem and res.status == COMPLETED
            else json.dumps(res.result, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        ),
        "  paths",
    ]
    # Only a real directory is looked into: a symlinked one would reveal its target's files.
    looked_into = directory_problem(res.directory) == ""
    for name, path in res.paths.items():
        note = "" if not looked_into or name == "base" or os.path.lexists(path) else "  (none)"
        lines.append(f"    {name:<8}  {path}{note}")
    stdout_for(args).write("\n".join(lines) + "\n")
    return 0
