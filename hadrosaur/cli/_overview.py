"""``hadrosaur stats`` and ``hadrosaur reindex``: counts per status, one row per collection."""

from __future__ import annotations

import argparse
import errno
import sys
from typing import Any

from ..errors import HadrosaurError
from ..project import Project
from ._opening import open_project, print_json, stdout_for, warn_skipped
from ._output import Output, counts_table

__all__ = ("cmd_reindex", "cmd_stats")


def cmd_stats(args: argparse.Namespace) -> int:
    proj = open_project(args)
    if not args.collection:
        warn_skipped(proj)
    names = [args.collection] if args.collection else proj.collections()
    _print_counts(args, proj, {name: proj.stats(name)["counts"] for name in names})
    return 0


def _print_counts(args: argparse.Namespace, proj: Project, counts: dict[str, Any]) -> None:
    if args.json:
        print_json({name: {"counts": c} for name, c in counts.items()})
    elif not counts:
        print(f"no collections in {proj.base}", file=sys.stderr)
    else:
        out = stdout_for(args)
        print(counts_table({out.cell(name): c for name, c in counts.items()}))


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild each index, going on past a collection it refuses; exit with the worst code.

    0 when every index was rebuilt; 1 when one could only be read (a
    read-only base: its counts come from a scan); 2 when one was refused (a
    non-empty ``.index.lock`` directory, another user's collection...). A
    refusal is said on stderr, and the counts of the others are printed.
    """
    proj = open_project(args)
    if not args.collection:
        warn_skipped(proj)
    names = [args.collection] if args.collection else proj.collections()
    counts: dict[str, dict[str, int]] = {}
    unwritable = refused = 0
    for name in names:
        try:
            read_only = not _repair(proj, name)
            with proj.view(name) as view:
                if view.fallback or read_only:
                    unwritable += 1
                    why = view.fallback or "the base is read-only"
                    _error(
                        f"cannot write the index of {name!r} ({why}); the counts shown are "
                        f"from a scan of its directories. Make {proj.base / name} writable "
                        "and run reindex again"
                    )
                elif not view.rebuilt:
                    view.rebuild()
                counts[name] = view.counts()
        except (HadrosaurError, OSError) as exc:
            refused += 1
            _error(f"skipped {name!r}: {_describe(exc)}")
    _print_counts(args, proj, counts)
    rebuilt = len(counts) - unwritable
    if rebuilt and not args.json:
        print(f"rebuilt the index of {rebuilt} collection(s) from their directories")
    return 2 if refused else 1 if unwritable else 0


def _repair(proj: Project, name: str) -> bool:
    """Repair the collection's layout, saying what was removed; False on a read-only base.

    A read-only file system cannot be repaired, but it can still be read
    from a scan: that is the caller's exit 1, not a refusal.
    """
    try:
        for line in proj.repair_layout(name):
            print(f"hadrosaur: {line}", file=sys.stderr)
    except OSError as exc:
        if exc.errno != errno.EROFS:
            raise
        where = exc.filename or proj.base / name
        _error(f"cannot repair {where} (read-only); the counts of {name!r} come from a scan")
        return False
    return True


def _describe(exc: BaseException) -> str:
    """An error in words: a HadrosaurError's own message, an OSError's reason and path."""
    if isinstance(exc, OSError) and not isinstance(exc, HadrosaurError) and exc.strerror:
        where = f" at {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    return " ".join(str(exc).split("\n"))


def _error(message: str) -> None:
    # Messages name paths inside the base directory, which anyone may have named.
    print(f"hadrosaur: error: {Output(sys.stderr).cell(message)}", file=sys.stderr)
