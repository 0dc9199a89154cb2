"""``hadrosaur errors``: a collection's errors grouped by cause, and ``--group`` for ls/recompute.

One row per cause (signature), largest first, from the index's error groups:
reading them costs O(groups), whatever the size of the collection. A group's
signature, or its first 4 digits or more (as git abbreviates hashes), selects
its members in ``hadrosaur ls --group`` and ``hadrosaur recompute --group``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..entries import ErrorGroup
from ..project import Project
from ._opening import open_project, print_json, stdout_for
from ._output import format_time, table

__all__ = ("MESSAGE_WIDTH", "cmd_errors", "group_fields", "group_members")

#: Characters of a group's message shown in the table (``--json`` has all of it).
MESSAGE_WIDTH = 80


def group_fields(group: ErrorGroup) -> dict[str, Any]:
    """The JSON object of one group: exactly these keys, times in epoch ms."""
    return {
        "signature": group.signature,
        "exception": group.exception,
        "message": group.message,
        "count": group.count,
        "examples": list(group.examples),
        "first_seen": group.first_seen,
        "last_seen": group.last_seen,
    }


def _shortened(text: str, width: int = MESSAGE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_errors(args: argparse.Namespace) -> int:
    proj = open_project(args)
    groups = proj.error_groups(args.collection)
    if args.json:
        print_json([group_fields(g) for g in groups])
        return 0
    if not groups:
        print(f"no errors in {args.collection}", file=sys.stderr)
        return 0
    cell = stdout_for(args).cell
    rows = [
        [
            str(g.count),
            cell(g.exception or "-"),
            cell(_shortened(g.message) or "-"),
            format_time(g.first_seen),
            format_time(g.last_seen),
            g.signature,
            cell(g.examples[0] if g.examples else "-"),
        ]
        for g in groups
    ]
    headers = ["COUNT", "EXCEPTION", "MESSAGE", "FIRST SEEN", "LAST SEEN", "SIGNATURE", "EXAMPLE"]
    print(table(headers, rows))
    return 0


def group_members(proj: Project, collection: str, prefix: str) -> tuple[str, list[str]]:
    """(signature, its idents) of the one group ``prefix`` names; UnknownErrorGroup if none.

    Resolved and listed under one opening of the index, so that the idents
    are those of the group the signature names at that moment.
    """
    with proj.view(collection) as view:
        signature = view.resolve_group(prefix)
        return signature, view.group_idents(signature)
