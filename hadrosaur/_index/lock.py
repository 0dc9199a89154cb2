"""The index lock: the flock on ``COLL/.index.lock`` that lets one process in at a time.

LevelDB admits one process at a time, so access is serialised by an flock
on ``COLL/.index.lock`` (outside ``.index/`` so that the index directory can
be deleted and rebuilt while the lock is held), taken with retry and
backoff. The lock file also remembers where the change log had reached
(epoch and last sequence), so that an index that lost its newest writes is
noticed (see opening.py).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .._locks import try_lock_exclusive

__all__ = ("IndexLock",)

_log = logging.getLogger("hadrosaur")
_POSITION_SIZE = 64


class IndexLock:
    """The index lock of one collection, and the position recorded in its file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        #: (epoch, last sequence) as recorded in the lock file by the last writer.
        self.recorded: tuple[str, int] | None = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds; False if it stayed busy.

        Raises:
            OSError: the lock file cannot even be created (nothing here can be written).
        """
        fd = try_lock_exclusive(self.path, timeout)
        if fd is None:
            return False
        self._fd = fd
        self.recorded = _read_position(fd)
        return True

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def record(self, position: tuple[str, int]) -> None:
        """Write (epoch, last sequence) into the lock file once the LevelDB holds them.

        Written after LevelDB's own writes have reached the kernel, so the
        record may lag the index (harmless) but never lead it. One fixed-size
        pwrite: a torn record does not parse, and is ignored. Not held (the
        read-only fallback): nothing is recorded.
        """
        if self._fd is None or position == self.recorded:
            return
        data = f"{position[0]} {position[1]}".encode().ljust(_POSITION_SIZE - 1) + b"\n"
        try:
            os.pwrite(self._fd, data, 0)
        except OSError as exc:  # a full disk: the record lags, which is harmless
            _log.info("could not record the index position in %s: %s", self.path, exc)
        self.recorded = position


def _read_position(fd: int) -> tuple[str, int] | None:
    """The (epoch, last sequence) a lock file holds, or None (none yet, torn, or garbage)."""
    try:
        parts = os.pread(fd, _POSITION_SIZE, 0).split()
    except OSError:
        return None
    if len(parts) != 2:
        return None
    try:
        return parts[0].decode("ascii"), int(parts[1])
    except ValueError:
        return None
