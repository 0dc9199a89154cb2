"""The messages of the TUI: from the threads to the UI, and from the screens to the app.

They are small dataclass values. The background reader and the file watcher
post the first kind (what changed on disk) to the app; screens post the
second kind (what the user asked for), which bubble up to the app, so a
screen never calls the app's methods. Messages that only describe the latest
state (a collection's summary, "the log file changed", the detail just read)
mark themselves replaceable, so a burst collapses to the newest one in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from hadrosaur import ErrorGroup

from .eta import Estimate
from .model import RowBlock, RowTuple
from .recompute_tally import RecomputeTally
from .resource_detail import DetailData

__all__ = (
    "BaseState",
    "CloseCollection",
    "DetailLoaded",
    "DetailRequested",
    "GroupIdentsLoaded",
    "GroupsLoaded",
    "GroupsRequested",
    "IndexBusyChanged",
    "LogTouched",
    "OpenCollection",
    "OpenExternally",
    "ReadProblem",
    "RecomputeFinished",
    "RecomputeProgress",
    "RecomputeRequested",
    "RefreshRequested",
    "RowsChanged",
    "RowsLoaded",
    "SummaryUpdated",
)

# -- from the reader, the watcher and the recompute worker -----------------------------


@dataclass
class BaseState(Message):
    """Whether the base directory exists, the collections in it, and what was skipped.

    ``skipped`` holds one line per directory that cannot be a collection
    (its name, quoted with repr so no control character reaches the screen).
    ``marker_dirs`` are the directories to watch for the collections' changes
    (:meth:`hadrosaur.Project.marker_directory` of each).
    """

    exists: bool
    collections: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    marker_dirs: tuple[Path, ...] = ()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BaseState)


@dataclass
class SummaryUpdated(Message):
    """Counts, rate and ETA of one collection."""

    name: str
    counts: dict[str, int]
    rate_per_minute: float | None = None
    eta: Estimate | None = None
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
class ReadProblem(Message):
    """Something could not be read; ``text`` says what, for a notification."""

    text: str


@dataclass
class LogTouched(Message):
    """A file in the watched resource directory changed: re-poll the log."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogTouched)


@dataclass
class DetailLoaded(Message):
    """The reader's answer to a :class:`DetailRequested` (None: nothing is selected)."""

    data: DetailData | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DetailLoaded)


@dataclass
class GroupsLoaded(Message):
    """The error groups of a collection, largest first (the reader's answer to GroupsRequested)."""

    collection: str
    groups: list[ErrorGroup]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, GroupsLoaded)


@dataclass
class GroupIdentsLoaded(Message):
    """The idents of one error group: to filter the list to, or to retry if ``retry``."""

    collection: str
    signature: str
    exception: str
    idents: list[str]
    retry: bool


@dataclass
class RecomputeProgress(Message):
    """How far the background recompute has got; the newest replaces any still queued."""

    tally: RecomputeTally

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RecomputeProgress)


@dataclass
class RecomputeFinished(Message):
    """A background recompute subprocess ended.

    ``summary`` is one line for a notification; ``tally`` (None from older
    callers) the counts it ended with, for the status line.
    """

    collection: str
    idents: tuple[str, ...]
    returncode: int
    summary: str
    tally: RecomputeTally | None = None


# -- from the screens to the app -------------------------------------------------------


@dataclass
class OpenCollection(Message):
    """Show the resources of ``name``, filtered to ``status`` if given."""

    name: str
    status: str | None = None


@dataclass
class CloseCollection(Message):
    """Back from a collection's resources to the collections screen."""


@dataclass
class RefreshRequested(Message):
    """Read the base directory again now, without waiting for a change or the poll."""


@dataclass
class DetailRequested(Message):
    """Read the detail of ``collection/ident`` (None: nothing selected); the newest wins.

    ``reason`` is what the index says of an error, shown when there is no traceback.
    """

    collection: str
    ident: str | None
    reason: str = ""


@dataclass
class GroupsRequested(Message):
    """Read the error groups of ``collection`` (or, with ``signature``, one group's idents).

    With a signature, the idents are for a filter of the list, or for a
    retry (asked first) when ``retry``.
    """

    collection: str
    signature: str = ""
    exception: str = ""
    retry: bool = False


@dataclass
class RecomputeRequested(Message):
    """Recompute these resources, once the user confirmed it."""

    collection: str
    idents: tuple[str, ...]


@dataclass
class OpenExternally(Message):
    """Open ``path`` in the program named by $EDITOR or $PAGER."""

    variable: str
    path: Path
