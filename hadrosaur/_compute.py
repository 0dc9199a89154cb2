"""Computing one resource: the status lifecycle of DESIGN.md section 4.

::

    unavailable --fetch--> pending --ok--> completed
                              |---raise--> error
                              '---killed--> interrupted (pending, lock not held)

Ordering is what makes a crash harmless: a change marker exists before the
first write (and is kept by drains while the lock is held), the result is in
place before the status says completed, the last attempt's result and
traceback are removed only once the status says pending, and the compute
lock is held from before ``pending`` is written until after the final status
is, so "pending and unlocked" can only mean the process died. tests/reliability/test_kills.py
kills processes inside each of these steps. The writes themselves, in that
order, are _attempt.py's; reading a resource without computing it (the cache
hit included) is _load.py's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import _heartbeat, _store
from ._attempt import Attempt
from ._fence import Fenced
from ._lease import DEFAULT_INTERVAL, LEASE_FILE, wait_while_leased
from ._load import completed_resource, int_or_none, load_resource
from ._locks import HeldLock, compute_lock
from ._nofollow import require_directory
from .context import LOG_BACKUPS, LOG_MAX_BYTES, Context
from .display import last_line
from .errors import DamagedResource, HadrosaurError, StorageError
from .resource import Resource
from .status import COMPLETED, ERROR, PENDING

__all__ = ("ComputeFunction", "compute_resource")

#: The signature of a collection's function: (ident, args, ctx) -> JSON value.
ComputeFunction = Callable[[str, Any, Context], Any]

_log = logging.getLogger("hadrosaur")


def _cached(coll_dir: str, collection: str, ident: str) -> Resource | None:
    """The completed resource if its files are sound, else None (compute it)."""
    try:
        return completed_resource(coll_dir, collection, ident)
    except DamagedResource as exc:
        _log.warning("%s; computing it again", exc)
        return None


def _clear_previous_attempt(attempt: Attempt) -> None:
    """Remove what the last attempt left, so nothing stale is read as this one's.

    Called only once the new attempt's status says pending: before that, the
    old status is still the truth, and a crash here would leave it completed
    without its result or in error without its traceback. Entries damaged into
    directories go too; storage/ stays (the function owns it). Each goes by a
    rename into the attempt's claim, so a fenced attempt removes nothing of
    the newer one's (_fence.py).
    """
    with os.scandir(attempt.res_dir) as entries:
        stale = [
            entry.name
            for entry in entries
            if entry.name in (_store.RESULT_FILE, _store.ERROR_FILE, _store.LOG_FILE, LEASE_FILE)
            or entry.name.startswith(_store.LOG_FILE + ".")  # rotated logs
            or (entry.name.startswith(".") and entry.name.endswith(".tmp"))  # a crashed write
        ]
    for name in stale:
        with contextlib.suppress(FileNotFoundError):
            attempt.discard(name)


def _encode_result(result: Any) -> bytes:
    # allow_nan=False: NaN and Infinity are not JSON, and result.json must be
    # readable by any JSON tool, not only by Python.
    return json.dumps(result, allow_nan=False).encode()


def _contained_note(exc: BaseException) -> str:
    """The first line of error.log for a BaseException recorded as an error (contain=True)."""
    return (
        f"hadrosaur: the function raised {exc!r}, which would have ended the worker "
        "process and the other resources in its hands; it is recorded as "
        "this resource's error instead.\n"
    )


def compute_resource(
    coll_dir: _store.StrPath,
    collection: str,
    ident: str,
    func: ComputeFunction,
    args: Any,
    *,
    recompute: bool = False,
    durable: bool = False,
    log_max_bytes: int = LOG_MAX_BYTES,
    log_backups: int = LOG_BACKUPS,
    contain: bool = False,
    lease_interval: float = DEFAULT_INTERVAL,
) -> Resource:
    """Return the resource, computing it unless it is already completed.

    An exception in ``func`` is recorded (status error, traceback in
    error.log) and the errored Resource is returned. KeyboardInterrupt and
    SystemExit leave the resource pending, release the lock (so readers see
    it as interrupted) and propagate.

    ``contain=True`` is for workers that compute other resources too
    (fetch_many): there, a SystemExit or any other BaseException except
    KeyboardInterrupt is this resource's error, recorded like an exception,
    instead of ending the process and every resource in its hands.

    ``lease_interval``: seconds between renewals of the resource's lease while
    it computes (0: none), for readers and fetches on other hosts (_lease.py).

    Raises:
        RefusedPath: the resource directory is a symlink (even to a directory)
            or a file; nothing is read, written or deleted through it.
        StorageError: hadrosaur's own writes failed (disk full, permissions).
    """
    coll_dir = os.fspath(coll_dir)
    res_dir = f"{coll_dir}/{ident}"
    # One lstat before anything is read, written or deleted: every path below
    # goes through res_dir, so this is what keeps them all inside BASE.
    exists = require_directory(res_dir, "a resource directory")
    if exists and not recompute:
        # Fast path without the lock: completed is only ever written after the
        # result, so a completed status means the result is there to read.
        cached = _cached(coll_dir, collection, ident)
        if cached is not None:
            return cached
    try:
        existed = _make_resource_dir(res_dir)
        with compute_lock(f"{res_dir}/{_store.LOCK_FILE}") as lock:
            return _compute_locked(
                coll_dir,
                collection,
                ident,
                func,
                args,
                existed,
                lock,
                recompute=recompute,
                durable=durable,
                log_max_bytes=log_max_bytes,
                log_backups=log_backups,
                contain=contain,
                lease_interval=lease_interval,
            )
    except HadrosaurError:  # StorageError, RefusedPath: already say what happened
        raise
    except OSError as exc:
        # Only hadrosaur's own writes get here: the function's errors are recorded.
        raise StorageError(Path(res_dir), exc) from exc


def _retaken(lock: HeldLock, attempt: Attempt) -> bool:
    """After the function closed the compute lock's descriptor: may this attempt still record?

    Only if the lock can be taken again at once and meta.json still names this
    attempt; otherwise another process began computing the resource while the
    lock was lost, and its outcome stands (see HeldLock).
    """
    return lock.retake() and attempt.is_on_disk()


def _outcome_dropped(lock: HeldLock, attempt: Attempt) -> Resource:
    """The resource as another process leaves it, this attempt's outcome not recorded."""
    _log.warning(
        "%s/%s: the function closed hadrosaur's lock on the resource (os.closerange or "
        "similar), and another process computed it meanwhile: this run's outcome is dropped, "
        "theirs stands. Close only the descriptors your function opened.",
        attempt.collection,
        attempt.ident,
    )
    lock.release()  # a descriptor retaken for the check above, if any
    with compute_lock(lock.path):  # wait for that process to finish, then read what it left
        return load_resource(Path(attempt.coll_dir), attempt.collection, attempt.ident, False)


