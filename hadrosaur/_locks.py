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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ("compute_lock", "is_locked", "lock_held", "try_lock_exclusive")


@contextmanager
def compute_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created if needed), waiting as long as it takes.

    A second process fetching the same resource blocks here until the first
    one has finished, then re-reads the status and finds the result.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        # Closing the descriptor releases the flock; no separate LOCK_UN needed.
        os.close(fd)


def is_locked(path: Path) -> bool:
    """True when some process holds an flock on ``path`` right now.

    Probes with a non-blocking *shared* lock, which conflicts with the
    holder's exclusive lock but never with another prober. A missing file
    means nobody ever locked it.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return True
        raise
    finally:
        os.close(fd)
    return False


def lock_held(path: Path) -> bool:
    """Like :func:`is_locked`, but True when the probe itself fails (permissions, I/O).

    For callers that must not conclude "nobody holds it" without knowing:
    calling a resource interrupted, or forgetting a change marker, on a
    failed probe could cause a second compute or a lost update.
    """
    try:
        return is_locked(path)
    except OSError:
        return True


def try_lock_exclusive(path: Path, timeout: float) -> int | None:
    """Take an exclusive flock on ``path``, retrying with backoff for up to ``timeout`` s.

    Returns the open descriptor (close it to release), or None on timeout.
    Polls with LOCK_NB rather than blocking so that the wait is bounded and
    the caller can report how long it waited.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                os.close(fd)
                raise
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            os.close(fd)
            return None
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)
