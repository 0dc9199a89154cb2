"""``hadrosaur log`` and ``hadrosaur error``: a resource's log (also followed) and traceback."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import _layout, _store
from .._nofollow import require_directory
from ..follow import LogFollower
from ._opening import open_project, require_resource, stdout_for
from ._output import Output

__all__ = ("cmd_error", "cmd_log")

#: How often ``log -f`` looks at the file.
FOLLOW_INTERVAL = 0.2


def cmd_log(args: argparse.Namespace) -> int:
    proj = open_project(args)
    require_resource(proj, args.collection, args.ident)
    out = stdout_for(args)
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
            if update.before:  # the end of a rotated file, before the notice
                out.write(held + update.before)
                held = ""
                out.flush()
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
    proj = open_project(args)
    status = require_resource(proj, args.collection, args.ident)
    text = proj.fetch_error(args.collection, args.ident)
    if not text:
        print(f"{args.collection}/{args.ident} has no error (it is {status})", file=sys.stderr)
    stdout_for(args).write(text)
    return 0
