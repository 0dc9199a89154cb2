"""flock-based locks: the per-resource compute lock, its liveness probe, and the index lock.

flock (not fcntl/lockf) because its locks belong to the open file description:
they are released by the kernel when the holder dies, even on SIGKILL, and two
descriptors opened separately conflict even inside one process, so threads
are serialised as well as processes. That is what makes ``interrupted``
detectable without any timeout: a pending resource whose lock nobody holds was
abandoned.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import RefusedPath

__all__ = (
    "HeldLock",
    "compute_lock",
    "exclusive_flocks",
    "held_by_snapshot",
    "is_locked",
    "is_locked_elsewhere",
    "lock_held",
    "lock_if_free",
    "try_lock_exclusive",
)

#: Called (with the lock's path) after the lock file is opened and before it is
#: locked. Only tests set it, to stop a process in exactly that gap: whoever
#: creates the lock file is not the first to hold it, so nothing may be
#: concluded from having created it (see _compute.compute_resource).
before_flock: Callable[[str], None] | None = None

#: O_NOFOLLOW on every lock file: O_CREAT through a symlink left in BASE would
#: create (or lock) its target outside BASE. O_NONBLOCK: opening a FIFO put
#: there would otherwise wait for a writer for ever.
_NOFOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_lock(path: str | os.PathLike[str], flags: int, dir_fd: int | None = None) -> int:
    """Open a lock file without following a symlink; RefusedPath if one stands there."""
    try:
        return os.open(path, flags | _NOFOLLOW, 0o644, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # with O_NOFOLLOW: the lock file is a symlink
            raise RefusedPath(Path(path), "a symbolic link", "a lock file") from None
        raise


class HeldLock:
    """An exclusive flock held through one descriptor, which the holder may lose.

    The flock belongs to the open file: closing the descriptor releases it.
    The user's function runs while the compute lock is held, and a function
    that closes the descriptors it did not open (``os.closerange(3, ...)``,
    a common idiom before exec) closes this one too: the resource then looks
    interrupted, and another process may compute it meanwhile. That cannot be
    prevented, but it is told (:meth:`lost`), and the descriptor number,
    which the function may have reused for a file of its own, is never
    closed unless it is still this lock's.
    """

    def __init__(self, path: str | os.PathLike[str], fd: int) -> None:
        self.path = os.fspath(path)
        self.fd = fd
        self._identity = _file_identity(fd)

    def lost(self) -> bool:
        """True when the descriptor no longer refers to the lock file (it was closed)."""
        try:
            return _file_identity(self.fd) != self._identity
        except OSError:
            return True

    def retake(self) -> bool:
        """After :meth:`lost`: take the lock again without waiting; False if another holds it."""
        fd = lock_if_free(self.path)
        if fd is None:
            return False
        self.fd = fd
        self._identity = _file_identity(fd)
        return True

    def release(self) -> None:
        """Close the descriptor if it is still this lock's (never a file the function opened)."""
        if not self.lost():
            os.close(self.fd)


def _file_identity(fd: int) -> tuple[int, int]:
    """(device, inode) of the file a descriptor is open on."""
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


@contextmanager
def compute_lock(path: str | Path) -> Iterator[HeldLock]:
    """Hold an exclusive flock on ``path`` (created if needed), waiting as long as it takes.

    A second process fetching the same resource blocks here until the first
    one has finished, then re-reads the status and finds the result. The
    caller must always re-read the status once this yields: another process
    may have opened the same file after this one and locked it first.
    """
    fd = _open_lock(path, os.O_RDWR | os.O_CREAT)
    try:
        if before_flock is not None:
            before_flock(os.fspath(path))
        fcntl.flock(fd, fcntl.LOCK_EX)
        held = HeldLock(path, fd)
    except BaseException:
        os.close(fd)
        raise
    try:
        yield held
    finally:
        # Closing the descriptor releases the flock; no separate LOCK_UN needed.
        held.release()


