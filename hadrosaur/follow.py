"""Following a growing log file like ``tail -F``: new text, truncation and rotation.

A resource's ``run.log`` grows while the function runs, is rotated by its
log handler (renamed to ``run.log.1`` and started anew, see _log_file.py), and
is deleted when the resource is computed again. :class:`LogFollower` turns that
into a stream of :class:`FollowUpdate` values for ``hadrosaur log -f``. What
happened to the file is decided by :class:`hadrosaur.tail.FileTail`, the one
tailer that the monitor's log pane uses too; this module only decodes.

The follower holds no descriptor between reads, so a rotated or deleted file
is never kept alive by it; the end of a rotated file is read from the backup
it became, found by its identity (device and inode), so the last lines before
a rotation are never lost.

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

from .tail import FileTail

__all__ = ("FollowUpdate", "LogFollower")


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
        before: text that ended the previous file (written to it after the
            previous read, before it was rotated away): it goes before any
            notice of the reset, and before ``text``.
    """

    text: str
    reset: bool = False
    before: str = ""


class LogFollower:
    """Reads what is appended to a file, surviving truncation and rotation.

    Args:
        path: the file to follow; it need not exist yet.
        from_start: start with the file's current content (True) or only with
            what is written after this follower is created (False, like
            ``tail -n0 -F``).

    A file truncated and written again past the position already read, all
    between two reads, is noticed too: the tailer keeps the last bytes it
    read and checks that they are still in place. Only a rewrite that leaves
    those bytes exactly as they were looks like growth.

    Example:
        >>> follower = LogFollower(Path("base/genomes/GCF_0001/run.log"))  # doctest: +SKIP
        >>> update = follower.read()
        >>> pane.write(update.before)
        >>> if update.reset:
        ...     pane.clear()
        >>> pane.write(update.text)
    """

    def __init__(self, path: str | os.PathLike[str], *, from_start: bool = True) -> None:
        self.path = Path(path)
        self._tail = FileTail(self.path, from_start=from_start)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    @property
    def position(self) -> int:
        """The byte offset read so far in the current file."""
        return self._tail.position

    def read(self) -> FollowUpdate:
        """Return the text added since the last call (see :class:`FollowUpdate`).

        Raises:
            DamagedResource: the file is a symlink, FIFO or device (not read).
            RefusedPath: its directory is a symlink or a file (not looked into).
        """
        got = self._tail.read()
        before = ""
        if got.finished:
            # The previous file ends here: a character it left incomplete shows as U+FFFD.
            before = self._decoder.decode(got.finished, final=True)
            self._decoder.reset()
        elif got.reset:
            self._decoder.reset()
        return FollowUpdate(self._decoder.decode(got.data), bool(got.reset), before)
