"""Leases: how a process computing a resource tells other hosts that it is alive.

On the writer's own host the compute lock decides (the kernel drops an flock
when its holder dies, see _liveness.py). Another host may not see that flock
on a shared filesystem, so while a resource is computing its process also
renews ``IDENT/.lease`` every ``interval`` seconds (_heartbeat.py), and
meta.json says so (``"lease": interval``). A reader elsewhere calls the
resource dead once it has *watched* the lease not change for
``EXPIRY_INTERVALS * interval`` seconds on its own monotonic clock
(:class:`LeaseWatch`). It never compares its clock with the writer's: the
lease's content is only ever compared with itself (a counter that changes at
each renewal), and the file's times are never read.

Why the bound holds without false positives: the reader's watch starts when
it first sees a value, which the writer wrote at that moment or earlier; a
live writer writes a new value within ``interval`` of the last one, so the
value a reader watches stays unchanged for ``N * interval`` only if the
writer renewed nothing for at least that long (``N - 1`` intervals of slack
for a slow filesystem, a busy machine or a garbage collection pause).

Example:
    >>> watch = LeaseWatch(b"1", since=0.0, interval=2.0)
    >>> watch.see(b"1", now=7.9), watch.see(b"1", now=8.0)
    (False, True)
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import _store
from ._liveness import local_host
from ._nofollow import RefusedFile, read_regular
from .display import visible
from .errors import InvalidLeaseInterval
from .status import PENDING

__all__ = (
    "DEFAULT_INTERVAL",
    "ENVIRONMENT_VARIABLE",
    "EXPIRY_INTERVALS",
    "LEASE_FILE",
    "MIN_INTERVAL",
    "LeaseWatch",
    "boot_id",
    "lease_interval",
    "read_lease",
    "remote_lease",
    "wait_while_leased",
    "write_lease",
)

_log = logging.getLogger("hadrosaur")

LEASE_FILE = ".lease"
#: Seconds between two renewals of a lease, unless Project(lease_interval=) or the variable says.
DEFAULT_INTERVAL = 5.0
ENVIRONMENT_VARIABLE = "HADROSAUR_LEASE_INTERVAL"
#: The shortest interval accepted (but 0, off): shorter, the heartbeat would rewrite the
#: lease thousands of times a second, a core's work, and a pause of milliseconds kill it.
MIN_INTERVAL = 0.01
#: The longest interval accepted, and the most a reader believes of one that meta.json
#: records: a planted ``"lease": 1e9`` cannot make a fetch or a monitor wait for ever
#: (at most EXPIRY_INTERVALS * MAX_INTERVAL, 40 minutes, to call a silent lease expired).
MAX_INTERVAL = 600.0
#: A lease watched unchanged for this many of its writer's intervals is expired.
EXPIRY_INTERVALS = 4
#: Bytes of a lease that are compared; a larger file is not ours, and its head is enough.
_LEASE_LIMIT = 256
#: What a lease reads as when something other than a regular file stands there.
_REFUSED = b"\0refused"


def lease_interval(value: float | None = None) -> float:
    """The lease interval a project uses: ``value``, else $HADROSAUR_LEASE_INTERVAL, else 5 s.

    0 turns leases off: nothing is renewed, and readers on other hosts show
    the project's pending resources as pending until a fetch takes them over.

    Raises:
        InvalidLeaseInterval: not 0 or a number of seconds from MIN_INTERVAL to MAX_INTERVAL (naming
            where it came from).
    """
    source = "lease_interval"
    if value is None:
        raw = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
        if not raw:
            return DEFAULT_INTERVAL
        source = f"${ENVIRONMENT_VARIABLE}"
        try:
            value = float(raw)
        except ValueError:
            raise InvalidLeaseInterval(source, raw) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidLeaseInterval(source, value)
    if not math.isfinite(value) or value < 0 or 0 < value < MIN_INTERVAL or value > MAX_INTERVAL:
        raise InvalidLeaseInterval(source, value)
    return float(value)


def write_lease(res_dir: str, content: bytes) -> None:
    """Replace ``IDENT/.lease`` atomically (a rename replaces a symlink there, never follows it)."""
    _store.atomic_write(f"{res_dir}/{LEASE_FILE}", content)


def read_lease(res_dir: str) -> bytes | None:
    """The lease's bytes as they are now (None: no lease yet); only compared, never parsed.

    Opened without following a symlink; anything but a regular file reads as
    one fixed value, so it never looks renewed. So does a resource directory
    turned into a link or a file (one lstat): nothing beyond it is read.
    """
    if _store.directory_problem(res_dir):
        return _REFUSED
    try:
        return read_regular(f"{res_dir}/{LEASE_FILE}", limit=_LEASE_LIMIT)
    except RefusedFile:
        return _REFUSED
    except OSError:  # unreadable now: the same as unchanged, never as renewed
        return _REFUSED


def remote_lease(meta: dict[str, Any]) -> float:
    """The lease interval of an attempt of another host (0.0: written here, or without a lease).

    Only another host's attempt needs its lease watched: here, the flock decides.
    """
    host = meta.get("host")
    if not isinstance(host, str) or not host or host == local_host():
        return 0.0
    interval = meta.get("lease")
    if isinstance(interval, bool) or not isinstance(interval, int | float):
        return 0.0  # written before leases existed, or with leases off
    if not math.isfinite(interval) or interval <= 0:
        return 0.0
    return min(float(interval), MAX_INTERVAL)  # meta.json is not trusted to say "wait for ever"


def attempt_key(meta: dict[str, Any]) -> tuple[object, ...]:
    """What tells one attempt from the next in meta.json."""
    return tuple(meta.get(k) for k in ("host", "pid", "start_time", "attempt"))


@cache
def boot_id() -> str:
    """This boot of this machine and this time namespace: monotonic readings compare within one.

    A time namespace (``unshare --time``, a restored container) offsets
    CLOCK_MONOTONIC under the same boot id: a reader there continuing a watch
    begun outside would take it as that offset old and call a live writer dead.
    """
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip()
    except OSError:
        return ""  # not Linux: a clock that went backwards still restarts a watch
    try:
        return f"{boot} {os.readlink('/proc/self/ns/time')}"
    except OSError:
        return boot  # a kernel without time namespaces: one monotonic clock per boot


@dataclass
class LeaseWatch:
    """A lease as one host watches it: the value last seen, and since when (monotonic s)."""

    value: bytes | None
    since: float
    interval: float

    def see(self, value: bytes | None, now: float) -> bool:
        """Note the lease's value at ``now``; True when it has expired.

        A changed value restarts the watch, and so does a clock that went
        backwards (a reboot): never a reason to call a writer dead.
        """
        if value != self.value or now < self.since:
            self.value, self.since = value, now
            return False
        return self.expired(now)

    def expired(self, now: float) -> bool:
        return self.interval > 0 and now - self.since >= EXPIRY_INTERVALS * self.interval


def wait_while_leased(res_dir: str) -> None:
    """Wait while the resource is pending under a live lease of another host.

    Called by fetch with the compute lock held and the status read pending.
    On the writer's host the lock alone decides, but another host's flock may
    not be visible here: so its attempt is taken over only once this process
    has watched its lease expire (or the status changed, or the attempt ended
    some other way), never while it is renewed. Returns at once for an
    attempt of this host or one without a lease.
    """
    watch: LeaseWatch | None = None
    key: tuple[object, ...] = ()
    while _store.read_status(res_dir) == PENDING:
        meta = _store.read_meta(res_dir)
        interval = remote_lease(meta)
        if not interval:
            return
        now, value = time.monotonic(), read_lease(res_dir)
        if watch is None or attempt_key(meta) != key:
            watch, key = LeaseWatch(value, now, interval), attempt_key(meta)
            _log.info(
                "%s is being computed on %s: waiting while its lease is renewed (taken over "
                "after %g s without a renewal)",
                res_dir,
                visible(str(meta.get("host")), line=True),
                EXPIRY_INTERVALS * interval,
            )
        elif watch.see(value, now):
            return
        time.sleep(min(interval / 4, 1.0))
