"""Finding out, once, which pending resources died: kept markers, and why it is safe.

A pending resource is live while its worker holds its compute lock. Readers
of the index never probe that lock: the drain records ``interrupted`` in the
index the first time it finds a pending resource's lock free, and the entry
stays interrupted, unprobed, until the resource's next change marker. So a
read costs the same with 50,000 dead pending resources as with none.

Where deaths are found:

- **Applying a marker** (:meth:`~hadrosaur._index.drain.MarkerDrain.apply`): the locks of
  the claimed markers' resources are probed first, then the files are read.
  A marker whose lock was held moves to ``.updates/.kept/``; one whose lock
  was free is removed, and a pending status read after that probe is
  recorded as interrupted (:func:`~hadrosaur._liveness.settle`).
- **Kept markers** (:meth:`KeptSweep.run`): the resources whose
  lock was held when their marker was applied are examined again. Up to
  ``FEW_KEPT`` of them (a few workers' worth: a probe costs ~5 µs) by every
  opening, so a death shows at the next read; more than that at most once
  per ``sweep_interval`` per reading process, spending ``sweep_budget`` on
  live ones and resuming where the last sweep stopped (50,000 live ones are
  all examined in ~7 s at ~5% of a core). One whose lock is now free is
  re-read and recorded like a marker, and its kept marker removed; a sweep
  finding deaths goes on (a mass death is change, not idle cost), past the
  last name and round to where it began, for a quarter of a second in the
  opening that finds the first deaths (so that they show soon), then up to
  ``DEATH_BUDGET`` per opening.
  The listing of ``.kept/`` is made again only when the directory changed
  (only holders of the index lock change it, and a sweep accounts for its
  own unlinks), so the openings that record a mass death do not list
  50,000 names each.
- **A rebuild** probes each resource it reads as pending (see rebuild.py).

Why recording "interrupted" never hides a newer state. Writers take the
compute lock, create the marker ``.updates/IDENT``, and only then change any
file of the resource. The drain probes the lock (instant L), then reads the
status file (S > L), then writes its batch (W > S). If the lock was free at
L, any process that changes the resource's files after L took the lock after
L, so it created its marker after L, and that marker was not among those
this drain claimed before L (claims are renames of markers listed before the
probe; a new marker is a new file in ``.updates/``). A drain applies a
marker in a batch written after that marker's claim, and claims happen
only after all earlier batches of the same drain are written, so that later
marker is applied by a batch after W, which re-reads the files. Hence after
W the index holds either the files' state as of S (nothing changed since),
or a state that a marker still waiting in ``.updates/`` will correct:
exactly the invariant every other record of the index keeps. The kept-marker
sweep follows the same order (probe, read, write) for each resource, in
whatever order it takes the resources and however many openings a pass
spans, and so does a rebuild (probe, then read again). A kept marker is
unlinked only after the batch recording its resource is written, by the
same holder of the index lock: no drain can keep a newer marker of that
resource in between.

The sweep's shortcut (a kept resource of this host, free, whose status file
still says pending, is recorded from its pending entry without reading
meta.json) needs one more step. The worker that held the lock may have
written files after the drain read its pending entry and before it died,
with no marker after them: result.json or error.log and then meta.json's end
time, just before the status (the commit point) it never wrote. A pending or
interrupted entry keeps no reason and no signature, so the first two do not
matter; and an interrupted entry keeps no end time (_liveness.interrupted),
so neither does the last. Every other field (start time, host) was written
before the pending status the entry was read from.
"""

from __future__ import annotations

import os
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from .. import _markers, _store
from .._names import check_ident
from ..errors import InvalidName
from .writes import IndexWriter

__all__ = (
    "DEATH_BUDGET",
    "DEFAULT_SWEEP_BUDGET",
    "DEFAULT_SWEEP_INTERVAL",
    "FEW_KEPT",
    "KeptSweep",
    "ProbeTally",
    "is_ident",
    "reset_sweeps",
)