def _superseded(beat: _heartbeat.Beat, attempt: Attempt) -> bool:
    """True when another host took this attempt over (it watched the lease expire).

    Possible only for a compute that outlived a lease interval: this process
    was frozen, or its renewals did not reach the filesystem, for longer than
    the bound. Then meta.json names the other attempt and its outcome stands.
    """
    return beat.superseded or (beat.outlived_bound() and not attempt.is_on_disk())


def _taken_over(lock: HeldLock, attempt: Attempt) -> Resource:
    """The resource as another host's attempt leaves it; this attempt's outcome dropped."""
    _log.warning(
        "%s/%s: another host took this resource over while this process was computing it "
        "(its lease was not renewed for longer than the bound: the process was frozen or the "
        "filesystem unreachable): this run's outcome is dropped, theirs stands.",
        attempt.collection,
        attempt.ident,
    )
    lock.release()  # this host's lock; theirs may not be visible here
    res_dir = attempt.res_dir
    with compute_lock(lock.path):
        wait_while_leased(res_dir)
        return load_resource(Path(attempt.coll_dir), attempt.collection, attempt.ident, False)


def _make_resource_dir(res_dir: str) -> bool:
    """Create the resource directory; True if it existed (a past attempt may have left files)."""
    try:
        os.mkdir(res_dir)
    except FileExistsError:
        return True
    except FileNotFoundError:  # the collection directory itself is gone
        os.makedirs(res_dir, exist_ok=True)
    return False


