"""``hadrosaur show``: one resource in full (status, times, args, paths, result)."""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from .._nofollow import directory_problem
from .._records import read_record
from ..entries import Entry
from ..resource import COMPLETED, Resource
from ._listing import duration_text, entry_fields
from ._opening import open_project, print_json, require_resource, stdout_for
from ._output import format_time

__all__ = ("cmd_show",)


def _as_listed(res: Resource) -> Entry:
    """The resource as ``ls`` lists it: the record the index keeps, read from its files.

    Read from the files (what the index is built from), not from the index:
    show opens no index, so it neither waits for a busy one nor scans a
    read-only collection. The status is ``load``'s (interrupted included), as
    the index records it.
    """
    rec = read_record(res.directory)
    if rec is None:  # a directory with no status file: the index lists nothing
        return Entry(res.ident, res.status, res.start_time, res.end_time, res.problem)
    return rec._replace(status=res.status)


def cmd_show(args: argparse.Namespace) -> int:
    proj = open_project(args)
    require_resource(proj, args.collection, args.ident)
    res = proj.load(args.collection, args.ident, strict=False)
    entry = _as_listed(res)
    info: dict[str, Any] = {
        **entry_fields(entry),  # the keys and values of ls --json, first
        "collection": res.collection,
        "problem": res.problem,
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
    reason = entry.reason
    lines = [
        f"{res.collection}/{res.ident}",
        f"  status    {entry.status}" + (f": {reason}" if reason else ""),
        f"  start     {format_time(entry.start_time)}",
        f"  end       {format_time(entry.end_time)}",
        f"  duration  {duration_text(entry, now)}",
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
