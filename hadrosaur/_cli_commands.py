"""The commands of ``hadrosaur`` (see cli.py for the parser and the exit codes).

Each ``cmd_*`` takes the parsed arguments and returns an exit code. They read
only through :class:`~hadrosaur.Project`'s public API, and raise
:class:`~hadrosaur.HadrosaurError` for bad input, which cli.main turns into one
line on stderr and exit code 2. Everything read from the base directory is
printed through an :class:`~hadrosaur._cli_format.Output`, so that a terminal
never receives its control characters raw.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import _layout, _store
from ._cli_format import (
    Output,
    counts_table,
    format_duration,
    format_json,
    format_time,
    table,
)
from ._nofollow import directory_problem, require_directory
from .entries import Entry
from .errors import DamagedResource, HadrosaurError, UnknownResource
from .follow import LogFollower
from .project import Project
from .resource import COMPLETED, ERROR, PENDING, UNAVAILABLE, Resource
from .runner import recompute

__all__ = (
    "cmd_error",
    "cmd_log",
    "cmd_ls",
    "cmd_recompute",
    "cmd_reindex",
    "cmd_show",
    "cmd_stats",
    "cmd_tui",
)

#: Entries read per opening of the index, so that other readers get a turn.
LS_PAGE = 20_000
#: How often ``log -f`` looks at the file.
FOLLOW_INTERVAL = 0.2


def _print_json(value: Any) -> None:
    print(format_json(value))


def _stdout(args: argparse.Namespace) -> Output:
    """Standard output as the command line's --raw / --visible flags want it."""
    return Output(sys.stdout, getattr(args, "display", "auto"))


def _project(args: argparse.Namespace) -> Project:
    timeout = getattr(args, "index_timeout", None)
    if timeout is None:
        return Project(args.base, create=False)
    return Project(args.base, create=False, index_timeout=timeout)


def _require_resource(proj: Project, collection: str, ident: str) -> str:
    """The resource's status; UnknownResource when it never started and has no directory."""
    status = proj.status(collection, ident)
    if status == UNAVAILABLE and not (proj.base / collection / ident).is_dir():
        raise UnknownResource(collection, ident, proj.base)
    return status


def _warn_skipped(proj: Project) -> None:
    """One line on stderr per directory of the base that cannot be a collection."""
    for skipped in proj.skipped_directories():
        print(
            f"hadrosaur: warning: skipped {skipped.name!r} in {proj.base}: {skipped.reason}",
            file=sys.stderr,
        )


def cmd_stats(args: argparse.Namespace) -> int:
    proj = _project(args)
    if not args.collection:
        _warn_skipped(proj)
    names = [args.collection] if args.collection else proj.collections()
    _print_counts(args, proj, {name: proj.stats(name)["counts"] for name in names})
    return 0


def _print_counts(args: argparse.Namespace, proj: Project, counts: dict[str, Any]) -> None:
    if args.json:
        _print_json({name: {"counts": c} for name, c in counts.items()})
    elif not counts:
        print(f"no collections in {proj.base}")
    else:
        out = _stdout(args)
        print(counts_table({out.cell(name): c for name, c in counts.items()}))


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
    proj = _project(args)
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
        _print_json([_entry_json(e) for e in entries])
        return 0
    if not entries:
        which = f"{args.status} resources" if args.status else "resources"
        print(f"no {which} in {args.collection}", file=sys.stderr)
        return 0
    now = int(time.time() * 1000)
    cell = _stdout(args).cell
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


def _reason(proj: Project, collection: str, ident: str) -> str:
    try:
        text = proj.fetch_error(collection, ident)
    except DamagedResource as exc:  # error.log is a symlink...: say so, read nothing
        return exc.problem
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def cmd_show(args: argparse.Namespace) -> int:
    proj = _project(args)
    _require_resource(proj, args.collection, args.ident)
    res = proj.load(args.collection, args.ident, strict=False)
    damaged = bool(res.problem)  # e.g. a symlinked resource directory: nothing to read in it
    reason = _reason(proj, res.collection, res.ident) if res.status == ERROR and not damaged else ""
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
        _print_json(info)
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
    _stdout(args).write("\n".join(lines) + "\n")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    proj = _project(args)
    _require_resource(proj, args.collection, args.ident)
    out = _stdout(args)
    if args.follow:
        return _follow(proj.base / args.collection / args.ident, out)
    text = proj.fetch_log(args.collection, args.ident)
    if not text:
        print(f"{args.collection}/{args.ident} has no log", file=sys.stderr)
    out.write(text)
    return 0


