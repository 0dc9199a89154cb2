"""``hadrosaur stats`` and ``hadrosaur reindex``: counts per status, one row per collection."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..project import Project
from ._opening import open_project, print_json, stdout_for, warn_skipped
from ._output import counts_table

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
    """Rebuild each index; exit 1 when one could not be written (the counts come from a scan)."""
    proj = open_project(args)
    if not args.collection:
        warn_skipped(proj)
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
