"""Checking the index against the directories, the truth it is a cache of.

Like diskcache's ``check``: a fresh scan is compared with what the index
holds, record by record and counter by counter; ``Project.check(fix=True)``
rebuilds when they differ.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .. import _store
from ..entries import Entry
from ..resource import UNAVAILABLE
from .codec import STORED_STATUSES
from .reads import IndexReader
from .rebuild import scanned_record
from .sweep import ProbeTally, is_ident

__all__ = ("Mismatch", "scan_mismatches")

#: (ident, in the index, on disk); a counter that disagrees has a descriptive ident.
Mismatch = tuple[str, Entry | None, Entry | None]


def scan_mismatches(coll_dir: Path, reader: IndexReader, tally: ProbeTally) -> list[Mismatch]:
    """Compare the index with a fresh scan of the directories.

    Returns (ident, in_index, on_disk) for every resource where they differ,
    ignoring planned-but-unstarted entries that have no directory. The kept
    markers must have been swept first: a death not yet swept is no mismatch.
    """
    on_disk: dict[str, Entry] = {}
    for ident, problem in _store.scan_entries(coll_dir):
        if not is_ident(ident):
            continue
        rec, _ = scanned_record(coll_dir, ident, tally, problem=problem)
        if rec is not None:
            on_disk[ident] = rec
    out: list[Mismatch] = []
    for rec in reader.entries():
        ident = rec.ident
        disk = on_disk.pop(ident, None)
        if disk is None and rec.status == UNAVAILABLE:
            continue
        if disk != rec:
            out.append((ident, rec, disk))
    out.extend((ident, None, disk) for ident, disk in sorted(on_disk.items()))
    entries = reader.entries()
    stored = reader.counts()
    actual: Counter[str] = Counter(r.status for r in entries)
    for status in STORED_STATUSES:
        if stored[status] != actual[status]:
            out.append((f"<count of {status}: {stored[status]} != {actual[status]}>", None, None))
    # The error groups against the records they are kept from.
    members: dict[str, list[str]] = {}
    for rec in entries:
        if rec.signature:
            members.setdefault(rec.signature, []).append(rec.ident)
    for group in reader.error_groups(0, 0):
        kept = reader.group_idents(group.signature)
        found = members.pop(group.signature, [])
        if kept != found or group.count != len(found):
            out.append(
                (f"<error group {group.signature}: {group.count} != {len(found)}>", None, None)
            )
    for signature, found in sorted(members.items()):
        out.append((f"<error group {signature}: missing, {len(found)} members>", None, None))
    return out
