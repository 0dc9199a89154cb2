"""Watching the leases of other hosts' pending resources, across short-lived readers.

On this host a dead worker's resource is found by its free compute lock
(sweep.py). A pending resource whose host is another one is watched through
its lease instead (hadrosaur/_lease.py): it is dead once readers of *this*
host have seen its ``.lease`` unchanged for ``EXPIRY_INTERVALS`` of its
writer's intervals, measured on this host's monotonic clock.

A reader such as ``hadrosaur stats`` lives for a fraction of a second, far
less than the bound. So what readers of this host saw is kept in the index,
one watch per resource (``o/HOST\\0IDENT``: the boot of this machine, the
lease's value, when it was first seen, the writer's interval, the attempt's
start time), and each opening continues the watch the last one left: the
first ``stats`` after a death starts the watch, and any reader of this host
after the bound records the death. Monotonic readings are comparable between
processes of one boot only, so a watch from another boot is dropped (and a
clock that went backwards restarts a watch). Readers of another host keep
watches of their own, under their own host name: no clock is ever compared
with another machine's.

Which resources are watched follows the change log, from the position the
last pass of this host reached (``o/HOST``): a change to pending on another
host starts a watch, any other change ends it; a rebuild (a new epoch), a
trimmed log or the first pass reads the pending list once instead. So a
pass costs what changed, plus one read of a small file per watched
resource, at most every ``poll`` seconds per process.

Recording the death takes the same path as a local one
(``IndexWriter.apply_resources``): the lock is probed (a lock visibly held
means the process is alive, whatever its lease says), the files are read
again, and the entry becomes interrupted only if it is still the pending
attempt that was watched (its start time; see ``_markers.Probe.expired``). A
worker that starts the resource again afterwards writes a change marker
that the next drain applies (the proof in sweep.py).

Not kept for a read-only base (the index is then built in memory at each
opening): there, another host's pending resources stay pending.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .. import _markers, _store
from .._lease import LeaseWatch, boot_id, read_lease, remote_lease
from .._liveness import is_local, local_host
from ..entries import Entry
from ..resource import PENDING
from .codec import RELOAD_CHANGE, decode_change, encode_change, encode_record
from .keys import LOG_END, log_key, watch_key, watch_prefix, watch_state_key
from .writes import IndexWriter

__all__ = ("LeaseSweep", "Watch")

#: The separator between a change's ident and its record (a reload is only it and a mark).
_SEP = RELOAD_CHANGE[:1]
#: What a change-log entry to pending holds right after its ident: SEP pending SEP.
_PENDING_CHANGE = encode_change("", encode_record(Entry("", PENDING)))[: len(PENDING) + 2]
#: Per collection directory: when this process last read the watched leases.
#: A cache that is safe to drop (the next pass reads them at once).
_read_at: dict[str, float] = {}


@dataclass
class Watch:
    """What readers of this host saw of one resource's lease (kept as ``o/HOST\\0IDENT``)."""

    start_time: int | None
    interval: float
    value: bytes | None
    since: float

    def encode(self, boot: str) -> bytes:
        start = b"-" if self.start_time is None else b"%d" % self.start_time
        lease = b"-" if self.value is None else b"=" + self.value
        return b"\0".join(
            (boot.encode(), start, repr(self.interval).encode(), repr(self.since).encode(), lease)
        )

    @classmethod
    def decode(cls, raw: bytes, boot: str) -> Watch | None:
        """The watch, or None when it is from another boot or does not decode (start afresh)."""
        parts = raw.split(b"\0", 4)
        if len(parts) != 5 or parts[0] != boot.encode():
            return None
        start, interval, since, lease = parts[1:]
        try:
            return cls(
                None if start == b"-" else int(start),
                float(interval),
                None if lease == b"-" else lease[1:],
                float(since),
            )
        except ValueError:
            return None