def lock_if_free(path: str | os.PathLike[str]) -> int | None:
    """An exclusive flock on an existing lock file, taken without waiting; None if held.

    Returns the descriptor (close it to release). Raises OSError when the file
    cannot be opened (missing, or RefusedPath for a symlink).
    """
    fd = _open_lock(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def is_locked(path: str | os.PathLike[str], dir_fd: int | None = None) -> bool:
    """True when some process holds an flock on ``path`` right now.

    Probes with a non-blocking *shared* lock, which conflicts with the
    holder's exclusive lock but never with another prober. A missing file
    means nobody ever locked it. ``dir_fd``: the directory a relative
    ``path`` starts from.
    """
    try:
        fd = _open_lock(path, os.O_RDONLY, dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        return is_locked_elsewhere(fd)
    finally:
        os.close(fd)


def is_locked_elsewhere(fd: int) -> bool:
    """True when another open file holds an exclusive flock on the file ``fd`` is open on.

    The probe's shared lock, taken when it succeeds, goes with ``fd``'s close.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return True
        raise
    return False


def lock_held(path: str | os.PathLike[str], dir_fd: int | None = None) -> bool:
    """Like :func:`is_locked`, but True when the probe itself fails (permissions, I/O).

    For callers that must not conclude "nobody holds it" without knowing:
    calling a resource interrupted, or forgetting a change marker, on a
    failed probe could cause a second compute or a lost update.
    """
    try:
        return is_locked(path, dir_fd)
    except OSError:
        return True


#: Where Linux lists every lock held now, one a line:
#: ``1: FLOCK  ADVISORY  WRITE 4242 00:1a:12345 0 EOF`` (a waiter's line has ``->``).
PROC_LOCKS = "/proc/locks"


def exclusive_flocks() -> frozenset[tuple[int, int, int]] | None:
    """(major, minor, inode) of every file with an exclusive flock now; None if unknown.

    One read for many probes: a reader that examines hundreds of live
    pending resources would otherwise open and flock each of their locks.
    Only "held" may be concluded from it (see :func:`held_by_snapshot`): a
    lock missing from it (another PID namespace, a filesystem whose devices
    ``stat`` reports differently) is probed as before.
    """
    try:
        with open(PROC_LOCKS, "rb") as listing:
            data = listing.read()
    except OSError:
        return None
    found = set()
    for line in data.splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == b"FLOCK" and fields[3] == b"WRITE":
            where = fields[5].split(b":")
            if len(where) == 3 and where[2].isdigit():
                try:
                    found.add((int(where[0], 16), int(where[1], 16), int(where[2])))
                except ValueError:
                    continue
    return frozenset(found)


def held_by_snapshot(
    path: str | os.PathLike[str],
    locked: frozenset[tuple[int, int, int]] | None,
    dir_fd: int | None = None,
) -> bool:
    """:func:`lock_held`, answered by one lstat when ``locked`` shows an exclusive flock on it.

    ``locked`` is an :func:`exclusive_flocks` read before this call. "Held"
    from it is as safe as from a probe (the holder may let go just after
    either: the caller keeps looking); "free" is never concluded from it:
    a lock it does not show is probed.
    """
    if locked:
        try:
            st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return lock_held(path, dir_fd)
        key = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
        if stat.S_ISREG(st.st_mode) and key in locked:
            return True
    return lock_held(path, dir_fd)


#: How long a process waits for a lock before it asks newcomers to step back.
PATIENCE = 0.05


def try_lock_exclusive(path: Path, timeout: float) -> int | None:
    """Take an exclusive flock on ``path``, retrying with backoff for up to ``timeout`` s.

    Returns the open descriptor (close it to release), or None on timeout.
    Polls with LOCK_NB rather than blocking so that the wait is bounded and
    the caller can report how long it waited.

    Polling alone is unfair: a process that releases the lock and asks again
    at once (a reader in a loop) nearly always wins against one asleep
    between two polls, which can then wait for ever. So a process that has
    waited ``PATIENCE`` announces it by holding a *shared* flock on
    ``PATH.wait``; newcomers that see it held step back until the waiters
    are served. Waiting processes compete only among themselves.
    """
    fd = _open_lock(path, os.O_RDWR | os.O_CREAT)
    waiting = f"{os.fspath(path)}.wait"
    started = time.monotonic()
    deadline = started + timeout
    delay = 0.001
    announced: int | None = None
    patient = False  # waited PATIENCE already: compete whoever else waits
    try:
        while True:
            if patient or not _others_waiting(waiting):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                        os.close(fd)
                        raise
            now = time.monotonic()
            if now >= deadline:
                os.close(fd)
                return None
            if not patient and now - started >= PATIENCE:
                patient = True
                announced = _announce(waiting)
            time.sleep(min(delay, deadline - now))
            # Newcomers wait for the patient, so these must not leave the lock idle long.
            delay = min(delay * 2, 0.005 if patient else 0.05)
    finally:
        if announced is not None:
            os.close(announced)


def _announce(waiting: str) -> int | None:
    """Hold a shared flock on ``waiting`` (None if the file cannot be created: read-only)."""
    try:
        wait_fd = _open_lock(waiting, os.O_RDONLY | os.O_CREAT)
    except OSError:
        return None
    # Blocking, but only ever for an instant: exclusive holders are probes (below).
    fcntl.flock(wait_fd, fcntl.LOCK_SH)
    return wait_fd


def _others_waiting(waiting: str) -> bool:
    """True when some process announced that it has been waiting (see try_lock_exclusive)."""
    try:
        wait_fd = _open_lock(waiting, os.O_RDONLY)
    except OSError:
        return False  # never created (or unreadable): nobody can have announced
    try:
        # An exclusive probe fails while any waiter holds its shared lock.
        fcntl.flock(wait_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(wait_fd)
    return False
