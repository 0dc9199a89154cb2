"""Following a growing log file like ``tail -F``: new text, truncation and rotation.

A resource's ``run.log`` grows while the function runs, is rotated by its
log handler (renamed to ``run.log.1`` and started anew, see _log_file.py), and
is deleted when the resource is computed again. :class:`LogFollower` turns that
into a stream of :class:`FollowUpdate` values for ``hadrosaur log -f`` (the
TUI's log pane keeps a descriptor and a line index instead: widgets/log_view.py).

Each :meth:`LogFollower.read` opens the file, reads only the bytes added since
the last call, and closes it again. Holding no descriptor between calls means
a rotated or deleted file is never kept alive by a follower, and the
identity check (device and inode of the descriptor actually read, via
``fstat``) cannot race with a rename happening between a ``stat`` and an
``open``.

A ``run.log`` that is a symlink (or a FIFO, a device) is refused, never
followed: :meth:`LogFollower.read` raises :class:`~hadrosaur.DamagedResource`
and reads nothing of its target; so does a resource directory that is a
symlink (:class:`~hadrosaur.RefusedPath`). See _nofollow.py.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path

from ._nofollow import RefusedFile, open_regular, require_directory
from .errors import DamagedResource

__all__ = ("FollowUpdate", "LogFollower")

#: How many of the last bytes read are checked again on each read.
_CHECK_BYTES = 64


@dataclass(frozen=True)
class FollowUpdate:
    """What changed in a followed file since the previous read.

    Attributes:
        text: the text added since the previous read, decoded as UTF-8 (bad
            bytes become U+FFFD). It may end in the middle of a line: the next
            update continues it. A multi-byte character split between two
            writes is held back until it is complete.
        reset: True when the file was truncated, or replaced by another file
            (rotated, or deleted and created again): ``text`` then starts at
            the top of the new file, and a display should clear what it shows.
    """

    text: str
    reset: bool = False


class LogFollower:
    """Reads what is appended to a file, surviving truncation and rotation.

    Args:
        path: the file to follow; it need not exist yet.
        from_start: start with the file's current content (True) or only with
            what is written after this follower is created (False, like
            ``tail -n0 -F``).

    A file truncated and written again past the position already read, all
    between two reads, is noticed too: the follower keeps the last bytes it
    read and checks that they are still in place. Only a rewrite that leaves
    those bytes exactly as they were looks like growth.

    Example:
        >>> follower = LogFollower(Path("base/genomes/GCF_0001/run.log"))  # doctest: +SKIP
        >>> update = follower.read()
        >>> if update.reset:
        ...     pane.clear()
        >>> pane.write(update.text)
    """

    def __init__(self, path: str | os.PathLike[str], *, from_start: bool = True) -> None:
        self.path = Path(path)
        #: (st_dev, st_ino) of the file read last; None while there is none.
        self._file_id: tuple[int, int] | None = None
        self._pos = 0
        # The last bytes read (at most _CHECK_BYTES): if they are no longer
        # where they were, the file was rewritten in place.
        self._tail = b""
        # True once any file has been read: a later different file is a reset,
        # the first one to appear is not.
        self._seen = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        if not from_start:
            self._read(skip=True)

    @property
    def position(self) -> int:
        """The byte offset read so far in the current file."""
        return self._pos

    def read(self) -> FollowUpdate:
        """Return the text added since the last call (see :class:`FollowUpdate`).

        Raises:
            DamagedResource: the file is a symlink, FIFO or device (not read).
            RefusedPath: its directory is a symlink or a file (not looked into).
        """
        return self._read(skip=False)

    def _read(self, skip: bool) -> FollowUpdate:
        # One lstat per read: O_NOFOLLOW below guards only the file's own name.
        require_directory(str(self.path.parent), "a resource directory")
        try:
            fd, st = open_regular(self.path)
        except RefusedFile as exc:
            raise DamagedResource(self.path, exc.reason) from None
        except (FileNotFoundError, NotADirectoryError):
            # Gone (rotated, or the resource is being computed again): whatever
            # appears here next is a new file, read from its top.
            self._file_id = None
            self._pos = 0
            return FollowUpdate("", False)
        try:
            file_id = (st.st_dev, st.st_ino)
            reset = False
            if (
                file_id != self._file_id
                or st.st_size < self._pos
                or _read_range(fd, self._pos - len(self._tail), self._pos) != self._tail
            ):
                reset = self._seen
                self._file_id = file_id
                self._pos = 0
                self._tail = b""
                self._decoder.reset()
            self._seen = True
            if skip:
                start = max(0, st.st_size - _CHECK_BYTES)
                self._pos, data = st.st_size, b""
                self._tail = _read_range(fd, start, st.st_size)
            else:
                data = _read_range(fd, self._pos, st.st_size)
        finally:
            os.close(fd)
        if data:
            self._pos += len(data)
            self._tail = (self._tail + data[-_CHECK_BYTES:])[-_CHECK_BYTES:]
        return FollowUpdate(self._decoder.decode(data), reset)


def _read_range(fd: int, start: int, end: int) -> bytes:
    """The bytes from ``start`` up to ``end`` (the size seen by fstat), fewer if it shrank.

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
