"""What reindex does to a collection's own entries that are not what hadrosaur made.

``.updates/``, ``.updates/.claimed/``, ``.updates/.kept/`` and ``.index.lock``
belong to hadrosaur: nothing but hadrosaur writes them, and their contents are
rebuilt from the resource directories by a reindex. A reader that meets a
symlink, a file or a FIFO where one of them should be refuses it and serves
from a scan of the directories (nothing is followed; see _nofollow.py). That
is right for a reader, but the repair command must get past it, or a base
damaged this way could never get its index back: reindex therefore removes
the damaged entry (unlinks a link or a file, never its target; removes an
empty directory where the lock file belongs) and lets the index recreate it.

A non-empty directory where ``.index.lock`` belongs is never removed: it holds
something of someone's, so the user is told to move it.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import _layout
from ._nofollow import DIRECTORY, REGULAR_FILE, path_kind
from .errors import RefusedPath

__all__ = ("repair_layout",)

#: The directories of markers, parent first (a repaired parent is made before its children).
_MARKER_DIRS = (
    (_layout.UPDATES_DIR,),
    (_layout.UPDATES_DIR, _layout.CLAIMED_DIR),
    (_layout.UPDATES_DIR, _layout.KEPT_DIR),
)


def repair_layout(coll_dir: Path) -> list[str]:
    """Remove what stands where a collection's marker directories or index lock belong.

    Returns one line per entry removed (empty when nothing was wrong).

    Raises:
        RefusedPath: ``.index.lock`` is a directory that is not empty.
        OSError: an entry could not be removed (e.g. the collection is read-only).
    """
    repaired: list[str] = []
    for parts in _MARKER_DIRS:
        path = coll_dir.joinpath(*parts)
        kind = path_kind(path)
        if kind is not None and kind != DIRECTORY:
            os.unlink(path)
            repaired.append(f"removed {path}: it was {kind}, not a directory of markers")
    lock = coll_dir / _layout.INDEX_LOCK_FILE
    kind = path_kind(lock)
    if kind == DIRECTORY:
        try:
            os.rmdir(lock)
        except OSError as exc:
            if not os.listdir(lock):
                raise
            raise RefusedPath(lock, "a directory that is not empty", "a lock file") from exc
        repaired.append(f"removed {lock}: it was an empty directory, not a lock file")
    elif kind is not None and kind != REGULAR_FILE:
        os.unlink(lock)
        repaired.append(f"removed {lock}: it was {kind}, not a lock file")
    return repaired
