"""Plans: the ident sets fetch_many is about to compute, kept in ``COLL/.plans/``.

A plan lets readers count the resources not started yet as ``unavailable``,
so that totals, progress and ETA mean something from the first second of a
run. Each plan is one file, ``.plans/SHA.txt`` with one ident per line, named
by a hash of the sorted set: planning the same set again writes nothing. The
plan file is written atomically first, then its marker ``.updates/.plan.SHA``
tells the index to add it. A writer that dies between the two leaves a plan
without a marker, which the index applies all the same: it compares the plan
files with what it applied whenever their number changes (see _index/drain.py).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from . import _markers
from ._layout import PLAN_MARKER_PREFIX, PLANS_DIR
from ._nofollow import directory_problem, read_regular, require_directory
from ._store import atomic_write

__all__ = ("plan_ids", "read_plan", "write_plan")


def write_plan(coll_dir: Path, idents: Iterable[str], durable: bool = False) -> str:
    """Record a planned set of idents and mark it for the index; return the plan's id.

    The id is a hash of the sorted set, so planning the same set twice writes
    nothing new.
    """
    unique = sorted(set(idents))
    body = "".join(f"{ident}\n" for ident in unique).encode("utf-8")
    plan_id = hashlib.sha256(body).hexdigest()[:20]
    plans = coll_dir / PLANS_DIR
    path = plans / f"{plan_id}.txt"
    if not path.exists():
        plans.mkdir(parents=True, exist_ok=True)
        require_directory(str(plans), "a directory of plans")  # RefusedPath if a link
        atomic_write(path, body, durable)
        # Looked up on the module, so that tests/reliability can stop a writer here.
        _markers.touch_marker(coll_dir, PLAN_MARKER_PREFIX + plan_id, durable)
    return plan_id


def read_plan(coll_dir: Path, plan_id: str) -> list[str]:
    """The idents of one plan ([] if the plan file is gone or unreadable).

    Bytes that are not UTF-8 become lone surrogates, which no valid ident
    contains, so a garbled line is dropped rather than misread.
    """
    if directory_problem(coll_dir / PLANS_DIR):
        return []  # never read through a link
    try:
        raw = read_regular(coll_dir / PLANS_DIR / f"{plan_id}.txt")
    except OSError:
        return []
    if raw is None:
        return []
    return [line for line in raw.decode("utf-8", "surrogateescape").split("\n") if line]


def plan_ids(coll_dir: Path) -> list[str]:
    """The ids of every plan recorded for a collection (none if .plans is a symlink)."""
    if directory_problem(coll_dir / PLANS_DIR):
        return []  # never listed or read through a link
    try:
        with os.scandir(coll_dir / PLANS_DIR) as entries:
            return sorted(
                e.name[: -len(".txt")]
                for e in entries
                if e.name.endswith(".txt") and not e.name.startswith(".")
            )
    except FileNotFoundError:
        return []
