"""Draining: claiming the change markers and applying them to the index.

Drain protocol (crash-safe, no lost update): each marker is first renamed into
``.updates/.claimed/``, then the resource's status is read, the change is
applied in one WriteBatch, and only then is the claimed marker unlinked. A
drainer killed half-way leaves claimed markers that the next one applies
first; applying a record that the index already holds changes nothing, so a
marker is applied exactly once in effect. The error groups (groups.py) change
in the record's own batch and only when the record does (it holds the
signature), so they are exact under the same argument. Writers write the status before
the marker, so a marker created after a claim carries a newer status and is
drained next time. The marker of a resource whose compute lock was held
moves to ``.updates/.kept/`` and is examined again until the lock is free;
a pending resource found with its lock free is recorded interrupted (see
sweep.py, which also proves that this never hides a newer state).
Plans are also compared with the ``P/`` keys whenever the number of plan
files changes, so a plan whose marker was never written (its
writer died between the two) is applied all the same.

What one change costs: ``.updates/`` is listed once, and markers are applied
in chunks of ``_DRAIN_CHUNK``, one WriteBatch each; per marker there is one
rename (the claim), one lock probe, one read each of ``status`` and
``meta.json``, and one unlink, each named from a descriptor of its
directory rather than by a whole path looked up from ``/`` (the README's
Benchmarks say what these system calls cost). ``.kept/`` is listed once per
drain, so a released marker is unlinked there only if it is there.
While a new index is built aside (aside.py), every resource applied is also
recorded for each live builder (``k/`` keys, before the claimed markers are
unlinked), which is how the builder learns what to re-read before its swap.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import _markers, _plans, _store
from .._names import check_ident
from ..errors import InvalidName
from .aside import record_drained
from .keys import PLAN_COUNT_KEY, plan_applied_key
from .sweep import KeptSweep
from .writes import IndexWriter

__all__ = ("MarkerDrain",)

_DRAIN_CHUNK = 2000


class MarkerDrain:
    """The drain of one collection's markers into an index, by ``writer``, then ``sweep``.

    ``builders``: the tokens of the builds aside running now (aside.py).
    """

    def __init__(self, writer: IndexWriter, sweep: KeptSweep, builders: Sequence[str] = ()) -> None:
        self.writer = writer
        self.sweep = sweep
        self.coll_dir = writer.coll_dir
        self.builders = builders

    def run(self) -> int:
        """Apply every pending marker to the index; return how many were applied."""
        # Leftovers of a drainer that died between claim and unlink come first.
        leftovers = _markers.claimed_names(self.coll_dir)
        # Only drainers (under the index lock, so none but this one now) put
        # markers in .kept/: listed once, it says which free ones to unlink there.
        kept = set(_markers.kept_names(self.coll_dir))
        applied = 0
        for chunk in _markers.chunks(leftovers, _DRAIN_CHUNK):
            applied += self.apply(chunk, kept)
        for chunk in _markers.chunks(_markers.claim_all(self.coll_dir), _DRAIN_CHUNK):
            applied += self.apply(chunk, kept)
        self._apply_unmarked_plans()
        # Last, after every claim: see the proof in sweep.py.
        self.sweep.run()
        return applied

    def apply(self, names: list[str], kept: set[str]) -> int:
        """Apply claimed markers; keep those whose lock was held, release the others.

        ``kept``: the names in .kept/ (see run); those kept here are added.
        """
        tally = self.sweep.tally
        idents = []
        for name in names:
            if name.startswith(_store.PLAN_MARKER_PREFIX):
                plan_id = name[len(_store.PLAN_MARKER_PREFIX) :]
                self.writer.apply_plan(_plans.read_plan(self.coll_dir, plan_id), plan_id)
            else:
                try:
                    idents.append(check_ident(name))
                except InvalidName:
                    pass  # not a marker we wrote; dropping it below is all there is to do
        # Probed before the files are read: see sweep.py's docstring and _markers.probe.
        probe = _markers.probe(self.coll_dir, idents)
        tally.probed += len(idents)
        if idents:
            self.writer.apply_resources(idents, probe)
            if self.builders:
                record_drained(self.writer.store, self.builders, idents, self.writer.durable)
        busy = probe.busy
        _markers.keep(self.coll_dir, [name for name in names if name in busy])
        kept |= busy
        tally.just_kept.update(busy)  # probed just now: this opening's sweep skips them
        free = [name for name in names if name not in busy]
        _markers.release_claimed(self.coll_dir, free)
        # A kept marker of the same resource is done with too: read after a free probe.
        done = [name for name in free if name in kept]
        _markers.release_kept(self.coll_dir, done)
        kept.difference_update(done)
        return len(names)

    def _apply_unmarked_plans(self) -> None:
        """Apply the plans whose marker never came (their writer died between the two).

        Checking every plan at every drain would cost a read per plan per
        reader; the count of plan files tells when there is anything new.
        """
        store = self.writer.store
        plan_ids = _plans.plan_ids(self.coll_dir)
        count = str(len(plan_ids)).encode()
        if store.get(PLAN_COUNT_KEY) == count:
            return
        for plan_id in plan_ids:
            if store.get(plan_applied_key(plan_id)) is None:
                self.writer.apply_plan(_plans.read_plan(self.coll_dir, plan_id), plan_id)
        with store.write_batch(sync=self.writer.durable) as wb:
            wb.put(PLAN_COUNT_KEY, count)
