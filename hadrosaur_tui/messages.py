"""Messages from the background reader and the file watcher to the UI thread.

They are small frozen values. Messages that only describe the latest state
(a collection's summary, "the log file changed") mark themselves replaceable,
so a burst of file events collapses to the newest one in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from .model import RowBlock, RowTuple

__all__ = (
    "BaseState",
    "IndexBusyChanged",
    "LogTouched",
    "RecomputeFinished",
    "RowsChanged",
    "RowsLoaded",
    "SourceProblem",
    "SummaryUpdated",
)


@dataclass
class BaseState(Message):
    """Whether the base directory exists, the collections in it, and what was skipped.

    ``skipped`` holds one line per directory that cannot be a collection
    (its name, quoted with repr so no control character reaches the screen).
    """

    exists: bool
    collections: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BaseState)


@dataclass
class SummaryUpdated(Message):
    """Counts, rate and ETA of one collection."""

    name: str
    counts: dict[str, int]
    rate_per_minute: float | None = None
    eta_seconds: float | None = None
    legacy: bool = False
    #: Why the index could not be used (read from a scan instead), or "".
    fallback: str = ""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SummaryUpdated) and message.name == self.name


@dataclass
class RowsLoaded(Message):
    """A page of the active collection's rows; ``reset`` means "forget what you had"."""

    name: str
    generation: int
    rows: RowBlock = field(default_factory=RowBlock)
    reset: bool = False
    done: bool = False


@dataclass
class RowsChanged(Message):
    """Changes to the active collection: (ident, new row, or None when removed)."""

    name: str
    generation: int
    changes: list[tuple[str, RowTuple | None]] = field(default_factory=list)


@dataclass
class IndexBusyChanged(Message):
    """Another process is holding a collection's index (the reader retries quietly)."""

    name: str
    busy: bool

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IndexBusyChanged) and message.name == self.name


@dataclass
class SourceProblem(Message):
    """Something could not be read; ``text`` says what, for a notification."""

    text: str


@dataclass
class LogTouched(Message):
    """A file in the watched resource directory changed: re-poll the log."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogTouched)


@dataclass
class RecomputeFinished(Message):
    """A background recompute subprocess ended."""

    collection: str
    idents: tuple[str, ...]
    returncode: int
    summary: str
