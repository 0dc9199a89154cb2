"""The handler behind ``ctx.logger``: append to ``run.log``, rotate by size.

It does what ``logging.handlers.RotatingFileHandler`` does (``run.log`` moves
to ``run.log.1``, ``.1`` to ``.2`` and so on, the oldest is dropped) with
less per record: one ``os.write`` on an ``O_APPEND`` descriptor and a size
kept in memory, where the standard handler goes through a text stream and
asks the stream for its position on every record. A fetch that logs one
line spent more time in the logging machinery than in its file writes.

``O_APPEND`` also keeps whole lines whole when something else appends to
the same file (a recompute from another process after this one died).
``O_NOFOLLOW``: a ``run.log`` that is a symlink is never written through (its
target may be anything outside the base directory); the handler then says so
once on the ``hadrosaur`` logger and writes nothing.
"""

from __future__ import annotations

import errno
import logging
import os
import stat

from . import _store
from ._nofollow import describe_mode

_log = logging.getLogger("hadrosaur")

__all__ = ("ResourceLogHandler",)


class ResourceLogHandler(logging.Handler):
    """Append formatted records to ``path``; rotate once it would exceed ``max_bytes``.

    The file is created on the first record, so a function that never logs
    leaves no empty run.log. ``max_bytes`` 0 means never rotate, as in the
    standard library.
    """

    def __init__(self, path: str, max_bytes: int, backups: int) -> None:
        super().__init__()
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._fd: int | None = None
        self._size = 0
        self._refused = False

    def emit(self, record: logging.LogRecord) -> None:
        if self._refused:
            return
        try:
            data = f"{self.format(record)}\n".encode("utf-8", "backslashreplace")
            if self._fd is None:
                self._open()
                if self._fd is None:
                    return
            if self._should_rotate(len(data)):
                self._rotate()
                if self._fd is None:
                    return
            _store.write_all(self._fd, data)
            self._size += len(data)
        except Exception:
            self.handleError(record)

    def _open(self) -> None:
        try:
            # O_NONBLOCK: opening a FIFO for writing would wait for a reader for ever
            # (it fails with ENXIO instead); it changes nothing for a regular file.
            fd = os.open(
                self.path,
                os.O_WRONLY
                | os.O_APPEND
                | os.O_CREAT
                | os.O_NOFOLLOW
                | os.O_NONBLOCK
                | os.O_CLOEXEC,
                0o644,
            )
        except OSError as exc:
            # With O_NOFOLLOW, ELOOP means run.log is a symlink.
            if exc.errno not in (errno.ELOOP, errno.ENXIO):
                raise
            self._refuse("a symbolic link" if exc.errno == errno.ELOOP else "a FIFO")
            return
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            self._refuse(describe_mode(st.st_mode))
            return
        self._fd, self._size = fd, st.st_size

    def _refuse(self, found: str) -> None:
        self._refused = True
        _log.warning(
            "not writing the log %s: it is %s, not a regular file, and hadrosaur never "
            "follows or writes through one inside the base directory; remove it to get "
            "the log back",
            self.path,
            found,
        )

    def _should_rotate(self, incoming: int) -> bool:
        return (
            self.max_bytes > 0
            and self.backups > 0
            and self._size > 0
            and self._size + incoming > self.max_bytes
        )

    def _rotate(self) -> None:
        self._close_fd()
        for n in range(self.backups - 1, 0, -1):
            older = f"{self.path}.{n}"
            if os.path.lexists(older):  # a symlink is renamed, never followed
                os.replace(older, f"{self.path}.{n + 1}")
        try:
            os.replace(self.path, f"{self.path}.1")
        except FileNotFoundError:
            pass  # removed under us: start a new file all the same
        self._open()

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        self.acquire()
        try:
            self._close_fd()
        finally:
            self.release()
        super().close()
