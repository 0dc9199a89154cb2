"""The heartbeat: one thread per process renews the lease of every resource it computes.

A compute registers its resource (:func:`start`) once its status says
pending and stops it (:meth:`Beat.stop`) once the outcome is written.
One daemon thread, started on the first registration, renews each
registered resource's lease (_lease.py) every ``interval`` seconds, the first
time ``interval`` after the compute began: a compute shorter than that never
writes a lease at all, so a trivial fetch pays one dict insertion under a
lock and one removal, not a file write. The thread stays one more interval with nothing to
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

from ._fence import Claim, Fenced
from ._lease import LEASE_FILE, write_lease

__all__ = ("Beat", "active", "start")

_log = logging.getLogger("hadrosaur")

#: CLOCK_BOOTTIME counts time the machine spent suspended, which other hosts' clocks did too.
_elapsed_clock = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


class Beat:
    """One resource whose lease this process renews while it computes it."""

    __slots__ = (
        "attempt",
        "beats",
        "begun",
        "claim",
        "due",
        "interval",
        "registry",
        "res_dir",
        "started",
        "still_ours",
        "stopped",
        "superseded",
    )

    def __init__(
        self,
        res_dir: str,
        interval: float,
        attempt: int,
        still_ours: Callable[[], bool],
        claim: Claim | None = None,
    ) -> None:
        self.res_dir = res_dir
        #: The attempt's claim (_fence.py): a fenced attempt's renewal never lands.
        self.claim = claim
        self.interval = interval
        self.attempt = attempt
        self.still_ours = still_ours
        self.started = time.clock_gettime(_elapsed_clock)
        self.due = time.monotonic() + interval
        self.beats = 0
        #: True once a renewal found meta.json naming another attempt.
        self.superseded = False
        self.stopped = False
        #: False until the attempt's meta.json and pending status are written (see begin).
        self.begun = False
        #: The registry it is in (its process's: see _forget_in_child).
        self.registry: dict[int, Beat] = {}

    def outlived_bound(self) -> bool:
        """True when this compute lasted long enough that another host may have taken it over.

        Another host takes over only after watching the lease unchanged for
        several intervals, which began after meta.json was written; a compute
        shorter than one interval (suspensions included) cannot have been.
        """
        return time.clock_gettime(_elapsed_clock) - self.started >= self.interval

    def begin(self) -> None:
        """The attempt has begun (meta.json and pending written): renewals may judge it now."""
        self.begun = True

    def renew(self) -> None:
        if not self.begun:
            return  # registered before its meta.json was written: nothing to renew yet
        if not self.still_ours():
            self.superseded = self.stopped = True
            return
        self.beats += 1
        content = b'{"pid": %d, "attempt": %d, "beat": %d}\n' % (
            os.getpid(),
            self.attempt,
            self.beats,
        )
        try:
            if self.claim is not None:
                self.claim.publish(LEASE_FILE, content)
            else:
                write_lease(self.res_dir, content)
        except Fenced:
            self.superseded = self.stopped = True
        except OSError as exc:  # full disk, removed directory: the next beat tries again
            _log.debug("could not renew the lease of %s: %s", self.res_dir, exc)

    def stop(self) -> None:
        """Renew no more, and leave the registry, without taking its lock.

        A dict's pop is atomic under the GIL and the thread copies the
        registry in one C call, so a trivial fetch pays no lock here. A
        renewal already under way may still land before the attempt removes
        its claim (after that, none can: _fence.py): a lease rewritten once
        more only ever looks *more* alive to a reader, never dead. Leaving at once matters: a
        stopped beat kept until the thread's next wake (seconds) would keep
        thousands of attempts alive for the garbage collector to scan.
        """
        self.stopped = True
        self.registry.pop(id(self), None)


class _State:
    """The registry of one process; replaced, not shared, in a forked child."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.beats: dict[int, Beat] = {}
        self.thread: threading.Thread | None = None
        #: Set to wake the thread early: a beat due sooner than it planned to wake.
        self.wake = threading.Event()
        self.wake_at = float("inf")
        #: How long the thread stays with nothing to renew: the longest interval seen.
        self.linger = 0.0


_state = _State()


def _forget_in_child() -> None:
    global _state
    _state = _State()


os.register_at_fork(after_in_child=_forget_in_child)


def start(
    res_dir: str,
    interval: float,
    attempt: int,
    still_ours: Callable[[], bool],
    claim: Claim | None = None,
) -> Beat:
    """Register a resource this process began computing; its lease is renewed until stopped."""
    beat = Beat(res_dir, interval, attempt, still_ours, claim)
    state = _state
    beat.registry = state.beats
    with state.lock:
        state.beats[id(beat)] = beat
        state.linger = max(state.linger, interval)
        if state.thread is None:
            state.thread = threading.Thread(
                target=_run, args=(state,), name="hadrosaur-heartbeat", daemon=True
            )
            state.thread.start()
        elif beat.due < state.wake_at:
            state.wake.set()  # asleep until a later renewal: wake it for this one
    return beat


def active() -> tuple[bool, int]:
    """(thread running, resources being renewed): for tests and diagnostics."""
    state = _state
    with state.lock:
        live = sum(1 for beat in list(state.beats.values()) if not beat.stopped)
        return state.thread is not None and state.thread.is_alive(), live


def _run(state: _State) -> None:
    """Renew what is due, sleep until the next renewal; end after one idle interval."""
    idle_since: float | None = None
    while True:
        now = time.monotonic()
        with state.lock:
            beats = [beat for beat in list(state.beats.values()) if not beat.stopped]
            if beats:
                idle_since = None
                state.linger = max(beat.interval for beat in beats)
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= state.linger:
                state.thread = None  # under the lock: start() then starts a new one
                return
            due = [beat for beat in beats if beat.due <= now]
            wake_at = min((beat.due for beat in beats), default=now + state.linger)
            state.wake_at = now if due else wake_at
            state.wake.clear()
        for beat in due:
            if not beat.stopped:
                beat.renew()
            # Not from now: a late renewal does not bring the next one forward.
            beat.due = max(beat.due + beat.interval, time.monotonic() + beat.interval / 2)
        if not due:
            state.wake.wait(max(0.0, wake_at - time.monotonic()))