def _follow(res_dir: Path, out: Output) -> int:
    """Print the log, rotated parts first, then what is appended, until Ctrl-C."""
    # Not looked into if it is a symlink; the files in it are opened without following.
    require_directory(str(res_dir), "a resource directory")
    log = res_dir / _layout.LOG_FILE
    backups = [p for p in res_dir.glob(_layout.LOG_FILE + ".*") if p.suffix[1:].isdigit()]
    for part in sorted(backups, key=lambda p: int(p.suffix[1:]), reverse=True):
        out.write(_store.read_text(res_dir, part.name))
    follower = LogFollower(log)
    held = ""  # a CR that ends an update: it may be the CR of a CRLF split across updates
    try:
        while True:
            update = follower.read()
            if update.reset:
                out.write(held)
                held = ""
                out.flush()
                print(f"--- {log} was truncated or replaced; from its top:", file=sys.stderr)
            text = held + update.text
            held = ""
            if out.escapes and text.endswith("\r"):
                text, held = text[:-1], "\r"
            if text:
                out.write(text)
                out.flush()
            time.sleep(FOLLOW_INTERVAL)
    except KeyboardInterrupt:
        out.write(held)
        return 130  # as tail -f: interrupted by Ctrl-C (128 + SIGINT)


def cmd_error(args: argparse.Namespace) -> int:
    proj = _project(args)
    status = _require_resource(proj, args.collection, args.ident)
    text = proj.fetch_error(args.collection, args.ident)
    if not text:
        print(f"{args.collection}/{args.ident} has no error (it is {status})", file=sys.stderr)
    _stdout(args).write(text)
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    proj = _project(args)
    idents = list(args.idents)
    for ident in idents:
        _require_resource(proj, args.collection, ident)
    for status in args.status or ():
        idents.extend(proj.fetch_by_status(args.collection, status))
    idents = list(dict.fromkeys(idents))
    if not idents:
        if not args.status:
            raise HadrosaurError("name the idents to recompute, or select them with --status")
        print(f"nothing to recompute: no {' or '.join(args.status)} resources", file=sys.stderr)
        return 0
    width = max(len(i) for i in idents)
    counts: dict[str, int] = {}
    cell = _stdout(args).cell

    def report(res: Resource) -> None:
        counts[res.status] = counts.get(res.status, 0) + 1
        reason = cell(_reason(proj, res.collection, res.ident)) if res.status == ERROR else ""
        cells = [res.ident.ljust(width), res.status.ljust(9), format_duration(res.duration_ms)]
        print("  ".join(cells) + (f"  {reason}" if reason else ""), flush=True)

    recompute(
        proj.base,
        args.collection,
        idents,
        app=args.app,
        log_output=args.log_output,
        on_result=report,
    )
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"recomputed {len(idents)}: {summary}")
    return 1 if counts.get(ERROR) else 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild each index; exit 1 when one could not be written (the counts come from a scan)."""
    proj = _project(args)
    if not args.collection:
        _warn_skipped(proj)
    names = [args.collection] if args.collection else proj.collections()
    counts: dict[str, dict[str, int]] = {}
    unwritable = 0
    for name in names:
        for line in proj.repair_layout(name):
            print(f"hadrosaur: {line}", file=sys.stderr)
        with proj.view(name) as view:
            if view.fallback:
                unwritable += 1
                print(
                    f"hadrosaur: error: cannot write the index of {name!r} ({view.fallback}); "
                    "the counts shown are from a scan of its directories. Make "
                    f"{proj.base / name} writable and run reindex again",
                    file=sys.stderr,
                )
            elif not view.rebuilt:
                view.rebuild()
            counts[name] = view.counts()
    _print_counts(args, proj, counts)
    rebuilt = len(counts) - unwritable
    if rebuilt and not args.json:
        print(f"rebuilt the index of {rebuilt} collection(s) from their directories")
    return 1 if unwritable else 0


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        app = importlib.import_module("hadrosaur_tui.app")
    except ModuleNotFoundError as exc:
        if exc.name not in ("hadrosaur_tui", "hadrosaur_tui.app"):
            raise HadrosaurError(f"the TUI cannot start: {exc}") from exc
        app = None
    run = getattr(app, "run", None)
    if not callable(run):
        raise HadrosaurError(
            "the TUI is not installed (no hadrosaur_tui.app.run); install hadrosaur with its "
            "TUI, or use the other hadrosaur commands"
        )
    return int(run(args.base))
