"""The key-value stores the index is kept in: LevelDB, checked, or memory.

The index uses a small subset of plyvel's ``DB``: ``get``, ``iterator``,
``write_batch``, ``compact`` and ``close``, written down as the
:class:`KeyValueStore` protocol. Two stores provide it:

- :func:`open_leveldb`: the LevelDB on disk, opened with ``paranoid_checks``
  (a damaged write-ahead log fails the opening instead of silently dropping
  records) and read with ``verify_checksums`` (a damaged block raises instead
  of returning garbage). The index is a cache: any error means "rebuild it",
  so it is better to see damage than to believe it.
- :class:`MemoryDB`: for a reader of a collection whose index cannot be
  written (a read-only mount, another user's files, a full disk). LevelDB
  writes on open, so instead the index is built in memory from a scan of the
  directories, exactly as a rebuild would build it on disk, and thrown away
  after the read.

Example:
    >>> db = MemoryDB()
    >>> with db.write_batch() as wb:
    ...     wb.put(b"c/a", b"1")
    ...     wb.put(b"c/b", b"2")
    >>> list(db.iterator(prefix=b"c/", include_value=False))
    [b'c/a', b'c/b']
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Literal, Protocol, overload

# The one import of the LevelDB binding. plyvel 1.5.1 has wheels for CPython up to
# 3.12 on Linux x86_64 only; plyvel-next, a maintained fork with the same API under
# the import name plyvel_next, has them for 3.12 to 3.14 on Linux (x86_64 and
# aarch64), macOS and Windows. The markers in pyproject.toml install exactly one
# of the two, split at the same version as this test.
if sys.version_info >= (3, 12):
    import plyvel_next as plyvel
else:
    import plyvel

__all__ = (
    "CheckedLevelDB",
    "ClosedStore",
    "KeyValueStore",
    "LevelDBError",
    "LevelDBIOError",
    "MemoryDB",
    "WriteBatch",
    "open_leveldb",
)

#: Every error the binding raises (corruption included); the index treats it as "rebuild".
LevelDBError: Any = plyvel.Error
#: The binding's I/O error (a lock held by another process, a missing file); also an OSError.
LevelDBIOError: Any = plyvel.IOError


class WriteBatch(Protocol):
    """Writes applied together when the ``with`` block ends (plyvel's ``WriteBatch``)."""

    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def __enter__(self) -> WriteBatch: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> object: ...


class KeyValueStore(Protocol):
    """What the index needs of a store: sorted bytes keys, batches, and nothing else."""

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key``, or None."""

    @overload
    def iterator(
        self,
        *,
        prefix: bytes | None = None,
        start: bytes | None = None,
        stop: bytes | None = None,
        include_start: bool = True,
        include_value: Literal[True] = True,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]: ...

    @overload
    def iterator(
        self,
        *,
        prefix: bytes | None = None,
        start: bytes | None = None,
        stop: bytes | None = None,
        include_start: bool = True,
        include_value: Literal[False],
        reverse: bool = False,
    ) -> Iterator[bytes]: ...

    def write_batch(self, *, transaction: bool = False, sync: bool = False) -> WriteBatch:
        """A batch; ``transaction``: dropped if its block raises; ``sync``: fsync'd."""

    def compact(self) -> None:
        """Merge what was written into one sorted run (a no-op where that means nothing)."""

    def close(self) -> None:
        """Release the store; it is not used afterwards."""


class CheckedLevelDB:
    """A plyvel ``DB`` whose every read verifies block checksums (DB cannot be subclassed)."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(key, verify_checksums=True)
        return value

    def iterator(self, **options: bytes | bool | None) -> Iterator[Any]:
        it: Iterator[Any] = self._db.iterator(verify_checksums=True, **options)
        return it

    def write_batch(self, *, transaction: bool = False, sync: bool = False) -> WriteBatch:
        batch: WriteBatch = self._db.write_batch(transaction=transaction, sync=sync)
        return batch

    def compact(self) -> None:
        """Merge every table into one sorted run, so that a lookup opens one table.

        With explicit bounds: plyvel's compact_range() without them compacts nothing.
        The index's keys all start with an ASCII letter.
        """
        self._db.compact_range(start=b"\x00", stop=b"\xff")

    def close(self) -> None:
        self._db.close()


def open_leveldb(
    path: str, *, create_if_missing: bool, error_if_exists: bool = False
) -> CheckedLevelDB:
    """Open (or create) the LevelDB at ``path`` with every check on; raises plyvel errors."""
    db = plyvel.DB(
        path,
        create_if_missing=create_if_missing,
        error_if_exists=error_if_exists,
        paranoid_checks=True,
    )
    return CheckedLevelDB(db)


class MemoryDB:
    """A sorted key-value store in memory with plyvel's ``get``/``iterator``/``write_batch``."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._sorted: list[bytes] | None = []

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        if key not in self._data:
            self._sorted = None
        self._data[key] = value

    def delete(self, key: bytes) -> None:
        if self._data.pop(key, None) is not None:
            self._sorted = None

    def write_batch(self, *, transaction: bool = False, sync: bool = False) -> _Batch:
        return _Batch(self, transaction)

    def compact(self) -> None:
        """Nothing to do: the keys are sorted in memory already."""

    def close(self) -> None:
        self._data.clear()
        self._sorted = []

    def _keys(self) -> list[bytes]:
        if self._sorted is None:
            self._sorted = sorted(self._data)
        return self._sorted

    def iterator(
        self,
        *,
        prefix: bytes | None = None,
        start: bytes | None = None,
        stop: bytes | None = None,
        include_start: bool = True,
        include_value: bool = True,
        reverse: bool = False,
    ) -> Iterator[Any]:
        """Keys (or key, value pairs) in order (``reverse``: last first), as plyvel's."""
        keys = self._keys()
        if prefix is not None:
            start, stop, include_start = prefix, _after_prefix(prefix), True
        lo = 0
        if start is not None:
            find = bisect.bisect_left if include_start else bisect.bisect_right
            lo = find(keys, start)
        hi = len(keys) if stop is None else bisect.bisect_left(keys, stop)
        chosen = keys[lo:hi]
        if reverse:
            chosen.reverse()
        data = self._data
        # A snapshot: writes made while iterating do not disturb the iteration.
        if include_value:
            return iter([(k, data[k]) for k in chosen])
        return iter(chosen)


def _after_prefix(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no bound)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class _Batch:
    """Writes collected and applied together when the ``with`` block ends."""

    def __init__(self, db: MemoryDB, transaction: bool) -> None:
        self._db = db
        self._transaction = transaction
        self._ops: list[tuple[bytes, bytes | None]] = []

    def put(self, key: bytes, value: bytes) -> None:
        self._ops.append((key, value))

    def delete(self, key: bytes) -> None:
        self._ops.append((key, None))

    def __enter__(self) -> _Batch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and self._transaction:
            return  # like plyvel: a transaction is dropped when its block raises
        for key, value in self._ops:
            if value is None:
                self._db.delete(key)
            else:
                self._db.put(key, value)


class ClosedStore:
    """The store of an index that is not open: any use is a mistake, said plainly."""

    def get(self, key: bytes) -> bytes | None:
        raise self._closed()

    def iterator(self, **options: bytes | bool | None) -> Iterator[Any]:
        raise self._closed()

    def write_batch(self, *, transaction: bool = False, sync: bool = False) -> WriteBatch:
        raise self._closed()

    def compact(self) -> None:
        raise self._closed()

    def close(self) -> None:
        """Nothing to release."""

    @staticmethod
    def _closed() -> RuntimeError:
        return RuntimeError("the index is not open: use it inside its with block")
