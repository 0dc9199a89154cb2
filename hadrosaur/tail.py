"""The one tailer: follow a file that grows, rotates and is truncated, losing nothing.

A resource's ``run.log`` grows while its function runs; its handler
(_log_file.py) rotates it by renaming it to ``run.log.1`` (``.1`` to ``.2``
and so on) and starting a new ``run.log``; a recompute deletes it; a user
may truncate it. :class:`FileTail` turns that into a sequence of
:class:`TailRead` values, one per :meth:`FileTail.read`, and is used both by
``hadrosaur log -f`` (follow.py) and by the monitor's log pane
(hadrosaur_tui/log_document.py), so that both survive the same things the
same way.

What it takes care of:

- **Rotation loses nothing.** Lines written to the old file after the last
  read and before the rename are still read: from the descriptor held
  (``hold=True``), or else from the backup found by its identity (device and
  inode) among ``run.log.1`` … ``run.log.N``. They come as
  :attr:`TailRead.finished`, before the new file's text. A read that falls
  between the rename and the creation of the new file (the handler does both
  one after the other) is no exception: the old file is finished then, and
  the new one read from its top when it appears.
- **Truncation** (the file is shorter than what was read, or its last bytes
  read are no longer in place) and **replacement** (a different file at the
  path that is not a rotation: deleted and created again) start again from
  the top of the file, with :attr:`TailRead.reset` saying which.
- **Bounded reads**: ``limit`` caps the bytes of one read, so a 1 GB file is
  taken in chunks (:attr:`TailRead.more` says the rest is pending).
- **Nothing outside BASE**: every file is opened with ``O_NOFOLLOW`` and must
  be regular (_nofollow.py); a symlinked directory is refused.

Example:
    >>> tail = FileTail(Path("base/genomes/GCF_0001/run.log"))  # doctest: +SKIP
    >>> got = tail.read()
    >>> show(got.finished); show(got.data)
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._nofollow import RefusedFile, open_regular, require_directory
from .errors import DamagedResource

__all__ = ("FileTail", "Reset", "TailRead", "open_log_part", "read_range")

#: How many of the last bytes read are checked again on each read.
CHECK_BYTES = 64
#: How many times the backups are looked at again when they move while being read.
_RETRIES = 20

#: Why a read starts again at the top of a file ("" when it does not).
Reset = Literal["", "rotated", "truncated", "replaced"]


@dataclass(frozen=True)
class TailRead:
    """What one :meth:`FileTail.read` found.

    Attributes:
        finished: the last bytes of the previous file, written after the
            previous read and before it was rotated away (or deleted, when the
            descriptor was held). Shown before ``data``: they precede it.
        data: bytes of the current file from offset ``start``.
        start: where ``data`` begins in the current file (0 after a reset).
        reset: "" when ``data`` continues what was read, else why the current
            file is read from its top: "rotated" (the previous file is now a
            backup), "truncated" (the same file, shorter or rewritten),
            "replaced" (another file; the previous one is gone).
        more: True when ``limit`` stopped the read short of the file's end.
    """

    finished: bytes = b""
    data: bytes = b""
    start: int = 0
    reset: Reset = ""
    more: bool = False


class FileTail:
    """Reads what is appended to ``path``, through truncation and rotation.

    Args:
        path: the file to follow; it need not exist yet.
        from_start: begin with the file's current content (True) or only with
            what is written after this tail is created (False, like ``tail -n0 -F``).
        backups: how many rotated copies (``path.1`` …) may hold the previous file.
        hold: keep the current file's descriptor open between reads. The
            monitor holds it (to finish a file deleted under it); the
            command line does not, so that it never keeps a deleted file alive.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        from_start: bool = True,
        backups: int = 3,
        hold: bool = False,
    ) -> None:
        self.path = Path(path)
        self.backups = backups
        self.hold = hold
        #: (st_dev, st_ino) of the current file; None while there is none.
        self.identity: tuple[int, int] | None = None
        self._pos = 0
        # The last bytes read (at most CHECK_BYTES): if they are no longer where
        # they were, the file was rewritten in place.
        self._tail = b""
        self._fd: int | None = None
        if not from_start:
            self._read(skip=True, limit=None)

    @property
    def position(self) -> int:
        """The byte offset read so far in the current file."""
        return self._pos

    def read(self, limit: int | None = None) -> TailRead:
        """What changed since the last call (see :class:`TailRead`).

        Raises:
            DamagedResource: the file is a symlink, FIFO or device (not read).
            RefusedPath: its directory is a symlink or a file (not looked into).
        """
        return self._read(skip=False, limit=limit)

    def duplicate(self) -> int | None:
        """A new descriptor of the current file (``hold=True``; None while there is none).

        The caller owns it: the monitor keeps one per part of the log it shows,
        so a part rotated away (or deleted) can still be read back.
        """
        return None if self._fd is None else os.dup(self._fd)

    def skip_to(self, offset: int) -> None:
        """Go on from ``offset`` of the current file, whose bytes before it the caller read itself.

        The monitor indexes a huge file through its own descriptor, in the
        background; the tailer then only reads what comes after (``hold=True``).
        """
        if self._fd is None:
            return
        self._pos = offset
        self._tail = read_range(self._fd, max(0, offset - CHECK_BYTES), offset)

    def close(self) -> None:
        """Let go of a held descriptor; the next read opens the file again."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- one read ------------------------------------------------------------------------

    def _read(self, skip: bool, limit: int | None) -> TailRead:
        # One lstat per read: O_NOFOLLOW below guards only the file's own name.
        require_directory(str(self.path.parent), "a resource directory")
        try:
            fd, st = open_regular(self.path)
        except RefusedFile as exc:
            raise DamagedResource(self.path, exc.reason) from None
        except (FileNotFoundError, NotADirectoryError):
            if self.identity is None:
                # No file yet (a resource that has logged nothing): nothing to finish,
                # and no backup to look for (the monitor polls such a log every second).
                return TailRead()
            # Between a rotation's rename and the new file, or deleted: the file
            # read so far is finished (its identity is kept, to tell what comes next).
            return TailRead(finished=self._finish_previous(None)[0])
        try:
            file_id = (st.st_dev, st.st_ino)
            finished = b""
            reset: Reset = ""
            if file_id != self.identity:
                if self.identity is not None:  # else the first file: not a reset
                    finished, rotated = self._finish_previous(file_id)
                    reset = "rotated" if rotated else "replaced"
                self._switch_to(fd, file_id)
            elif st.st_size < self._pos or self._rewritten(fd):
                reset = "truncated"
                self._switch_to(fd, file_id)
            start = self._pos
            if skip:
                self._pos = st.st_size
                self._tail = read_range(fd, max(0, st.st_size - CHECK_BYTES), st.st_size)
                return TailRead()
            end = st.st_size if limit is None else min(st.st_size, start + limit)
            data = read_range(fd, start, end)
        finally:
            if self._fd != fd:
                os.close(fd)
        self._advance(data)
        return TailRead(finished, data, start, reset, start + len(data) < st.st_size)

    def _rewritten(self, fd: int) -> bool:
        return read_range(fd, self._pos - len(self._tail), self._pos) != self._tail

    def _switch_to(self, fd: int, file_id: tuple[int, int]) -> None:
        self.close()
        self.identity = file_id
        self._pos = 0
        self._tail = b""
        if self.hold:
            self._fd = fd

    def _advance(self, data: bytes) -> None:
        if data:
            self._pos += len(data)
            self._tail = (self._tail + data[-CHECK_BYTES:])[-CHECK_BYTES:]

    def _finish_previous(self, current: tuple[int, int] | None) -> tuple[bytes, bool]:
        """The unread end of the file that left the path, and whether it was rotated.

        Its descriptor, when held, reads it wherever it went; otherwise it is
        looked for by identity among the backups (a rotation renames it there).
        When it is found at ``path.k``, the files at ``path.k-1`` … ``path.1``
        were written and rotated since it was last seen: they follow it, whole
        (up to ``current``, the file now at the path, read by the caller).
        Its identity stays, so that this holds across reads that find no file
        at the path (the moment between a rotation's rename and the new file).

        Files move while this runs (another rotation): every file is opened
        and checked against the identities seen, and on a mismatch it all
        starts again; a rotated file never changes, so starting again is safe.
        """
        for _ in range(_RETRIES):
            finished = self._try_finish(current)
            if finished is not None:
                return finished
        return b"", False  # rotating faster than it can be read: the next read goes on

    def _try_finish(self, current: tuple[int, int] | None) -> tuple[bytes, bool] | None:
        chain = self._backup_identities()
        if self.identity not in chain:
            rest = self._read_held()
            self._advance(rest)
            self.close()
            return rest, False
        found = chain.index(self.identity) + 1  # at path.found
        if self._fd is not None:
            rest = self._read_held()
        else:
            got = _read_checked(self._backup(found), self.identity, self._pos)
            if got is None:
                return None
            rest = got
        parts = [(self.identity, self._pos, rest)]
        for n in range(found - 1, 0, -1):
            if chain[n - 1] is None:
                continue  # a rotation half done: a name between two renames; order holds
            if chain[n - 1] == current:
                break
            whole = _read_checked(self._backup(n), chain[n - 1], 0)
            if whole is None:
                return None
            parts.append((chain[n - 1], 0, whole))
        self.close()
        # The newest file read is now the one finished: a later read that
        # finds it again among the backups goes on from there.
        self.identity, self._pos, self._tail = parts[-1][0], parts[-1][1], b""
        self._advance(parts[-1][2])
        return b"".join(data for _, _, data in parts), True

    def _read_held(self) -> bytes:
        if self._fd is None:
            return b""
        return read_range(self._fd, self._pos, os.fstat(self._fd).st_size)

    def _backup(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}")

    def _backup_identities(self) -> list[tuple[int, int] | None]:
        """Identities at path.1 … path.N (None: nothing or not a regular file), seen twice alike."""
        seen: list[tuple[int, int] | None] = []
        for _ in range(_RETRIES):
            again = [_identity(self._backup(n)) for n in range(1, self.backups + 1)]
            if again == seen:
                break
            seen = again
        return seen


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)  # lstat: a link is never taken for the file it points to
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def _read_checked(path: Path, identity: tuple[int, int] | None, start: int) -> bytes | None:
    """The bytes of ``path`` from ``start`` if it is still the file ``identity``; else None."""
    try:
        fd, st = open_regular(path)
    except OSError:
        return None  # moved on, or refused (a symlink is never read)
    try:
        if (st.st_dev, st.st_ino) != identity:
            return None
        return read_range(fd, start, st.st_size)
    finally:
        os.close(fd)


def open_log_part(path: str | os.PathLike[str]) -> int:
    """A descriptor of one part of a log (``run.log.2``…), never through a link.

    Raises:
        FileNotFoundError: nothing there.
        DamagedResource: a symlink, FIFO, device or directory is there (not opened).
    """
    try:
        fd, _ = open_regular(path)
    except RefusedFile as exc:
        raise DamagedResource(Path(path), exc.reason) from None
    return fd


def read_range(fd: int, start: int, end: int) -> bytes:
    """The bytes from ``start`` up to ``end`` (a size seen by fstat), fewer if it shrank.

    Reading only up to the size seen keeps each call bounded even while a
    writer keeps appending; the rest is read next time.
    """
    chunks = []
    pos = start
    while pos < end:
        chunk = os.pread(fd, min(end - pos, 1 << 20), pos)
        if not chunk:
            break
        chunks.append(chunk)
        pos += len(chunk)
    return b"".join(chunks)
