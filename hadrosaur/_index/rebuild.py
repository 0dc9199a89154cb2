"""Rebuilding the index from a scan of the directories and the recorded plans.

The index is a cache: whenever it is missing, damaged, of another schema or
behind its last writer, it is recreated from the files, which are the truth.
A scan reads each resource's status with ``os.scandir`` and no stat where it
can; a resource read as pending is probed (see sweep.py for why the probe
comes before the read).

Two ways to run it. Holding the index lock, in place of an index that
cannot be read (missing, damaged, of another schema): readers wait, since
there is nothing they could read meanwhile, and the scan claims the markers
it reflects. Or aside, in place of a sound index (``reindex``, ``check
--fix``): the scan runs without the lock into a LevelDB of its own and
touches no marker, while readers keep using the old index; aside.py has the
protocol that brings what they drained meanwhile into the new one.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from .. import _markers, _plans, _store
from .._liveness import settle
from .._locks import lock_held
from .._records import damaged_entry
from ..entries import Entry
from ..resource import COMPLETED, PENDING
from .codec import STORED_STATUSES, encode_record
from .groups import GroupChanges
from .keys import SCHEMA_VERSION, VERSION_KEY, count_key, minute_key, record_key, status_key
from .sweep import ProbeTally, is_ident
from .writes import MINUTES_KEPT, WRITE_CHUNK, IndexWriter

__all__ = ("rebuild_index", "scanned_record")


def rebuild_index(
    coll_dir: Path, fresh: Callable[[], IndexWriter], tally: ProbeTally, *, markers: bool
) -> list[str]:
    """Recreate the index from a scan of the directories and the recorded plans.

    ``fresh``: closes the index's store and returns a writer to an empty one.
    ``markers``: the caller holds the index lock and the markers are handled
    here (below); False for the read-only fallback's index in memory and for
    a build aside (aside.py), which touch no marker. Returns the resources
    read as pending whose lock was held and that have no kept marker yet:
    kept here when ``markers``, else the caller's to keep.

    Markers present when the rebuild starts are claimed first and removed
    at the end (the scan already reflects them), except those of resources
    whose lock was held (see _markers.probe), which are kept; markers
    created during the scan are drained afterwards as usual. A resource
    read as pending is probed: interrupted if its lock is free, else
    given a kept marker so that a sweep notices its end.
    """
    claimed_before: list[str] = []
    kept_before: list[str] = []
    probed: set[str] = set()
    busy: set[str] = set()
    if markers:
        for _ in _markers.claim_all(coll_dir):
            pass
        claimed_before = _markers.claimed_names(coll_dir)
        kept_before = _markers.kept_names(coll_dir)
        # Probed before the scan, for the reason given in _markers.probe.
        probed = {n for n in (*claimed_before, *kept_before) if is_ident(n)}
        busy = _markers.probe(coll_dir, probed).busy
        tally.probed += len(probed)
    writer = fresh()
    store = writer.store
    counts: Counter[str] = Counter()
    minutes: Counter[int] = Counter()
    groups = GroupChanges()
    locked: list[str] = []
    for chunk in _markers.chunks(_store.scan_entries(coll_dir), WRITE_CHUNK):
        with store.write_batch() as wb:
            for ident, problem in chunk:
                if not is_ident(ident):
                    continue
                # Those probed before the scan are not probed again.
                known = (ident in busy) if ident in probed else None
                rec, held = scanned_record(coll_dir, ident, tally, known, problem)
                if rec is None:
                    continue
                if held and known is None:
                    locked.append(ident)
                wb.put(record_key(ident), encode_record(rec))
                wb.put(status_key(rec.status, ident), b"")
                counts[rec.status] += 1
                groups.join(wb, rec)
                if rec.status == COMPLETED and rec.end_time is not None:
                    minutes[rec.end_time // 60_000] += 1
    oldest = _store.now_ms() // 60_000 - MINUTES_KEPT
    with store.write_batch() as wb:
        for status in STORED_STATUSES:
            wb.put(count_key(status), str(counts[status]).encode())
        for minute, n in minutes.items():
            if minute >= oldest:
                wb.put(minute_key(minute), str(n).encode())
        groups.write(wb, store)
    log = writer.changelog
    log.restart()
    for plan_id in _plans.plan_ids(coll_dir):
        writer.apply_plan(_plans.read_plan(coll_dir, plan_id), plan_id, log=False)
    # The version goes in last: a rebuild killed half-way is redone next time.
    with store.write_batch(sync=writer.durable) as wb:
        log.put_epoch(wb)
        log.put_bounds(wb)
        wb.put(VERSION_KEY, SCHEMA_VERSION)
    if markers:
        _markers.keep(coll_dir, [n for n in claimed_before if n in busy] + locked)
        tally.just_kept.update(busy, locked)
        _markers.release_claimed(coll_dir, [n for n in claimed_before if n not in busy])
        _markers.release_kept(coll_dir, [n for n in kept_before if n not in busy])
    # Written in batches, the keys lie in overlapping level-0 tables that every
    # later reader would open; one sorted run makes a lookup open one table.
    store.compact()
    return locked


def scanned_record(
    coll_dir: Path, ident: str, tally: ProbeTally, held: bool | None = None, problem: str = ""
) -> tuple[Entry | None, bool]:
    """(record to keep, lock held) for one entry of a scan, for a rebuild or a check.

    ``held``: the result of a probe made before this call, if any. Else
    only a pending resource is probed, and then read again after the
    probe, so that "interrupted" always rests on a probe made before the read.
    ``problem``: why the scan found no real directory there (a symlink, a
    file): a damaged resource, never looked into.
    """
    if problem:
        return damaged_entry(ident, _store.damaged_dir_reason(problem)), False
    res_dir = f"{os.fspath(coll_dir)}/{ident}"
    rec = _store.read_record(res_dir, dir_checked=True)
    if rec is None or rec.status != PENDING:
        return rec, bool(held)
    if held is None:
        tally.probed += 1
        if lock_held(f"{res_dir}/{_store.LOCK_FILE}"):
            return rec, True
        rec = _store.read_record(res_dir, dir_checked=True)
        held = False
    return (None if rec is None else settle(rec, not held)), held
