"""Change markers: the files in ``COLL/.updates/`` that tell the index what to re-read.

Writers create ``.updates/IDENT`` (or ``.updates/.plan-ID``) after each change;
a drainer renames markers into ``.updates/.claimed/``, applies them, and only
then unlinks them (see _index.py for the whole protocol). These are the
filesystem steps of that protocol; nothing here opens the index.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from . import _store
from ._locks import lock_held
from ._nofollow import require_directory

T = TypeVar("T")

__all__ = ("busy", "chunks", "claim_all", "claimed_names", "marker_dirs", "release_claimed")


def marker_dirs(coll_dir: Path) -> tuple[Path, Path]:
    """``.updates/`` and ``.updates/.claimed/`` of a collection, created if missing.

    Raises:
        RefusedPath: either is a symlink: markers are never listed, renamed or
            removed through one (the index then serves readers from a scan).
    """
    updates = coll_dir / _store.UPDATES_DIR
    claimed = updates / _store.CLAIMED_DIR
    claimed.mkdir(parents=True, exist_ok=True)
    require_directory(str(updates), "a directory of markers")
    require_directory(str(claimed), "a directory of markers")
    return updates, claimed


def _is_marker(entry: os.DirEntry[str]) -> bool:
    # Markers are empty files; anything else found here is not ours to apply.
    name = entry.name
    if name.startswith(".") and not name.startswith(_store.PLAN_MARKER_PREFIX):
        return False
    return not entry.is_dir(follow_symlinks=False)


def _marker_names(directory: Path) -> list[str]:
    with os.scandir(directory) as entries:
        return [e.name for e in entries if _is_marker(e)]


def claimed_names(coll_dir: Path) -> list[str]:
    """The markers in ``.claimed/``: claimed by a drainer that has not released them."""
    return _marker_names(marker_dirs(coll_dir)[1])


def claim_all(coll_dir: Path) -> Iterator[str]:
    """Rename every marker into .claimed/, yielding names as they are claimed.

    A generator, so that a drain applies chunk by chunk and a drainer
    killed early leaves few claimed markers behind.
    """
    updates, claimed = marker_dirs(coll_dir)
    for name in _marker_names(updates):
        try:
            os.rename(updates / name, claimed / name)
        except FileNotFoundError:
            continue  # taken by a drainer that ignores .index.lock (0.4.1)
        yield name


def busy(coll_dir: Path, idents: Iterable[str]) -> set[str]:
    """The idents whose compute lock is held now: their markers must be kept.

    A writer makes its marker before its first write, holds the lock until
    after its last, and may die between two writes without making another
    marker. So a claimed marker may only go if its lock was free *before*
    the drain read the resource: then every later change belongs to a
    writer that took the lock afterwards and made a new marker. A kept
    marker stays in .claimed/ and is applied again by each drain until its
    lock is found free. A "resource directory" that is a symlink or a file
    is never busy (no compute runs in one) and is never looked into.
    """
    return {
        i
        for i in idents
        if _store.directory_problem(coll_dir / i) == ""
        and lock_held(coll_dir / i / _store.LOCK_FILE)
    }


def release_claimed(coll_dir: Path, names: list[str]) -> None:
    """Unlink applied markers: the last step, so a crash before it only repeats work."""
    claimed = coll_dir / _store.UPDATES_DIR / _store.CLAIMED_DIR
    for name in names:
        (claimed / name).unlink(missing_ok=True)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, so that work is applied a batch at a time."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
