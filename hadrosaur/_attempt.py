"""Writing one attempt's files in the order that makes a crash harmless.

A change marker exists before the first write (and is kept by drains while
the compute lock is held), meta.json comes before the status it describes,
the result (or the traceback) is in place before the status says completed
(or error), and the status file, written last, is the commit point. A
process that dies between any two of these writes leaves a resource that
reads as its old status or as pending, which "pending and unlocked" turns
into interrupted: never completed without its result. The compute lifecycle
(_compute.py) and the recording of a dead worker's resource (_casualties.py)
both write through :class:`Attempt`, under the compute lock.

Every write and removal goes through the attempt's claim (_fence.py): once a
newer attempt has claimed the resource, none of this one's lands, and the
next raises :class:`~hadrosaur._fence.Fenced`.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from . import _markers, _store
from ._fence import Claim
from ._liveness import local_host
from .resource import Resource
from .status import COMPLETED, ERROR, PENDING
from .times import now_ms

__all__ = ("Attempt",)

_log = logging.getLogger("hadrosaur")


class Attempt:
    """Writes the files of one attempt in the order the lifecycle requires.

    ``meta`` is the attempt's meta.json: a new one for a compute
    (:meth:`begin`), or the one a dead worker left, whose attempt
    _casualties.py records as an error.
    """

    def __init__(
        self, coll_dir: str, collection: str, ident: str, meta: dict[str, Any], durable: bool
    ) -> None:
        self.coll_dir = coll_dir
        self.collection = collection
        self.ident = ident
        self.res_dir = res_dir = f"{coll_dir}/{ident}"
        # Joined once: a fetch writes these paths several times each.
        self.status_path = f"{res_dir}/{_store.STATUS_FILE}"
        self.meta_path = f"{res_dir}/{_store.META_FILE}"
        self.durable = durable
        self.meta = meta
        attempt = meta.get("attempt")
        number = attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0
        self.claim = Claim(res_dir, number, durable)

    @classmethod
    def begin(
        cls,
        coll_dir: str,
        collection: str,
        ident: str,
        args: Any,
        durable: bool,
        previous_attempt: int,
        lease_interval: float = 0.0,
    ) -> Attempt:
        """A new attempt by this process (nothing written yet: see :meth:`start`).

        ``lease_interval`` > 0: this process renews the resource's lease that
        often while it computes, and meta.json says so ("lease"), so that
        another host watches the lease rather than a lock it may not see.
        """
        meta: dict[str, Any] = {
            "start_time": now_ms(),
            "end_time": None,
            "args": args,
            "pid": _store.process_id(),
            "host": local_host(),
            "attempt": previous_attempt + 1,
        }
        if lease_interval:
            meta["lease"] = lease_interval
        return cls(coll_dir, collection, ident, meta, durable)

    def is_on_disk(self) -> bool:
        """True when the resource's meta.json is still this attempt's (no other began since)."""
        meta = _store.read_meta(self.res_dir)
        return all(meta.get(key) == self.meta[key] for key in ("pid", "start_time", "attempt"))

    def _write(self, name: str, data: bytes) -> None:
        self.claim.publish(name, data)

    def _write_meta(self) -> None:
        self.claim.publish(_store.META_FILE, json.dumps(self.meta).encode())

    def _set_status(self, status: str) -> None:
        self.claim.publish(_store.STATUS_FILE, status.encode())
        try:
            # Tells watchers and readers promptly. Not needed for correctness:
            # the marker written in start() stays until a drain sees the lock free.
            _markers.touch_marker(self.coll_dir, self.ident, self.durable)
        except OSError as exc:
            _log.debug("could not renew the marker of %s: %s", self.res_dir, exc)

    def mark(self) -> None:
        """Make the change marker: before any change, under the compute lock.

        A drain applies it but keeps it while this process holds the compute
        lock (see _index/drain.py), so every change made from now on reaches the
        index, even if this process dies between two writes: the first drain
        after the lock is free reads them.
        """
        _markers.touch_marker(self.coll_dir, self.ident, self.durable)

    def take(self, fresh: bool = False) -> None:
        """Claim the resource, fencing every other attempt (_fence.py): before any write.

        ``fresh``: this process made the resource directory and found no status
        in it under the compute lock, so no attempt there can have written
        anything (see Claim.take).
        """
        self.claim.take(fresh)

    def start(self, fresh: bool = False) -> None:
        """Marker, claim, meta.json, then status pending: the attempt has begun."""
        self.mark()
        self.take(fresh)
        try:
            self._write_meta()
            self._set_status(PENDING)
        except IsADirectoryError:
            # status or meta.json damaged into a directory (os.replace cannot
            # replace one with a file): nothing in it can be trusted, remove it.
            for name in (_store.META_FILE, _store.STATUS_FILE):
                path = os.path.join(self.res_dir, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    self.claim.discard(name)
            self._write_meta()
            self._set_status(PENDING)

    def discard(self, name: str) -> None:
        """Remove what the last attempt left in the resource, through the claim."""
        self.claim.discard(name)

    def end(self) -> None:
        """The outcome is published: remove the claim (a newer attempt would have, too)."""
        self.claim.release()

    def complete(self, result_json: bytes) -> None:
        """result.json, meta.json's end time, then status completed (and a marker)."""
        self._write(_store.RESULT_FILE, result_json)
        self.meta["end_time"] = now_ms()
        self._write_meta()
        self._set_status(COMPLETED)
        self.end()

    def fail(self, text: str) -> None:
        """error.log, meta.json's end time, then status error (and a marker)."""
        self._write(_store.ERROR_FILE, text.encode("utf-8", "replace"))
        self.meta["end_time"] = now_ms()
        self._write_meta()
        self._set_status(ERROR)
        self.end()

    def record_storage_failure(self, exc: OSError) -> None:
        """After a failed write, try to leave an error status rather than a stale pending.

        If even that fails (the disk is full), the resource stays pending and
        unlocked, which readers see as interrupted: never as completed.
        """
        try:
            self.fail(f"hadrosaur: could not write the outcome of this attempt: {exc}\n")
        except OSError:
            pass  # the caller raises StorageError with the original cause

    def resource(self, status: str, result: Any) -> Resource:
        """The Resource this attempt wrote, from what it holds (nothing is read back)."""
        return Resource(
            collection=self.collection,
            ident=self.ident,
            status=status,
            result=result,
            start_time=self.meta["start_time"],
            end_time=self.meta["end_time"],
            directory=self.res_dir,
            args=self.meta["args"],
            attempt=self.meta["attempt"],
            pid=self.meta["pid"],
            host=self.meta["host"],
        )
