"""A quick look at an index as it stands: idents by prefix, for shell completion.

Opening a collection for reading (:class:`~hadrosaur._index.CollectionIndex`)
makes the index right first: it rebuilds a missing or stale one, drains every
marker, and on a read-only base scans the directories. That is what a reader
wants, and what a TAB cannot afford (seconds at 60,000 resources). A peek
does none of it: it opens the LevelDB that exists, if it is current, and
reads a few keys; otherwise it answers None (nothing to offer), quickly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .. import _store
from .changelog import ChangeLog
from .codec import text
from .groups import signatures_starting
from .keys import RECORD_PREFIX, RECORDS_END, record_key
from .kv import KeyValueStore, LevelDBError, open_leveldb
from .lock import IndexLock
from .opening import is_current

__all__ = ("peek", "peek_idents", "peek_signatures")

T = TypeVar("T")


def peek_idents(coll_dir: Path, prefix: str, limit: int, timeout: float) -> list[str] | None:
    """The indexed idents starting with ``prefix`` (at most ``limit``), or None.

    None when the index cannot be read cheaply (see :func:`peek`). Markers not
    yet drained are not looked at: the idents are those of the last reading.

    Example:
        >>> peek_idents(Path("base/genomes"), "GCF_", 200, 0.5)  # doctest: +SKIP
        ['GCF_0001', 'GCF_0002']
    """

    def read(store: KeyValueStore) -> list[str]:
        found: list[str] = []
        start = record_key(prefix)
        for key in store.iterator(start=start, stop=RECORDS_END, include_value=False):
            ident = text(key[len(RECORD_PREFIX) :])
            if not ident.startswith(prefix) or len(found) >= limit:
                break
            found.append(ident)
        return found

    return peek(coll_dir, timeout, read)


def peek_signatures(coll_dir: Path, prefix: str, limit: int, timeout: float) -> list[str] | None:
    """The signatures of the error groups starting with ``prefix`` (at most ``limit``), or None."""
    return peek(coll_dir, timeout, lambda store: signatures_starting(store, prefix)[:limit])


def peek(coll_dir: Path, timeout: float, read: Callable[[KeyValueStore], T]) -> T | None:
    """``read`` on the collection's index as it stands, or None when that is not cheap.

    None when the index is missing, a link, not current, held by another
    process for ``timeout`` seconds, damaged, or the base cannot be written
    (LevelDB and the lock both need to). Nothing is rebuilt, drained or scanned.
    """
    path = coll_dir / _store.INDEX_DIR
    if os.path.islink(path) or not path.is_dir():
        return None  # never opened through a link; missing: only a reader rebuilds it
    lock = IndexLock(coll_dir / _store.INDEX_LOCK_FILE)
    try:
        # The index lock, not only LevelDB's own: a reader holds it while it rebuilds.
        if not lock.acquire(timeout):
            return None
    except OSError:  # a read-only base: the lock file cannot be opened for writing
        return None
    try:
        return _read_current(path, lock.recorded, read)
    finally:
        lock.release()


def _read_current(
    path: Path, recorded: tuple[str, int] | None, read: Callable[[KeyValueStore], T]
) -> T | None:
    try:
        store = open_leveldb(str(path), create_if_missing=False)
    except (LevelDBError, OSError):
        return None  # damaged, or not a LevelDB: the next reader rebuilds it
    try:
        # The log's limit matters only to a writer; a peek writes nothing.
        if not is_current(store, ChangeLog(1), recorded, path):
            return None
        return read(store)
    except (LevelDBError, OSError, ValueError):
        return None  # damage found while reading: not a TAB's to repair
    finally:
        with contextlib.suppress(LevelDBError):
            store.close()
