"""Where the change log stands: its epoch and bounds, and how a change is appended.

Live readers (the TUI) remember the epoch and the last sequence they saw,
and ask for what came after (reads.py). The log is bounded: appending
trims its oldest entries, and a reader that was trimmed past reloads. A
rebuild starts a new epoch, which invalidates every cursor.

Example:
    >>> log = ChangeLog(limit=2)
    >>> log.restart()
    >>> log.first_seq, log.next_seq
    (1, 1)
"""

from __future__ import annotations

import secrets

from .codec import IndexCorrupt, text
from .keys import EPOCH_KEY, LOG_BOUNDS_KEY, log_key
from .kv import KeyValueStore, WriteBatch

__all__ = ("ChangeLog",)


class ChangeLog:
    """The change log's position in one open index: epoch, first and next sequence."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.epoch = ""
        self.first_seq = 0
        self.next_seq = 0

    @property
    def position(self) -> tuple[str, int]:
        """(epoch, last sequence): where the log has reached."""
        return self.epoch, self.next_seq - 1

    def load(self, store: KeyValueStore) -> None:
        """Read the epoch and the bounds of a store's log; damage is :class:`IndexCorrupt`."""
        self.epoch = text(store.get(EPOCH_KEY) or b"")
        # Every batch that logs, and every rebuild, writes them: missing means damage.
        bounds = store.get(LOG_BOUNDS_KEY) or b""
        first, _, following = bounds.partition(b" ")
        if not (first.isdigit() and following.isdigit()):
            raise IndexCorrupt(f"undecodable change log bounds {bounds[:60]!r}")
        self.first_seq, self.next_seq = int(first), int(following)

    def restart(self) -> None:
        """An empty log in a new epoch (a rebuild): every reader's cursor reloads."""
        self.next_seq = self.first_seq = 1
        self.epoch = secrets.token_hex(8)

    def append(self, wb: WriteBatch, value: bytes) -> None:
        """Append a change to the log (trimming it); the batch must end with put_bounds."""
        wb.put(log_key(self.next_seq), value)
        self.next_seq += 1
        floor = self.next_seq - self.limit
        while self.first_seq < floor:
            wb.delete(log_key(self.first_seq))
            self.first_seq += 1

    def put_bounds(self, wb: WriteBatch) -> None:
        """Record the log's bounds, once per batch that logged (not once per change)."""
        wb.put(LOG_BOUNDS_KEY, b"%d %d" % (self.first_seq, self.next_seq))

    def put_epoch(self, wb: WriteBatch) -> None:
        wb.put(EPOCH_KEY, self.epoch.encode())
