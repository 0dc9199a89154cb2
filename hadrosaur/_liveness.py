"""Telling a live pending resource from an interrupted one.

A status file that says ``pending`` is either being computed right now or was
abandoned by a process that died. The compute lock tells them apart without
any timeout: the kernel releases an flock when its holder dies, so a pending
resource whose ``.lock`` nobody holds is interrupted.

That probe only means something on the host that ran the compute: on a shared
filesystem another host's flock may not be visible here. A pending resource
whose meta.json names another host is therefore never called interrupted on
the strength of the probe: its lease decides, watched by the readers of this
host on their own clock (_lease.py, _index/leases.py).

Two users: :func:`current_status` answers for one resource read from its
files (``Project.status``, ``load``); :func:`settle` turns what a drain of the
index read into the record it keeps, so that a death found once is recorded
(see _index/sweep.py) and readers of the index never probe.
"""

from __future__ import annotations

import socket
from functools import cache
from pathlib import Path

from . import _store
from ._locks import lock_held
from .entries import Entry
from .resource import ERROR, INTERRUPTED, PENDING
from .status import is_damaged

__all__ = ("current_status", "interrupted", "is_local", "local_host", "settle", "written_here")


@cache
def local_host() -> str:
    """This machine's host name, as written to meta.json."""
    return socket.gethostname()


def _status_now(res_dir: Path) -> str | None:
    word = _store.read_status(res_dir)
    if word is None or not is_damaged(word):
        return word
    return ERROR  # a damaged status word counts as an error


def current_status(res_dir: Path, stored: str) -> str:
    """The status a reader should show for a resource the index lists as ``stored``.

    Only pending entries need work: probe the lock, and if nobody holds it,
    re-read the status file, because the worker may have finished between
    the drain and the probe.
    """
    if stored != PENDING:
        return stored
    if _store.directory_problem(res_dir):  # became a symlink or a file: never looked into
        return ERROR
    lock = res_dir / _store.LOCK_FILE
    if lock_held(lock):
        return PENDING
    now = _status_now(res_dir)
    if now != PENDING:
        return now if now is not None else stored
    if not written_here(res_dir):
        return PENDING
    # The worker may have taken the lock between the probe and the re-read.
    return PENDING if lock_held(lock) else INTERRUPTED


def written_here(res_dir: _store.StrPath) -> bool:
    """False when meta.json names another host (whose flocks this host may not see)."""
    return _local(_store.read_meta(res_dir).get("host"))


def _local(host: object) -> bool:
    """True unless ``host`` names another host ("" or no name: written here, or by 0.4.1)."""
    return not (isinstance(host, str) and host and host != local_host())


def is_local(entry: Entry) -> bool:
    """True when a pending ``entry`` was written on this host (or by 0.4.1, with no host)."""
    return _local(entry.host)


def settle(record: Entry, lock_free: bool, lease_expired: bool = False) -> Entry:
    """The record the index keeps for ``record``, read after a probe of its lock.

    ``lock_free`` must come from a probe made *before* ``record`` was read:
    then a pending record means the worker was already gone when its status
    was read, and any later change belongs to a process that took the lock
    after the probe and so made a new change marker (the proof is in
    _index/sweep.py). A pending resource of another host stays pending unless
    ``lease_expired``: readers here watched its lease expire (_index/leases.py).
    """
    if record.status != PENDING or not lock_free:
        return record
    if lease_expired or is_local(record):
        return interrupted(record)
    return record


def interrupted(record: Entry) -> Entry:
    """``record`` as the index keeps it once its worker is known to be gone.

    Without an end time: the attempt never ended (its outcome was never
    committed), and an end time its worker wrote to meta.json just before it
    died, between that write and the status, would reach the index from a
    scan but not from a sweep, which records the death from the pending entry
    alone (see _index/sweep.py). So both give the same entry.
    """
    # Built directly: a mass death settles 50,000 (NamedTuple._replace costs more).
    return Entry(record.ident, INTERRUPTED, record.start_time, None, record.reason, record.host)
