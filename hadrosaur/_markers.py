"""Change markers: the files in ``COLL/.updates/`` that tell the index what to re-read.

Writers create ``.updates/IDENT`` (or ``.updates/.plan-ID``) after each change
(:func:`touch_marker`);
a drainer renames markers into ``.updates/.claimed/``, applies them, and only
then unlinks them (see _index/drain.py for the whole protocol). A marker whose
resource's lock was held moves to ``.updates/.kept/`` instead, where it waits
to be examined again (see _index/sweep.py): apart from ``.claimed/``, so that
a drain reapplies at once only what a killed drainer left, not every
resource being computed. These are the filesystem steps of that protocol;
nothing here opens the index.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from . import _layout, _store
from ._locks import exclusive_flocks, held_by_snapshot
from ._nofollow import require_directory
from .entries import Entry

T = TypeVar("T")

__all__ = (
    "KEPT_DIR",
    "Probe",
    "chunks",
    "claim_all",
    "claimed_names",
    "keep",
    "kept_names",
    "marker_dirs",
    "open_collection",
    "probe",
    "release_claimed",
    "release_kept",
    "touch_marker",
)

KEPT_DIR = _layout.KEPT_DIR
_MARKER_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def touch_marker(coll_dir: _store.StrPath, name: str, durable: bool = False) -> None:
    """Create the change marker ``.updates/NAME`` (a no-op if it already exists).

    Writers call this only after the status file is in place, so a drainer
    that finds the marker always reads the new status.
    """
    updates = f"{os.fspath(coll_dir)}/{_store.UPDATES_DIR}"
    path = f"{updates}/{name}"
    try:
        fd = _open_marker(path)
    except FileNotFoundError:
        os.makedirs(updates, exist_ok=True)
        fd = _open_marker(path)
    if fd is not None:
        os.close(fd)
    if durable:
        _store.fsync_dir(updates)


def _open_marker(path: str) -> int | None:
    """Create or open a marker; None when a symlink or a FIFO already stands there.

    O_NOFOLLOW: O_CREAT through a dangling link would create its target,
    outside BASE. O_NONBLOCK: opening a FIFO planted there for writing would
    otherwise wait for a reader for ever (ENXIO instead). A link or a FIFO
    there still says "changed" to a drainer, which only looks at names,
    renames it and unlinks it: nothing to do here.
    """
    try:
        return os.open(path, _MARKER_FLAGS, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):
            return None
        raise


def marker_dirs(coll_dir: Path) -> tuple[Path, Path]:
    """``.updates/`` and ``.updates/.claimed/`` of a collection, created if missing.

    Raises:
        RefusedPath: either is a symlink: markers are never listed, renamed or
            removed through one (the index then serves readers from a scan).
    """
    updates = coll_dir / _store.UPDATES_DIR
    claimed = updates / _store.CLAIMED_DIR
    # Checked before .claimed/ is created in it: through a symlinked .updates/,
    # even that mkdir would write outside BASE.
    require_directory(str(updates), "a directory of markers")
    claimed.mkdir(parents=True, exist_ok=True)
    require_directory(str(claimed), "a directory of markers")
    return updates, claimed


def _is_marker(entry: os.DirEntry[str]) -> bool:
    # Markers are empty files; anything else found here is not ours to apply.
    name = entry.name
    if name.startswith(".") and not name.startswith(_store.PLAN_MARKER_PREFIX):
        return False
    return not entry.is_dir(follow_symlinks=False)


def _marker_names(directory: str | Path | int) -> list[str]:
    """The markers in ``directory`` (a path, or a descriptor of it: os.scandir takes both)."""
    with os.scandir(directory) as entries:
        return [e.name for e in entries if _is_marker(e)]


def claimed_names(coll_dir: Path) -> list[str]:
    """The markers in ``.claimed/``: claimed by a drainer that has not released them."""
    return _marker_names(marker_dirs(coll_dir)[1])


def kept_names(coll_dir: Path) -> list[str]:
    """The markers in ``.kept/``: resources whose lock was held when last applied.

    Empty when ``.kept`` is missing or is not a real directory (a symlink is
    never listed; :func:`keep` refuses to keep markers there, and ``reindex``
    removes it).
    """
    fd = _open_directory(f"{os.fspath(coll_dir)}/{_store.UPDATES_DIR}/{KEPT_DIR}")
    if fd is None:
        return []
    try:
        return _marker_names(fd)
    finally:
        os.close(fd)


def claim_all(coll_dir: Path) -> Iterator[str]:
    """Rename every marker into .claimed/, yielding names as they are claimed.

    A generator, so that a drain applies chunk by chunk and a drainer
    killed early leaves few claimed markers behind.
    """
    updates, claimed = map(os.fspath, marker_dirs(coll_dir))
    # Renamed by name between two descriptors: no lookup of the whole path twice per
    # marker. Opened without following a link (marker_dirs has just refused one).
    updates_fd = _open_directory(updates)
    claimed_fd = None if updates_fd is None else _open_directory(claimed)
    try:
        if updates_fd is None or claimed_fd is None:
            return  # removed since marker_dirs: nothing is claimed until the next drain
        rename = os.rename
        for name in _marker_names(updates_fd):
            try:
                rename(name, name, src_dir_fd=updates_fd, dst_dir_fd=claimed_fd)
            except FileNotFoundError:
                continue  # taken by a drainer that ignores .index.lock (0.4.1)
            yield name
    finally:
        for fd in (updates_fd, claimed_fd):
            if fd is not None:
                os.close(fd)


@dataclass
class Probe:
    """What probing the compute locks of some resources found.

    ``directories``: the idents that are real directories (one lstat each,
    made before the probe: their files may be read without another check).
    ``busy``: those of them whose lock was held. ``expired``: resources of
    another host whose lease readers here watched expire, each with the start
    time of the attempt watched (see _index/leases.py); a record read
    afterwards is interrupted only if it is still that attempt.
    """

    directories: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    expired: dict[str, int | None] = field(default_factory=dict)

    def lease_expired(self, record: Entry) -> bool:
        """True when ``record`` is the very attempt whose lease was watched expire."""
        expired = self.expired
        if not expired or record.ident not in expired:
            return False
        return expired[record.ident] == record.start_time


def probe(coll_dir: Path, idents: Iterable[str]) -> Probe:
    """Which idents' compute locks are held now: their markers must be kept.

    A writer makes its marker before its first write, holds the lock until
    after its last, and may die between two writes without making another
    marker. So a claimed marker may only go if its lock was free *before*
    the drain read the resource: then every later change belongs to a
    writer that took the lock afterwards and made a new marker. A kept
    marker moves to .kept/ and is examined again by sweeps until its lock
    is found free (see _index/sweep.py). A "resource directory" that is a
    symlink or a file is never busy (no compute runs in one) and is never
    looked into.
    """
    found = Probe()
    # Named from a descriptor of the collection: each lookup is two components, not
    # the whole path (a drain probes thousands).
    fd = open_collection(coll_dir)
    base, prefix = (fd, "") if fd is not None else (None, f"{os.fspath(coll_dir)}/")
    lock_name = f"/{_store.LOCK_FILE}"
    directories, busy = found.directories, found.busy
    idents = list(idents)
    # Many locks (live workers, kept markers): one read of /proc/locks answers "held".
    locked = exclusive_flocks() if len(idents) >= _SNAPSHOT_FROM else None
    try:
        for ident in idents:
            if _store.directory_problem(prefix + ident, base) == "":
                directories.add(ident)
                if held_by_snapshot(prefix + ident + lock_name, locked, base):
                    busy.add(ident)
    finally:
        if fd is not None:
            os.close(fd)
    return found


#: Probes of at least this many locks read /proc/locks first (see _locks.exclusive_flocks).
_SNAPSHOT_FROM = 16


def open_collection(coll_dir: _store.StrPath) -> int | None:
    """A descriptor of a collection's directory, for names relative to it; None if missing.

    Followed like the path it replaces (the collection is checked where a
    reader starts); only the names inside it are then looked up from it.
    """
    try:
        return os.open(os.fspath(coll_dir), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None


_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_directory(directory: str) -> int | None:
    """A descriptor of ``directory`` if it is a real directory; None if missing or not one.

    Never through a symlink: a link planted at ``.updates/.kept`` would
    otherwise have readers list and unlink files of its target, outside BASE.
    """
    try:
        return os.open(directory, _DIRECTORY_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            return None
        raise


def _unlink_all(directory: str, names: Iterable[str]) -> None:
    """Unlink ``names`` in ``directory``, through one descriptor of it (never a link)."""
    names = list(names)
    if not names:
        return
    fd = _open_directory(directory)
    if fd is None:
        return  # no directory of markers there: none of ours to release
    try:
        for name in names:
            try:
                os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                pass
    finally:
        os.close(fd)


def release_claimed(coll_dir: Path, names: Iterable[str]) -> None:
    """Unlink applied markers: the last step, so a crash before it only repeats work."""
    _unlink_all(f"{os.fspath(coll_dir)}/{_store.UPDATES_DIR}/{_store.CLAIMED_DIR}", names)


def release_kept(coll_dir: Path, names: Iterable[str]) -> None:
    """Unlink kept markers whose resource was read after its lock was found free."""
    _unlink_all(f"{os.fspath(coll_dir)}/{_store.UPDATES_DIR}/{KEPT_DIR}", names)


def keep(coll_dir: Path, names: Iterable[str]) -> None:
    """Move applied markers of locked resources from .claimed/ to .kept/ (or create them).

    One rename each, so a crash leaves the marker in one place or the other:
    in .claimed/ it is applied again by the next drain, in .kept/ by the next
    sweep. A name not in .claimed/ (a rebuild found the resource locked
    without a marker) gets a new empty marker in .kept/.
    """
    names = list(names)
    if not names:
        return
    updates = f"{os.fspath(coll_dir)}/{_store.UPDATES_DIR}"
    kept = f"{updates}/{KEPT_DIR}"
    os.makedirs(kept, exist_ok=True)
    require_directory(kept, "a directory of markers")  # never renamed into through a link
    for name in names:
        try:
            os.rename(f"{updates}/{_store.CLAIMED_DIR}/{name}", f"{kept}/{name}")
        except FileNotFoundError:
            # Never through a link planted there (its name is a kept marker all the same).
            fd = _open_marker(f"{kept}/{name}")
            if fd is not None:
                os.close(fd)


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
