"""Building a new index aside while readers keep the old one, and swapping it in.

A rebuild of a million resources scans for ~30 s. When the index it
replaces is sound (``reindex``, ``check --fix``), readers need not wait
for that scan: the new LevelDB is built in a directory of its own, without
the index lock, while every reader opens, drains and reads the old index
as usual; only the swap takes the lock, for about as long as a drain.
(An index that is missing, damaged or of another schema has nothing to
serve meanwhile: that rebuild holds the lock, as rebuild.py says.)

Layout, next to ``.index/``::

    .index.building/TOKEN/lock   flock held by the builder for its whole life
    .index.building/TOKEN/db/    the LevelDB being built

The builders live in one directory of their own so that a reader finds
them with one lstat, never a listing of the collection (which holds every
resource). TOKEN is ``PID-RANDOM``.

The drain protocol during a build (no marker drained meanwhile is lost):

1. Register: holding the index lock, the builder creates its directory
   and its flocked ``lock``. Every reader that takes the lock after that
   sees the builder (:func:`live_builders`, one lstat when there is none).
2. Scan, without the lock: the new index is filled from the directories
   (rebuild.py, touching no marker), and its version key written last.
   A resource read as pending whose compute lock is held is remembered.
3. Meanwhile a reader drains markers into the old index as usual and, for
   each resource it applies, also writes ``k/TOKEN/IDENT`` into the old
   index (drain.py, :func:`record_drained`), before it unlinks the claimed
   marker: a drainer killed in between leaves the marker claimed, and the
   next drain applies and records it again.
4. Catch up: the builder takes the lock, takes (reads and deletes) its
   ``k/TOKEN/`` keys, and re-reads those resources' files into the new
   index, probing their locks first as a drain does. While there are many,
   it releases the lock and re-reads them unlocked, then comes back for
   what was drained since; the last round (few left, or the fifth) is
   applied holding the lock, so nothing is drained between it and the swap.
5. Swap, holding the lock: kept markers are created for the resources
   found locked (so that the new index's sweeps notice their end; created
   before the swap, so a kill leaves them to the old index's sweeps,
   harmlessly), then ``.index`` is renamed to ``.index.deleting``, the new
   ``db`` renamed to ``.index``, and the old one deleted. The new index
   starts a new change-log epoch: live readers reload.
6. Markers still in ``.updates/`` (created after the last catch-up's
   claim, or left claimed) are drained into the new index right after.

Why every change reaches the new index. A writer writes a resource's files
and then its marker. A change made after the scan read that resource has
its marker created after the builder registered, so that marker is either
still in ``.updates/`` at the swap (step 6), or was applied by a drain that
saw the builder and recorded it (step 3), so the builder re-read the files
after that drain did (step 4). A resource whose lock was held when read
may still change without a new marker (its worker dies): it gets a kept
marker (step 5), as in a rebuild under the lock. Plans written meanwhile
are found by the new index's first drain (no ``Pn`` key yet: every plan
is checked).

Crash safety. A builder killed (or failing) before the swap leaves only its
directory, which the next reader holding the lock removes (its flock is
free; a link or file standing there is unlinked, never followed), and its
``k/`` keys, which that reader deletes. Killed between the two renames,
it leaves no ``.index``: the next opening rebuilds it. Killed after, the
new index is in place. Nothing else renames a directory to ``.index``, so
a half-built index is never opened as the index. If the old index changed epoch (another
rebuild won) or vanished during the build, the records of step 3 are gone:
the build is dropped and the index opened as usual.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from .. import _markers, _store
from .._locks import is_locked_elsewhere
from ..errors import IndexUnavailable
from .keys import drained_key, drained_prefix
from .kv import CheckedLevelDB, KeyValueStore, LevelDBError, open_leveldb
from .opening import TRASH, clear_trash
from .writes import IndexWriter

__all__ = (
    "BUILDING_DIR",
    "CATCH_UP_LOCKED",
    "CATCH_UP_ROUNDS",
    "Builder",
    "Builders",
    "catch_up",
    "live_builders",
    "record_drained",
    "swap_in",
    "take_drained",
)

#: Where builders keep their new index until the swap (next to ``.index``).
BUILDING_DIR = _store.INDEX_DIR + ".building"
#: Drained resources left at most to re-read holding the lock (else one more unlocked round).
CATCH_UP_LOCKED = 500
#: Catch-up rounds at most; the last one holds the lock whatever is left.
CATCH_UP_ROUNDS = 5

_log = logging.getLogger("hadrosaur")
_LOCK = "lock"
_DB = "db"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class Builder:
    """One process's build of a new index aside: its directory, its flock, its LevelDB path."""

    def __init__(self, entry: Path, fd: int) -> None:
        self.entry = entry
        self.token = entry.name
        self.db = entry / _DB
        self._fd: int | None = fd

    @classmethod
    def register(cls, coll_dir: Path) -> Builder:
        """Create this build's directory and hold its flock; call holding the index lock.

        From the moment this returns, every drain records what it applies
        for this builder (step 1 of the protocol).
        """
        parent = coll_dir / BUILDING_DIR
        if _store.directory_problem(parent):
            os.unlink(parent)  # a link or a file is not ours: removed, never followed
        with contextlib.suppress(FileExistsError):
            os.mkdir(parent)
        entry = parent / f"{os.getpid()}-{secrets.token_hex(4)}"
        os.mkdir(entry)
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | _O_NOFOLLOW
        fd = os.open(entry / _LOCK, flags, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: never blocks
        return cls(entry, fd)

    def create_store(self) -> CheckedLevelDB:
        """The empty LevelDB this build fills."""
        try:
            return open_leveldb(str(self.db), create_if_missing=True, error_if_exists=True)
        except LevelDBError as exc:
            raise IndexUnavailable(self.db, exc) from exc

    def remove(self) -> None:
        """Delete this build's directory (what is left of it), then release its flock."""
        try:
            shutil.rmtree(self.entry)
        except FileNotFoundError:
            pass
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Release the flock, leaving the directory (and ``k/`` keys) to the next reader.

        For a build that failed without the index lock: the next reader
        holding it finds the builder dead, removes its directory and drops
        its keys, as for a builder that was killed.
        """
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Builders(NamedTuple):
    """What :func:`live_builders` found: tokens of running builds, and of dead ones removed."""

    live: list[str]
    dead: list[str]


def live_builders(coll_dir: Path) -> Builders:
    """The builds running now; removes what killed builders left, and names them.

    Call holding the index lock (registration happens under it, so a
    directory seen here without a held flock is a dead builder's). One lstat
    when no build runs. Anything that is not a directory is unlinked, and a
    dead builder's directory is removed without following links inside it;
    the caller drops the dead ones' ``k/`` keys.
    """
    parent = f"{os.fspath(coll_dir)}/{BUILDING_DIR}"
    try:
        mode = os.lstat(parent).st_mode
    except FileNotFoundError:
        return Builders([], [])
    if not stat.S_ISDIR(mode):
        os.unlink(parent)  # a link or a file is not ours: removed, never followed
        return Builders([], [])
    live, dead = [], []
    with os.scandir(parent) as entries:
        found = list(entries)
    for entry in found:
        if entry.is_dir(follow_symlinks=False) and _is_alive(entry.path):
            live.append(entry.name)
            continue
        dead.append(entry.name)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError as exc:  # dead, so harmless where it is: left for next time
            _log.info("could not remove %s, left by a killed rebuild: %s", entry.path, exc)
    if not live:
        with contextlib.suppress(OSError):  # not empty: something could not be removed
            os.rmdir(parent)
    return Builders(live, dead)


def _is_alive(entry: str) -> bool:
    """True while the builder of ``entry`` holds its flock."""
    try:
        # O_NONBLOCK: a FIFO planted there would otherwise wait for a writer for ever.
        fd = os.open(f"{entry}/{_LOCK}", os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | _O_NOFOLLOW)
    except OSError:
        return False  # missing (killed before creating it) or a planted link
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False  # a FIFO, a directory...: no builder's, removed with its directory
        return is_locked_elsewhere(fd)
    finally:
        os.close(fd)


def record_drained(
    store: KeyValueStore, builders: Sequence[str], idents: Iterable[str], durable: bool
) -> None:
    """Note in the old index, for each live builder, the resources a drain just applied."""
    with store.write_batch(sync=durable) as wb:
        for ident in idents:
            for token in builders:
                wb.put(drained_key(token, ident), b"")


def take_drained(store: KeyValueStore, token: str) -> list[str]:
    """The resources drained for builder ``token`` since it last asked; forgets them."""
    prefix = drained_prefix(token)
    keys = list(store.iterator(prefix=prefix, include_value=False))
    with store.write_batch() as wb:
        for key in keys:
            wb.delete(key)
    return [key[len(prefix) :].decode() for key in keys]


def catch_up(writer: IndexWriter, idents: list[str]) -> set[str]:
    """Re-read drained resources into the new index (probe first); those whose lock was held."""
    busy: set[str] = set()
    for chunk in _markers.chunks(idents, 2000):
        probe = _markers.probe(writer.coll_dir, chunk)
        writer.apply_resources(chunk, probe)
        busy.update(probe.busy)
    return busy


def swap_in(coll_dir: Path, new: Path, index: Path, durable: bool) -> None:
    """Put the LevelDB at ``new`` in place of ``index``; call holding the index lock.

    Two renames (the old index aside, the new one in), then the old one is
    deleted: a kill between them leaves no index, which the next opening
    rebuilds; never a mixture.
    """
    trash = coll_dir / TRASH
    clear_trash(trash)
    problem = _store.directory_problem(index)
    if problem:
        os.unlink(index)  # a link or a file: removed, its target untouched
    elif problem is not None:
        os.rename(index, trash)
    os.rename(new, index)
    if durable:
        _store.fsync_dir(coll_dir)
    clear_trash(trash)