#: Seconds between two sweeps of the kept markers by one process.
DEFAULT_SWEEP_INTERVAL = 0.5
#: Seconds a sweep may spend probing locks it finds held (~4,000 probes).
DEFAULT_SWEEP_BUDGET = 0.02
#: Seconds a sweep that keeps finding deaths may go on before the next opening continues.
DEATH_BUDGET = 1.0
#: Seconds a sweep that begins to find deaths spends before its opening ends and shows them.
_FIRST_DEATHS_BUDGET = 0.25
#: A sweep due within this fraction of its interval runs now: a reader polling every
#: interval would otherwise find it just short of due half the time, and wait twice as long.
_EARLY = 0.1
#: Seconds after which a listing of .kept/ is made again even if its mtime is unchanged.
_LISTING_MAX_AGE = 5.0
#: Up to this many kept markers are examined by every opening, unthrottled.
FEW_KEPT = 64
#: Kept markers examined per probe-and-apply step (one WriteBatch).
_SWEEP_CHUNK = 500


@dataclass
class ProbeTally:
    """What one opening of the index found out about compute locks.

    Shared by its drain, its sweeps and its rebuilds: a resource whose
    marker the opening kept was probed just now, so its sweep skips it.
    """

    #: Locks probed by this opening (for tests and diagnostics).
    probed: int = 0
    #: True when this opening's sweep stopped at its time bound while finding deaths.
    sweep_unfinished: bool = False
    #: Resources whose markers this opening kept (their locks were just probed).
    just_kept: set[str] = field(default_factory=set)


@dataclass
class _Sweep:
    """Where this process's sweep of one collection's kept markers stands."""

    at: float = float("-inf")  # time.monotonic() when the last sweep began
    after: str = ""  # the last kept marker examined: the next sweep resumes after it
    hurry: bool = False  # the last sweep stopped while still finding deaths
    many: bool = False  # the last sweep found more than FEW_KEPT kept markers
    names: list[str] = field(default_factory=list)  # the last listing of .kept/, sorted
    strays: frozenset[str] = frozenset()  # those of them that are not idents
    stamp: tuple[int, int, int, int] | None = None  # .kept/'s stamp then (see _stamp)
    listed_at: float = float("-inf")


#: Per collection directory; a cache that is safe to drop (a dropped entry means
#: the next opening sweeps at once, from the start).
_sweeps: dict[str, _Sweep] = {}


