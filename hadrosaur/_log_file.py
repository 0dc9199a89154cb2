"""The handler behind ``ctx.logger``: append to ``run.log``, rotate by size.

It does what ``logging.handlers.RotatingFileHandler`` does (``run.log`` moves
to ``run.log.1``, ``.1`` to ``.2`` and so on, the oldest is dropped) with
less per record: one ``os.write`` on an ``O_APPEND`` descriptor and a size
kept in memory, where the standard handler goes through a text stream and
asks the stream for its position on every record. A fetch that logs one
line spent more time in the logging machinery than in its file writes.

``O_APPEND`` also keeps whole lines whole when something else appends to
the same file (a recompute from another process after this one died).
"""

from __future__ import annotations

import logging
import os

from . import _store

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

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = f"{self.format(record)}\n".encode("utf-8", "backslashreplace")
            if self._fd is None:
                self._open()
            if self._should_rotate(len(data)):
                self._rotate()
            assert self._fd is not None
            _store.write_all(self._fd, data)
            self._size += len(data)
        except Exception:
            self.handleError(record)

    def _open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._size = os.fstat(self._fd).st_size

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
            if os.path.exists(older):
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
