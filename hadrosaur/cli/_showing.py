"""``hadrosaur show``: one resource in full (status, times, args, paths, result)."""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from .._nofollow import directory_problem
from ..resource import COMPLETED, UNAVAILABLE
from ._listing import duration_text, entry_fields, listed_entry
from ._opening import (
    is_planned_only,
    open_project,
    print_json,
    require_resource,
    stdout_for,
)
from ._output import format_time

__all__ = ("PLANNED_NEVER_STARTED", "cmd_show")

#: What ``show`` says of a planned ident that no process has started (it has no directory).
PLANNED_NEVER_STARTED = "planned, never started"


def cmd_show(args: argparse.Namespace) -> int:
    proj = open_project(args)
    require_resource(proj, args.collection, args.ident)
    res = proj.load(args.collection, args.ident, strict=False)
    entry = listed_entry(res)
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
    if (
        res.status == UNAVAILABLE
        and not reason
        and is_planned_only(proj, res.collection, res.ident)
    ):
        reason = PLANNED_NEVER_STARTED
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