class KeptSweep:
    """The sweep of one collection's kept markers, writing what it finds with ``writer``.

    ``interval`` and ``budget``: see :meth:`run`; ``tally``: the opening's.
    """

    def __init__(
        self, writer: IndexWriter, tally: ProbeTally, interval: float, budget: float
    ) -> None:
        self.writer = writer
        self.coll_dir = writer.coll_dir
        self.tally = tally
        self.interval = interval
        self.budget = budget

    def run(self, force: bool = False) -> None:
        """Re-examine kept markers: record the resources whose lock is free now.

        When the last sweep found many, at most once per ``sweep_interval``
        per process, spending about ``sweep_budget`` seconds on locks found
        held: a reader's cost follows what changed, not how many resources
        are being computed. Deaths found are change, so a sweep that keeps
        finding them goes on, past the end of the names and round to where
        it began, and the next opening continues at once
        (``sweep_unfinished``): the first for ``_FIRST_DEATHS_BUDGET``, so
        that the first deaths show soon, each next one up to
        ``DEATH_BUDGET``. ``force``: all of them, now (for check()).
        """
        tally = self.tally
        state = _sweeps.setdefault(os.fspath(self.coll_dir), _Sweep())
        now = time.monotonic()
        due = not state.many or state.hurry or now - state.at >= self.interval * (1 - _EARLY)
        if not (force or due):
            return
        names = self._kept_listing(state, now)
        state.many = len(names) > FEW_KEPT
        # A pass goes through the names in order; one cut short resumes where it stopped.
        start = bisect_right(names, state.after) if state.after else 0
        # The first deaths are shown soon (the opening ends, the reader posts them),
        # then each opening that goes on with them takes DEATH_BUDGET.
        stop_at = now + (DEATH_BUDGET if state.hurry else _FIRST_DEATHS_BUDGET)
        quiet_until = now + self.budget
        done = 0
        dying = False
        released: list[str] = []
        stopped = False
        # Past the end, on from the first name only while finding deaths: a mass
        # death found half-way through a pass is recorded whole, not an interval later.
        for k, segment in enumerate((names[start:], names[:start])):
            if k and done and not dying:
                break
            for chunk in _markers.chunks(segment, _SWEEP_CHUNK):
                clock = time.monotonic()
                if (
                    not force
                    and done
                    and (clock >= stop_at or (clock >= quiet_until and not dying))
                ):
                    stopped = True
                    break
                dying = self._examine(chunk, state.strays, released)
                done += len(chunk)
                state.after = chunk[-1]
            if stopped:
                break
        state.hurry = tally.sweep_unfinished = dying and stopped
        if not stopped:
            state.after = ""  # every name examined: the next pass starts from the first
        if released:
            self._forget(state, released)
        # From its start: a reader polling every sweep_interval finds the next one due.
        state.at = now

    def _examine(self, chunk: list[str], strays: frozenset[str], released: list[str]) -> bool:
        """Probe, record and release one chunk of kept markers; True if it found deaths.

        ``strays``: names that are not idents (not ours: released unread).
        """
        tally = self.tally
        idents = [n for n in chunk if n not in strays and n not in tally.just_kept]
        probe = _markers.probe(self.coll_dir, idents)
        tally.probed += len(idents)
        free = [i for i in idents if i not in probe.busy]
        if free:
            self.writer.apply_resources(free, probe, kept=True)
        gone = [n for n in chunk if n not in probe.busy and n not in tally.just_kept]
        _markers.release_kept(self.coll_dir, gone)
        released.extend(gone)
        return bool(free)

    def _kept_listing(self, state: _Sweep, now: float) -> list[str]:
        """The sorted names in .kept/, listed again only when the directory changed.

        Only holders of the index lock change .kept/, so its mtime, checked
        under the lock, tells whether the last listing still holds; a coarse
        clock may give two changes one mtime, so a listing also expires.
        """
        stamp = self._stamp()
        if stamp is None:
            return []
        if stamp != state.stamp or now - state.listed_at > _LISTING_MAX_AGE:
            state.names = sorted(_markers.kept_names(self.coll_dir))
            state.strays = frozenset(n for n in state.names if not is_ident(n))
            state.stamp, state.listed_at = stamp, now
        return state.names

    def _forget(self, state: _Sweep, released: list[str]) -> None:
        """Drop the markers this sweep unlinked from the listing, which then still holds.

        The index lock has been held since the listing was made, so these
        unlinks are the only changes to .kept/ since: the next opening need
        not list 50,000 names again because this one removed some.
        """
        gone = set(released)
        state.names = [n for n in state.names if n not in gone]
        state.strays = state.strays - gone
        state.stamp = self._stamp()

    def _stamp(self) -> tuple[int, int, int, int] | None:
        """What tells a change of .kept/ (None when there is no .kept/).

        Its mtime, ctime and inode, and its size: tmpfs counts a directory's
        entries in its size, which tells two changes apart even within one
        tick of a coarse clock.
        """
        try:
            st = os.stat(f"{os.fspath(self.coll_dir)}/{_store.UPDATES_DIR}/{_markers.KEPT_DIR}")
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)


def is_ident(name: str) -> bool:
    try:
        check_ident(name)
    except InvalidName:
        return False
    return True


def reset_sweeps(coll_dir: Path) -> None:
    """Forget this process's sweep state of a collection (the next opening sweeps at once)."""
    _sweeps.pop(os.fspath(coll_dir), None)
