"""CollectionReader: the background reader that keeps the UI in step with the base directory.

One thread does every read, so the UI thread never blocks on the disk or on
another process holding an index. Each *pass* it

1. lists the collections (a new one appears without restart),
2. refreshes the summary (counts, rate, ETA) of the collections whose
   marker directory changed, and of all of them every ``poll_interval``,
3. for the collection on screen: loads its rows page by page, then reads
   only the change log after its cursor, so the work is proportional to what
   changed, not to the collection's size.

Between passes it answers the UI's requests for the selected resource's
detail (:meth:`CollectionReader.request_detail`, the newest request wins),
for a collection's error groups and for one group's idents
with the project it holds, so a selection never reads the disk in the UI
thread; such a request does not cause a pass.

A dying worker writes nothing, so no file event tells of its death: opening
the index does (it re-examines the resources being computed and logs those
whose lock is free as interrupted; see hadrosaur/_index/sweep.py). So a
collection with pending resources is read every ``LIVENESS_INTERVAL``
seconds, and at once again while the index says its examination was cut
short; the deaths then arrive through the change log like any change.

A pass runs when the watcher reports a change, when the UI asks, after
``LIVENESS_INTERVAL`` while something is pending, or after ``poll_interval``
seconds (the fallback when file events are unavailable).
An index held by another process is retried on the next pass, with a busy
indicator, never an error. Everything read is posted as a message
(messages.py); the reader calls nothing of the UI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.message import Message

from hadrosaur import (
    ERROR,
    PENDING,
    Cursor,
    Entry,
    HadrosaurError,
    IndexBusy,
    Project,
    SkippedDirectory,
)
from hadrosaur.view import CollectionView

from .eta import Estimate, estimate_eta
from .messages import (
    BaseState,
    DetailLoaded,
    GroupIdentsLoaded,
    GroupsLoaded,
    IndexBusyChanged,
    ReadProblem,
    RowsChanged,
    RowsLoaded,
    SummaryUpdated,
)
from .model import RowBlock
from .resource_detail import DetailData, read_detail, unreadable_detail

__all__ = ("LIVENESS_INTERVAL", "CollectionReader")

PAGE_SIZE = 50_000
FIRST_PAGE_SIZE = 2_000  # small, so the first screen appears at once
#: Seconds between reads of a collection that has pending resources.
LIVENESS_INTERVAL = 0.5
#: Seconds after which an unchanged summary is posted again (its rate and ETA drift).
SUMMARY_REFRESH = 5.0
#: Minutes of failures per error group read for its sparkline.
GROUP_MINUTES = 60


class CollectionReader:
    """Reads a base directory in a thread and posts messages describing what changed."""

    def __init__(
        self,
        base: Path,
        post: Callable[[Message], object],
        *,
        poll_interval: float = 2.0,
        index_timeout: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = base
        self.post = post
        self.poll_interval = poll_interval
        self.index_timeout = index_timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        #: A pass is wanted (not only a detail): set with _wake by everything but request_detail.
        self._pass_wanted = False
        #: The newest unanswered detail request: (collection, ident or None, reason).
        self._detail_request: tuple[str, str | None, str] | None = None
        #: The newest unanswered error groups request: the collection.
        self._groups_request: str | None = None
        #: Unanswered requests for a group's idents: (collection, signature, exception, retry).
        self._group_requests: list[tuple[str, str, str, bool]] = []
        self._stopped = threading.Event()
        self._project: Project | None = None
        self._collections: tuple[str, ...] | None = None
        self._skipped: tuple[str, ...] = ()
        self._base_exists: bool | None = None
        self._dirty: set[str] = set()
        self._busy: set[str] = set()
        self._last_full = 0.0
        self._last_liveness = 0.0
        #: Collections whose last read counted pending resources.
        self._computing: set[str] = set()
        #: When each collection was last read with a resource running (epoch ms, for the ETA).
        self._running_seen: dict[str, int] = {}
        self._paused = False
        # The collection on screen and how far it is loaded.
        self._active: str | None = None
        self._generation = 0
        self._loaded_generation = -1
        self._load_after: str | None = None
        self._loading = False
        self._cursor: Cursor | None = None
        #: The last summary posted for each collection, and when (see _post_summary).
        self._summaries: dict[str, tuple[SummaryUpdated, float]] = {}

    # -- called from the UI thread -------------------------------------------------

    def wake(self, changed_paths: Iterable[str] = ()) -> None:
        """Run a pass soon; ``changed_paths`` (from the watcher) say which collections changed."""
        base = str(self.base)
        with self._lock:
            for path in changed_paths:
                rel = path[len(base) :].lstrip("/") if path.startswith(base) else ""
                name = rel.split("/", 1)[0]
                if name:
                    self._dirty.add(name)
        self._want_pass()

    def set_active(self, name: str | None) -> int:
        """Show another collection (or none); returns the generation its rows will carry."""
        with self._lock:
            self._active = name
            self._generation += 1
            self._cursor = None
            generation = self._generation
        self._want_pass()
        return generation

    def request_detail(self, collection: str, ident: str | None, reason: str = "") -> None:
        """Read one resource's detail soon and post it (DetailLoaded); the newest request wins.

        ``ident`` None answers None at once (nothing selected), in order with
        the requests before it.
        """
        with self._lock:
            self._detail_request = (collection, ident, reason)
        self._wake.set()

    def request_groups(self, collection: str) -> None:
        """Read the collection's error groups soon and post them (GroupsLoaded); newest wins."""
        with self._lock:
            self._groups_request = collection
        self._wake.set()

    def request_group_idents(
        self, collection: str, signature: str, exception: str, retry: bool
    ) -> None:
        """Read the idents of one error group soon and post them (GroupIdentsLoaded)."""
        with self._lock:
            self._group_requests.append((collection, signature, exception, retry))
        self._wake.set()

    def _want_pass(self) -> None:
        with self._lock:
            self._pass_wanted = True
        self._wake.set()

    def set_paused(self, paused: bool) -> None:
        """While paused, no pass runs (a requested detail is still read: the user asked)."""
        self._paused = paused
        self._want_pass()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    # -- the thread ------------------------------------------------------------

    def run(self) -> None:
        """Loop until stopped. Every exception is reported, none ends the loop."""
        while not self._stopped.is_set():
            computing = self._computing
            woken = self._wake.wait(
                min(self.poll_interval, LIVENESS_INTERVAL) if computing else self.poll_interval
            )
            self._wake.clear()
            if self._stopped.is_set():
                break
            with self._lock:
                request, self._detail_request = self._detail_request, None
                groups, self._groups_request = self._groups_request, None
                group_requests, self._group_requests = self._group_requests, []
                pass_wanted, self._pass_wanted = self._pass_wanted or not woken, False
            try:
                if request is not None:
                    # Even while paused: the user moved the selection.
                    self.post(DetailLoaded(self.read_detail(*request)))
                for collection, signature, exception, retry in group_requests:
                    idents = self._open_project().fetch_by_status(
                        collection, ERROR, group=signature
                    )
                    self.post(GroupIdentsLoaded(collection, signature, exception, idents, retry))
                if groups is not None:
                    self._read_groups(groups)
                if pass_wanted and not self._paused:
                    self.run_pass()
            except Exception as exc:  # a monitor must keep running; say what happened
                self.post(ReadProblem(f"{type(exc).__name__}: {exc}"))
                self._stopped.wait(self.poll_interval)

    def _read_groups(self, collection: str) -> None:
        """Post the error groups of ``collection``; a busy index is skipped (asked again soon)."""
        now_ms = int(self.clock() * 1000)
        try:
            found = self._open_project().error_groups(collection, GROUP_MINUTES, now_ms)
        except IndexBusy:
            return
        self.post(GroupsLoaded(collection, found))

    def read_detail(
        self, collection: str, ident: str | None, reason: str = ""
    ) -> DetailData | None:
        """One resource's detail, read with the project this reader holds (None for no ident)."""
        if ident is None:
            return None
        try:
            project = self._open_project()
        except HadrosaurError as exc:
            return unreadable_detail(collection, ident, str(exc))
        return read_detail(project, collection, ident, reason)

    def _open_project(self) -> Project:
        if self._project is None:
            self._project = Project(self.base, create=False, index_timeout=self.index_timeout)
        return self._project

    def run_pass(self) -> None:
        """One read of everything that needs reading (see the module docstring)."""
        if not self._check_base():
            return
        assert self._project is not None and self._collections is not None
        now = time.monotonic()  # scheduling uses real time; self.clock is for what is shown
        full = now - self._last_full >= self.poll_interval
        liveness = now - self._last_liveness >= LIVENESS_INTERVAL
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            active = self._active
        names = [
            n
            for n in self._collections
            if full or n in dirty or n in self._busy or (liveness and n in self._computing)
        ]
        if active in self._collections and active not in names:
            names.append(active)
        for name in names:
            self._read_collection(name, name == active)
        if full:
            self._last_full = now
        if liveness:
            self._last_liveness = now
        if self._loading:
            self._want_pass()  # keep loading pages without waiting

    def _check_base(self) -> bool:
        exists = self.base.is_dir()
        if not exists:
            if self._base_exists is not False:
                self._base_exists = False
                self._project = None
                self._collections = None
                self._summaries.clear()
                self.post(BaseState(False))
            return False
        try:
            project = self._open_project()
        except HadrosaurError as exc:
            self.post(ReadProblem(str(exc)))
            return False
        names = tuple(project.collections())
        skipped = tuple(_skipped_note(s) for s in project.skipped_directories())
        if names != self._collections or skipped != self._skipped or not self._base_exists:
            new = set(names) - set(self._collections or ())
            self._collections = names
            self._skipped = skipped
            self._base_exists = True
            with self._lock:
                self._dirty |= new
            markers = tuple(project.marker_directory(name) for name in names)
            self.post(BaseState(True, names, skipped, markers))
        return True

    def _read_collection(self, name: str, active: bool) -> None:
        assert self._project is not None
        try:
            with self._project.view(name, timeout=self.index_timeout) as view:
                if name in self._busy:
                    self._busy.discard(name)
                    self.post(IndexBusyChanged(name, False))
                counts = view.counts()
                (self._computing.add if counts[PENDING] else self._computing.discard)(name)
                if view.sweep_unfinished:
                    # More deaths to record than one opening may take time for: again soon.
                    with self._lock:
                        self._dirty.add(name)
                    self._want_pass()
                now_ms = int(self.clock() * 1000)
                if counts[PENDING]:
                    self._running_seen[name] = now_ms
                eta = estimate_eta(
                    counts,
                    view.completions_per_minute(10, now_ms),
                    now_ms,
                    self._running_seen.get(name),
                )
                legacy = self._project.is_legacy(name)
                self._post_summary(
                    SummaryUpdated(name, counts, eta.rate_per_minute, eta, legacy, view.fallback)
                )
                if active:
                    self._read_rows(name, view)
        except IndexBusy:
            if name not in self._busy:
                self._busy.add(name)
                self.post(IndexBusyChanged(name, True))
        except HadrosaurError as exc:
            self.post(ReadProblem(f"{name}: {exc}"))

    def _post_summary(self, summary: SummaryUpdated) -> None:
        """Post a collection's summary unless it says what the last one said.

        A collection with pending resources is read twice a second: an
        unchanged summary would cost the UI a redraw of the collections
        table for nothing. The rate and ETA drift with the clock even when
        nothing happens, so they count as changed when they moved by more
        than 1%, or after SUMMARY_REFRESH seconds.
        """
        now = time.monotonic()
        last = self._summaries.get(summary.name)
        if last is not None:
            posted, when = last
            same = (
                (posted.counts, posted.legacy, posted.fallback)
                == (summary.counts, summary.legacy, summary.fallback)
                and _close(posted.rate_per_minute, summary.rate_per_minute)
                and _same_eta(posted.eta, summary.eta)
            )
            if same and now - when < SUMMARY_REFRESH:
                return
        self._summaries[summary.name] = (summary, now)
        self.post(summary)

    def _read_rows(self, name: str, view: CollectionView) -> None:
        with self._lock:
            generation = self._generation
        if self._loaded_generation != generation:
            # A new collection on screen (or a reload): start from the first page.
            self._loaded_generation = generation
            self._cursor = view.cursor()
            rows = view.entries(limit=FIRST_PAGE_SIZE)
            self._load_after = rows[-1][0] if rows else None
            self._loading = len(rows) == FIRST_PAGE_SIZE
            block = RowBlock.from_rows(rows)
            self.post(RowsLoaded(name, generation, block, True, not self._loading))
            return
        if self._loading:
            rows = view.entries(after=self._load_after, limit=PAGE_SIZE)
            self._load_after = rows[-1][0] if rows else self._load_after
            self._loading = len(rows) == PAGE_SIZE
            block = RowBlock.from_rows(rows)
            self.post(RowsLoaded(name, generation, block, False, not self._loading))
        batch = view.changes(self._cursor)
        if batch.reload:
            with self._lock:
                if self._generation == generation:
                    self._generation += 1
            self._want_pass()
            return
        self._cursor = batch.cursor
        changes: list[tuple[str, Entry | None]] = [(c.ident, c.entry) for c in batch.changes]
        if batch.more:
            self._want_pass()
        if changes:
            self.post(RowsChanged(name, generation, changes))


def _same_eta(a: Estimate | None, b: Estimate | None) -> bool:
    """Whether an ETA says what it said before: the same state, its range within 1%."""
    if a is None or b is None:
        return a is b
    return a.state == b.state and _close(a.low, b.low) and _close(a.high, b.high)


def _close(a: float | None, b: float | None) -> bool:
    """Whether a rate or ETA is the same as shown before: both None, or within 1%."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 0.01 * max(abs(a), abs(b))


def _skipped_note(skipped: SkippedDirectory) -> str:
    """A skipped directory as the status line names it: its name, and why when it is unreadable.

    The names and links the note's heading covers; an unreadable directory
    (another user's) would otherwise look like a mistake of this base.
    """
    name = repr(skipped.name)
    return f"{name} (permission denied)" if skipped.reason.startswith("permission denied") else name