def _compute_locked(
    coll_dir: str,
    collection: str,
    ident: str,
    func: ComputeFunction,
    args: Any,
    existed: bool,
    lock: HeldLock,
    *,
    recompute: bool,
    durable: bool,
    log_max_bytes: int,
    log_backups: int,
    contain: bool,
    lease_interval: float,
) -> Resource:
    """The lifecycle under the compute lock: pending, run, then completed or error."""
    res_dir = f"{coll_dir}/{ident}"
    # Always re-read under the lock, whoever made the directory or the lock
    # file: another process may have opened the lock after this one, locked
    # it first and completed the resource (test_computed_once_when_overtaken).
    status = _store.read_status(res_dir)
    if status == PENDING:
        # Another host's attempt may be alive with a lock this host cannot see:
        # the lock and its lease together decide (_lease.py).
        wait_while_leased(res_dir)
        status = _store.read_status(res_dir)
    if not recompute and status == COMPLETED:
        cached = _cached(coll_dir, collection, ident)
        if cached is not None:
            return cached
    # A directory this process made holds nothing to clear or count, unless
    # another process overtook it (above) and left an attempt there.
    existed = existed or status is not None
    previous_attempt = 0
    if existed:
        previous = int_or_none(_store.read_meta(res_dir).get("attempt"))
        previous_attempt = previous if previous is not None else (0 if status is None else 1)
    attempt = Attempt.begin(
        coll_dir, collection, ident, args, durable, previous_attempt, lease_interval
    )
    # Registered before pending is written: the first renewal is an interval away,
    # and starting the heartbeat thread (it waits for the thread to run) stays out of
    # the gap between pending and the function, where a Ctrl-C leaves it interrupted.
    beat = (
        _heartbeat.start(
            res_dir, lease_interval, attempt.meta["attempt"], attempt.is_on_disk, attempt.claim
        )
        if lease_interval
        else None
    )
    try:
        attempt.start(fresh=not existed)
        if beat is not None:
            beat.begin()
        return _run_attempt(attempt, func, lock, existed, contain, log_max_bytes, log_backups, beat)
    except Fenced:
        # A newer attempt claimed the resource while this one was frozen (or its
        # filesystem cut off) for longer than the bound: none of our writes landed
        # since, and theirs stands.
        if beat is not None:
            beat.stop()
        return _taken_over(lock, attempt)
    finally:
        if beat is not None:
            beat.stop()


def _run_attempt(
    attempt: Attempt,
    func: ComputeFunction,
    lock: HeldLock,
    existed: bool,
    contain: bool,
    log_max_bytes: int,
    log_backups: int,
    beat: _heartbeat.Beat | None,
) -> Resource:
    """Run the function of an attempt that has begun, and record its outcome."""
    collection, ident, res_dir = attempt.collection, attempt.ident, attempt.res_dir
    args = attempt.meta["args"]
    if existed:
        _clear_previous_attempt(attempt)
    ctx = Context(
        collection, ident, res_dir, args, log_max_bytes=log_max_bytes, log_backups=log_backups
    )
    try:
        try:
            result = func(ident, args, ctx)
        except Exception:
            failure: str | None = traceback.format_exc()
        except KeyboardInterrupt:
            raise  # Ctrl-C: pending, lock released below, i.e. interrupted
        except BaseException as exc:
            if not contain:
                raise
            failure = _contained_note(exc) + traceback.format_exc()
        else:
            failure = None
            try:
                encoded = _encode_result(result)
            except Exception as exc:  # TypeError, ValueError, RecursionError, a broken __repr__
                failure = (
                    f"hadrosaur: the result of {collection}/{ident} is not JSON-serializable "
                    f"({type(result).__name__}): {type(exc).__name__}: {exc}\n"
                )
    finally:
        ctx.close()
    if lock.lost() and not _retaken(lock, attempt):
        return _outcome_dropped(lock, attempt)
    if beat is not None and _superseded(beat, attempt):
        return _taken_over(lock, attempt)
    try:
        if failure is None:
            attempt.complete(encoded)
        else:
            attempt.fail(failure)
    except OSError as exc:
        attempt.record_storage_failure(exc)
        raise
    if failure is not None:
        # INFO, not WARNING: a long run's errors are triaged with the TUI or CLI;
        # an application that wants them on its console configures this logger.
        _log.info(
            "%s/%s failed: %s (traceback in %s)",
            collection,
            ident,
            last_line(failure),
            os.path.join(res_dir, _store.ERROR_FILE),
        )
        return attempt.resource(ERROR, None)
    return attempt.resource(COMPLETED, json.loads(encoded))
