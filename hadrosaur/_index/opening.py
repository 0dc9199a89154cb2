"""Opening the LevelDB of an index, judging whether it can be believed, and deleting it.

The index is a cache, and never believed when it looks wrong: anything that
cannot be decoded is corruption (:class:`~hadrosaur._index.codec.IndexCorrupt`),
which makes the reader discard and rebuild it. An index of another schema,
or one behind the position its last writer recorded, is rebuilt too.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from .. import _store
from ..errors import IndexBusy, IndexUnavailable
from .changelog import ChangeLog
from .keys import SCHEMA_VERSION, VERSION_KEY
from .kv import CheckedLevelDB, KeyValueStore, LevelDBError, LevelDBIOError, open_leveldb

__all__ = ("TRASH", "clear_trash", "create_leveldb", "is_current", "open_waiting", "remove_index")

#: Where an index being deleted is moved first (one at a time: the index lock is held).
TRASH = _store.INDEX_DIR + ".deleting"

_log = logging.getLogger("hadrosaur")


def clear_trash(trash: Path) -> None:
    """Remove what stands at the trash path: a directory tree, or just a link or a file.

    A symlink or file there is not ours (nothing renames one there); it is
    unlinked, never followed, so a link's target is left alone.
    """
    kind = _store.directory_problem(trash)
    if kind is None:
        return
    if kind:
        os.unlink(trash)
    else:
        shutil.rmtree(trash)


def remove_index(coll_dir: Path, path: Path) -> None:
    """Delete the LevelDB directory ``path``, moving it out of the way first.

    A process killed while deleting in place would leave a half-deleted
    LevelDB whose remaining files may still open and answer, wrongly; a
    directory renamed away in one step is never opened again.
    """
    clear_trash(coll_dir / TRASH)  # left by a process killed while deleting
    trash = coll_dir / TRASH
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        os.rename(path, trash)
        shutil.rmtree(trash)


def _is_lock_contention(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("temporarily unavailable" in text or "already held" in text)


def open_waiting(path: Path, started: float, timeout: float) -> CheckedLevelDB:
    """Open (or create) the LevelDB, waiting while another process holds LevelDB's own lock."""
    delay = 0.005
    while True:
        try:
            return open_leveldb(str(path), create_if_missing=True)
        except LevelDBIOError as exc:
            # Only a process that ignores .index.lock (an older hadrosaur) gets here.
            if not _is_lock_contention(exc):
                raise
            if time.monotonic() - started > timeout:
                raise IndexBusy(path, time.monotonic() - started) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def create_leveldb(coll_dir: Path, path: Path) -> CheckedLevelDB:
    """An empty LevelDB at ``path``, in place of whatever was there."""
    remove_index(coll_dir, path)
    try:
        return open_leveldb(str(path), create_if_missing=True, error_if_exists=True)
    except LevelDBError as exc:
        raise IndexUnavailable(path, exc) from exc


def is_current(
    store: KeyValueStore, changelog: ChangeLog, recorded: tuple[str, int] | None, path: Path
) -> bool:
    """True when ``store`` holds this schema and every write its last writer recorded.

    Loads the change log's position on the way. LevelDB cannot tell that
    its newest write-ahead log was deleted or cut short (it takes that for a
    writer that crashed before writing), and would serve the older state
    silently. The lock file remembers where the change log had reached, so
    the loss shows. Raises IndexCorrupt when the log's bounds do not decode.
    """
    if store.get(VERSION_KEY) != SCHEMA_VERSION:
        return False
    changelog.load(store)
    if recorded is None or recorded[0] != changelog.epoch or recorded[1] < changelog.next_seq:
        return True
    _log.info("the index %s lost its latest changes; rebuilding it", path)
    return False
