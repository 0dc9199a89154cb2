"""Resource: what fetch() returns (the status words are re-exported from status.py).

A resource is one computed thing, identified by (collection, ident) and stored
in the directory ``BASE/COLLECTION/IDENT``. Its status file is the commit
point: the rest of the directory is only trusted as far as the status says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import _layout
from .status import COMPLETED, COUNT_KEYS, ERROR, INTERRUPTED, PENDING, STATUSES, UNAVAILABLE
from .times import duration_ms

__all__ = (
    "COMPLETED",
    "COUNT_KEYS",
    "ERROR",
    "INTERRUPTED",
    "PENDING",
    "STATUSES",
    "UNAVAILABLE",
    "Resource",
)


@dataclass(frozen=True)
class Resource:
    """One resource as read from disk.

    Attributes:
        collection: the collection name.
        ident: the resource's identifier within its collection.
        status: one of :data:`STATUSES`.
        result: the JSON value the function returned (None unless completed).
        start_time: when the last attempt started, epoch milliseconds.
        end_time: when the last attempt ended, epoch milliseconds (None while running).
        directory: the resource directory (see ``paths`` for its files).
        args: the arguments of the last attempt.
        attempt: how many times the resource has been started.
        pid: the process id of the last attempt.
        host: the host name of the last attempt.
        problem: what is damaged, when a file of the resource cannot be read back.
    """

    collection: str
    ident: str
    status: str
    result: Any = None
    start_time: int | None = None
    end_time: int | None = None
    directory: str = field(default="", repr=False)
    args: Any = None
    attempt: int = 0
    pid: int | None = None
    host: str | None = None
    #: Why the files cannot be trusted (a garbled status or result.json); "" normally.
    problem: str = ""

    @cached_property
    def paths(self) -> dict[str, Path]:
        """base, status, meta, result, log, error and storage paths (as in 0.4.1, plus meta)."""
        base = Path(self.directory)
        return {
            "base": base,
            "status": base / _layout.STATUS_FILE,
            "meta": base / _layout.META_FILE,
            "result": base / _layout.RESULT_FILE,
            "log": base / _layout.LOG_FILE,
            "error": base / _layout.ERROR_FILE,
            "storage": base / _layout.STORAGE_DIR,
        }

    @property
    def duration_ms(self) -> int | None:
        """Milliseconds from start to end, or None when either is unknown."""
        return duration_ms(self.start_time, self.end_time)
