"""What a dead pool worker leaves behind, sorted out from the files it wrote.

A worker that dies (a segfault, ``os._exit``, SIGKILL from the out-of-memory
killer) takes no results with it: every resource it finished is on disk, and
the one it was computing is ``pending`` with its compute lock released by the
kernel. Its ``meta.json`` names the worker's pid, which tells this process,
without any message from the worker, which of the task's resources that
worker finished, which one it died on, and which it never reached.

The resource it died on is recorded as an error whose error.log names the
exit status or signal: a function that kills its process would do so again
at every retry, and an error says why, where ``interrupted`` would not.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field

from . import _store
from ._attempt import Attempt
from ._fence import Fenced
from ._load import load_resource
from ._locks import lock_if_free
from ._pool import PIPE_LOST_EXIT
from .resource import Resource
from .status import COMPLETED, ERROR, PENDING

__all__ = ("Casualties", "describe_exit", "sort_out")

_log = logging.getLogger("hadrosaur")

#: What usually sends a signal that kills a worker, for the error message.
_LIKELY_CAUSE = {
    signal.SIGKILL: "the kernel's out-of-memory killer sends it, as does kill -9",
    signal.SIGSEGV: "a segmentation fault, in native code the function called",
    signal.SIGBUS: "a bus error, in native code the function called",
    signal.SIGABRT: "abort(), usually a failed assertion in native code",
    signal.SIGTERM: "kill, or a job scheduler ending the process",
}


@dataclass
class Casualties:
    """A dead worker's task, sorted: what it finished or died on, and what to run again."""

    found: dict[str, Resource] = field(default_factory=dict)
    died_on: str | None = None
    again: list[int] = field(default_factory=list)  # positions in the task's ident list


def describe_exit(exitcode: int | None) -> str:
    """How a process ended, in words: ``killed by signal SIGSEGV (11): ...``."""
    if exitcode is None:
        return "it vanished without an exit status"
    if exitcode == PIPE_LOST_EXIT:
        return (
            f"it exited with status {exitcode}: the function closed file descriptors it did "
            "not open (e.g. os.closerange), among them the worker's pipe to fetch_many"
        )
    if exitcode >= 0:
        return f"it exited with status {exitcode} (os._exit() or a crash in native code)"
    number = -exitcode
    try:
        sig = signal.Signals(number)
    except ValueError:
        return f"killed by signal {number}"
    cause = _LIKELY_CAUSE.get(sig)
    return f"killed by signal {sig.name} ({number})" + (f": {cause}" if cause else "")


def _by_worker(meta: dict[str, object], pid: int, started_ms: int) -> bool:
    """True when meta.json was written by this worker (same pid, not before it started)."""
    start = meta.get("start_time")
    return meta.get("pid") == pid and isinstance(start, int) and start >= started_ms


def sort_out(
    coll_dir: str,
    collection: str,
    idents: list[str],
    pid: int,
    started_ms: int,
    exitcode: int | None,
    durable: bool,
) -> Casualties:
    """Sort the idents of a task whose worker (``pid``) died; record the one it died on."""
    out = Casualties()
    for position, ident in enumerate(idents):
        res_dir = f"{coll_dir}/{ident}"
        word = _store.read_status(res_dir)
        if word in (COMPLETED, ERROR) and _by_worker(_store.read_meta(res_dir), pid, started_ms):
            out.found[ident] = load_resource(coll_dir, collection, ident, strict=False)
        elif word == PENDING and (
            outcome := _record_death(res_dir, collection, pid, started_ms, exitcode, durable)
        ):
            out.found[ident] = load_resource(coll_dir, collection, ident, strict=False)
            if outcome == _RECORDED:
                out.died_on = ident
            # else _HELD: a process the worker forked holds its lock (see _record_death):
            # returned as it reads (pending), not sent to a worker that would wait for it.
        else:
            out.again.append(position)  # never reached, or someone else computes it now
    return out


#: What _record_death did: nothing (the attempt is not the dead worker's), recorded
#: the death, or found the lock held by a process the dead worker forked.
_RECORDED, _HELD = "recorded", "held"


def _record_death(
    res_dir: str,
    collection: str,
    pid: int,
    started_ms: int,
    exitcode: int | None,
    durable: bool,
) -> str:
    """Turn the dead worker's pending attempt into an error; "" if it is not that.

    Done under the compute lock, taken without waiting: if another process
    holds it, that process is computing the resource anew, and this one must
    not write over its attempt. Unless meta.json still names the dead worker:
    then the holder is a process the function forked (an flock belongs to the
    open file, which a fork shares, and no flag closes it on fork), which
    keeps the resource pending while it lives; _HELD says so, so that the run
    returns it as it is instead of waiting for that process.
    """
    try:
        # Non-blocking: a holder is computing it now, and its outcome wins.
        fd = lock_if_free(f"{res_dir}/{_store.LOCK_FILE}")
    except OSError:
        return ""
    if fd is None:
        held = _store.read_status(res_dir) == PENDING
        return _HELD if held and _by_worker(_store.read_meta(res_dir), pid, started_ms) else ""
    try:
        meta = _store.read_meta(res_dir)
        if _store.read_status(res_dir) != PENDING or not _by_worker(meta, pid, started_ms):
            return ""
        coll_dir, ident = os.path.split(res_dir)
        reason = (
            f"hadrosaur: the worker process (pid {pid}) computing this resource died: "
            f"{describe_exit(exitcode)}. The other resources of the run were not affected.\n"
        )
        # The dead worker's attempt, finished in the order of the lifecycle (see
        # _attempt.py): marker, error.log, meta.json's end time, status, marker.
        attempt = Attempt(coll_dir, collection, ident, meta, durable)
        try:
            attempt.mark()
            attempt.take()  # fences the dead worker's claim (_fence.py)
            attempt.fail(reason)
        except (OSError, Fenced) as exc:
            # Left pending and unlocked, it still reads interrupted: never completed.
            _log.warning("could not record the death of the worker computing %s: %s", res_dir, exc)
        return _RECORDED
    finally:
        os.close(fd)  # releases the flock
