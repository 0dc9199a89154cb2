"""The heartbeat: one thread per process renews the lease of every resource it computes.

A compute registers its resource (:func:`start`) once its status says
pending and unregisters it (:meth:`Beat.stop`) once the outcome is written.
One daemon thread, started on the first registration, renews each
registered resource's lease (_lease.py) every ``interval`` seconds, the first
time ``interval`` after the compute began: a compute shorter than that never
writes a lease at all, so a trivial fetch pays two set operations under a
lock, not a file write. The thread stays one more interval with nothing to
do (so fetching one trivial resource after another does not start a thread
per fetch) and then ends.

Fork: threads do not survive ``fork`` (a process pool's workers are forked
while the parent may be computing). The child starts with an empty registry
and no thread (``os.register_at_fork``): it is not computing its parent's
resources, and its first compute starts its own thread.

A renewal first checks that meta.json still names this attempt. Another
host may have taken the resource over after watching the lease expire
(this process was frozen, or its filesystem cut off, for longer than the
bound); then the lease is no longer this attempt's to renew, and the
compute, told by :attr:`Beat.superseded`, drops its outcome (see _compute.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from ._lease import write_lease

__all__ = ("Beat", "active", "start")

_log = logging.getLogger("hadrosaur")

#: CLOCK_BOOTTIME counts time the machine spent suspended, which other hosts' clocks did too.
_elapsed_clock = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


class Beat:
    """One resource whose lease this process renews while it computes it."""

    def __init__(
        self, res_dir: str, interval: float, attempt: int, still_ours: Callable[[], bool]
    ) -> None:
        self.res_dir = res_dir
        self.interval = interval
        self.attempt = attempt
        self.still_ours = still_ours
        self.started = time.clock_gettime(_elapsed_clock)
        self.due = time.monotonic() + interval
        self.beats = 0
        #: True once a renewal found meta.json naming another attempt.
        self.superseded = False
        self._stopped = False
        # Held while a renewal writes: stop() waits for it, so no lease is written after.
        self._lock = threading.Lock()

    def outlived_bound(self) -> bool:
        """True when this compute lasted long enough that another host may have taken it over.

        Another host takes over only after watching the lease unchanged for
        several intervals, which began after meta.json was written; a compute
        shorter than one interval (suspensions included) cannot have been.
        """
        return time.clock_gettime(_elapsed_clock) - self.started >= self.interval

    def renew(self) -> None:
        with self._lock:
            if self._stopped:
                return
            if not self.still_ours():
                self.superseded = self._stopped = True
                return
            self.beats += 1
            content = b'{"pid": %d, "attempt": %d, "beat": %d}\n' % (
                os.getpid(),
                self.attempt,
                self.beats,
            )
            try:
                write_lease(self.res_dir, content)
            except OSError as exc:  # full disk, removed directory: the next beat tries again
                _log.debug("could not renew the lease of %s: %s", self.res_dir, exc)

    def stop(self) -> None:
        """Renew no more (waiting for a renewal in flight), and leave the registry."""
        with self._lock:
            self._stopped = True
        with _state.condition:
            _state.beats.discard(self)


class _State:
    """The registry of one process; replaced, not shared, in a forked child."""

    def __init__(self) -> None:
        self.condition = threading.Condition(threading.Lock())
        self.beats: set[Beat] = set()
        self.thread: threading.Thread | None = None
        self.wake_at = float("inf")


_state = _State()


def _forget_in_child() -> None:
    global _state
    _state = _State()


os.register_at_fork(after_in_child=_forget_in_child)


def start(res_dir: str, interval: float, attempt: int, still_ours: Callable[[], bool]) -> Beat:
    """Register a resource this process began computing; its lease is renewed until stopped."""
    beat = Beat(res_dir, interval, attempt, still_ours)
    state = _state
    with state.condition:
        state.beats.add(beat)
        if state.thread is None:
            state.thread = threading.Thread(
                target=_run, args=(state,), name="hadrosaur-heartbeat", daemon=True
            )
            state.thread.start()
        elif beat.due < state.wake_at:
            state.condition.notify()  # asleep until a later renewal: wake it for this one
    return beat


def active() -> tuple[bool, int]:
    """(thread running, resources registered): for tests and diagnostics."""
    state = _state
    with state.condition:
        return state.thread is not None and state.thread.is_alive(), len(state.beats)


def _run(state: _State) -> None:
    """Renew what is due, sleep until the next renewal; end after one idle interval."""
    linger = 0.0
    while True:
        with state.condition:
            if not state.beats:
                if linger <= 0:
                    state.thread = None
                    return
                state.wake_at = float("inf")
                state.condition.wait(linger)
                linger = 0.0
                continue
            now = time.monotonic()
            due = [beat for beat in state.beats if beat.due <= now]
            linger = max(beat.interval for beat in state.beats)
            if not due:
                state.wake_at = min(beat.due for beat in state.beats)
                state.condition.wait(state.wake_at - now)
                continue
        for beat in due:
            beat.renew()
            # From now, not from when it was due: a late renewal does not bring the next forward.
            beat.due = max(beat.due + beat.interval, time.monotonic() + beat.interval / 2)