class LeaseSweep:
    """One pass over the leases of other hosts' pending resources, writing with ``writer``."""

    def __init__(self, writer: IndexWriter, poll: float = 0.25) -> None:
        self.writer = writer
        self.store = writer.store
        self.reader = writer.reader
        self.coll_dir = writer.coll_dir
        self.poll = poll
        host = local_host().encode()
        self._state_key = watch_state_key(host)
        self._prefix = watch_prefix(host)
        self._boot = boot_id()
        #: Resources recorded interrupted by the last run (for tests and diagnostics).
        self.expired: list[str] = []

    def run(self) -> None:
        """Start and end watches from what changed, look at the leases, record the expired."""
        epoch, seq = self.reader.changelog.position
        now = time.monotonic()
        watches, dropped = self._load_watches()
        wanted, ended = self._changed_resources(epoch, dropped)
        changed: dict[str, Watch | None] = {}
        for ident in ended:
            if watches.pop(ident, None) is not None:
                changed[ident] = None
        fresh = set()
        for ident, entry in wanted.items():
            watch = watches.get(ident)
            if watch is None or watch.start_time != entry.start_time:
                watches[ident] = changed[ident] = self._new_watch(entry, now)
                fresh.add(ident)
        expired = self._look(watches, fresh, changed, now)
        self._write(changed, epoch, seq)
        if expired:
            self._record(expired)

    def _load_watches(self) -> tuple[dict[str, Watch], bool]:
        """This host's watches in the index; True if some were dropped (another boot, damage)."""
        watches = {}
        stale = []
        cut = len(self._prefix)
        for key, raw in self.store.iterator(prefix=self._prefix):
            watch = Watch.decode(raw, self._boot)
            if watch is None:
                stale.append(key)
            else:
                watches[key[cut:].decode("utf-8", "surrogateescape")] = watch
        if stale:
            with self.store.write_batch(sync=self.writer.durable) as wb:
                for key in stale:
                    wb.delete(key)
        return watches, bool(stale)

    def _changed_resources(self, epoch: str, dropped: bool) -> tuple[dict[str, Entry], set[str]]:
        """(entries to watch, idents no longer to watch) since this host's last pass.

        ``dropped``: watches were dropped, so the log alone would not start them again.
        """
        raw = self.store.get(self._state_key)
        last_boot, _, rest = (raw or b"").partition(b"\0")
        last_epoch, _, last_seq = rest.partition(b"\0")
        current = last_boot == self._boot.encode() and last_epoch == epoch.encode()
        if raw is not None and current and not dropped:
            changes = self._changes_after(int(last_seq) if last_seq.isdigit() else -1)
            if changes is not None:
                return changes
        # From the pending list: the first pass, a rebuild, a trimmed log, another boot.
        wanted = {}
        for ident in self.reader.idents(PENDING):
            entry = self.reader.get(ident)
            if entry is not None and _remote_pending(entry):
                wanted[ident] = entry
        ended = {i for i in self._watched_idents() if i not in wanted}
        return wanted, ended

    def _changes_after(self, seq: int) -> tuple[dict[str, Entry], set[str]] | None:
        """What the change log says after ``seq``; None when it cannot say (read the list).

        A mass death logs 50,000 changes in one opening, so a change is decoded
        only when it is to pending (found in its bytes) or of a watched resource.
        """
        if seq < 0 or seq + 1 < self.reader.changelog.first_seq:
            return None  # trimmed past
        wanted: dict[str, Entry] = {}
        ended: set[str] = set()
        watched = set(self._watched_idents())
        for _, raw in self.store.iterator(start=log_key(seq + 1), stop=LOG_END):
            if _PENDING_CHANGE not in raw:
                ident_bytes = raw.partition(_SEP)[0]
                if not ident_bytes:
                    return None  # a bulk change (a plan): read the pending list
                ident = ident_bytes.decode()
                if ident in watched or ident in wanted:
                    wanted.pop(ident, None)
                    ended.add(ident)
                continue
            change = decode_change(raw)
            if change is None:
                return None
            ident, entry = change
            if entry is not None and _remote_pending(entry):
                wanted[ident] = entry
                ended.discard(ident)
            else:
                wanted.pop(ident, None)
                ended.add(ident)
        return wanted, ended

    def _watched_idents(self) -> list[str]:
        cut = len(self._prefix)
        return [
            key[cut:].decode("utf-8", "surrogateescape")
            for key in self.store.iterator(prefix=self._prefix, include_value=False)
        ]

    def _new_watch(self, entry: Entry, now: float) -> Watch:
        res_dir = f"{os.fspath(self.coll_dir)}/{entry.ident}"
        # 0: no lease to watch (an old writer, or a directory turned into a link: not read).
        linked = _store.directory_problem(res_dir)
        interval = 0.0 if linked else remote_lease(_store.read_meta(res_dir))
        return Watch(entry.start_time, interval, read_lease(res_dir), now)

    def _look(
        self,
        watches: dict[str, Watch],
        fresh: set[str],
        changed: dict[str, Watch | None],
        now: float,
    ) -> dict[str, int | None]:
        """Read the watched leases (at most every ``poll`` s per process); the expired ones."""
        key = os.fspath(self.coll_dir)
        if not watches or now - _read_at.get(key, float("-inf")) < self.poll:
            return {}
        _read_at[key] = now
        expired: dict[str, int | None] = {}
        base = os.fspath(self.coll_dir)
        for ident, watch in watches.items():
            if ident in fresh or not watch.interval:
                continue
            seen = LeaseWatch(watch.value, watch.since, watch.interval)
            if seen.see(read_lease(f"{base}/{ident}"), now):
                expired[ident] = watch.start_time
            elif (seen.value, seen.since) != (watch.value, watch.since):
                watch.value, watch.since = seen.value, seen.since
                changed[ident] = watch
        return expired

    def _write(self, changed: dict[str, Watch | None], epoch: str, seq: int) -> None:
        state = b"\0".join((self._boot.encode(), epoch.encode(), b"%d" % seq))
        if not changed and self.store.get(self._state_key) == state:
            return
        with self.store.write_batch(sync=self.writer.durable) as wb:
            for ident, watch in changed.items():
                if watch is None:
                    wb.delete(watch_key(self._prefix, ident))
                else:
                    wb.put(watch_key(self._prefix, ident), watch.encode(self._boot))
            # Before the deaths below are recorded: the next pass reads them from the log.
            wb.put(self._state_key, state)

    def _record(self, expired: dict[str, int | None]) -> None:
        """Record as interrupted the expired ones whose lock is free and attempt unchanged."""
        probe = _markers.probe(self.coll_dir, list(expired))
        probe.expired = {i: s for i, s in expired.items() if i not in probe.busy}
        if probe.expired:
            self.writer.apply_resources(list(probe.expired), probe)
        self.expired = sorted(probe.expired)


def _remote_pending(entry: Entry) -> bool:
    return entry.status == PENDING and not is_local(entry)
