"""HadrosaurApp: wiring of screens, the background reader, the watcher and the actions.

The reader (reader.py) and the watcher (watcher.py) run in threads and talk
to the app only through messages (messages.py); the app applies them to the
model of the collection on screen and to the screens. The screens, in turn,
post what the user asks for (open a collection, read a resource, recompute)
as messages that bubble up to the app. Actions that leave the app (a
recompute child, recompute.py; $EDITOR and $PAGER, external.py) are started
from here.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from hadrosaur.display import visible

from .external import open_in_program
from .messages import (
    BaseState,
    CloseCollection,
    DetailLoaded,
    DetailRequested,
    GroupIdentsLoaded,
    GroupsLoaded,
    GroupsRequested,
    IndexBusyChanged,
    LogTouched,
    OpenCollection,
    OpenExternally,
    ReadProblem,
    RecomputeFinished,
    RecomputeProgress,
    RecomputeRequested,
    RefreshRequested,
    RowsChanged,
    RowsLoaded,
    SummaryUpdated,
)
from .model import CollectionModel
from .reader import CollectionReader
from .recompute import STOP_GRACE, RecomputeRun, recompute_question
from .recompute_tally import RecomputeTally, Verb
from .screens.collections import CollectionsScreen
from .screens.confirm import ConfirmScreen
from .screens.groups import GroupsScreen
from .screens.help import HelpScreen
from .screens.resources import ResourcesScreen
from .watcher import DirectoryWatcher
from .widgets.log_view import LogView
from .widgets.resource_table import ResourceTable
from .widgets.status_line import StatusLine

__all__ = ("HadrosaurApp", "run")


class HadrosaurApp(App[int]):
    """The live monitor of one base directory."""

    CSS_PATH = "hadrosaur_tui.tcss"
    TITLE = "hadrosaur"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("p", "pause", "Pause", id="app.pause"),
        # Only while a recompute runs (check_action): else ctrl+c keeps Textual's meaning.
        Binding(
            "ctrl+c",
            "stop_recompute",
            "Stop the recompute",
            priority=True,
            id="app.stop_recompute",
        ),
    ]

    def __init__(
        self,
        base: Path,
        *,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 2.0,
        watch: bool = True,
        index_timeout: float = 0.5,
        jobs: int | None = None,
    ) -> None:
        super().__init__()
        self.base_label = str(base)
        self.base = base.expanduser().absolute()
        self.clock = clock
        self.reader = CollectionReader(
            self.base,
            self.post_message,
            poll_interval=poll_interval,
            index_timeout=index_timeout,
            clock=clock,
        )
        self.watcher = DirectoryWatcher(self._files_changed) if watch else None
        self.model: CollectionModel | None = None
        self.generation = -1
        self.collections: tuple[str, ...] = ()
        self.marker_dirs: tuple[Path, ...] = ()
        self.paused = False
        self.busy: set[str] = set()
        self.watched_resource: Path | None = None
        self._last_problem: tuple[str, float] = ("", 0.0)
        self._fallback_note = ""  # collections read from a scan (read-only base)
        self._skipped_note = ""  # directories of the base with invalid names
        self.collections_screen = CollectionsScreen(self.base_label, clock)
        #: Worker processes of a bulk recompute (R): one per CPU unless told.
        self.jobs = jobs or os.cpu_count() or 1
        self.recompute_run: RecomputeRun | None = None
        self.recompute_tally: RecomputeTally | None = None  # the newest, for new screens

    # -- life cycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(self.collections_screen)
        self.run_worker(self.reader.run, thread=True, group="reader", name="reader")
        if self.watcher is not None:
            self.run_worker(self.watcher.run, thread=True, group="watcher", name="watcher")
            self._update_watch_paths()
        self.set_interval(1.0, self._tick)
        self.reader.wake()

    def on_unmount(self) -> None:
        self.reader.stop()
        if self.watcher is not None:
            self.watcher.stop()
        run = self.recompute_run
        if run is not None:
            # Quitting stops a recompute as ctrl+c does: nothing keeps computing unseen.
            run.stop()
            run.wait_stopped(2 * STOP_GRACE + 1)

    def _tick(self) -> None:
        """Once a second: running durations move, and the log is polled as a fallback.

        Only the table lines whose times changed are drawn again.
        """
        screen = self.screen
        if isinstance(screen, ResourcesScreen) and not self.paused:
            for widget in screen.live_widgets():
                if isinstance(widget, LogView):
                    widget.request_poll()  # with the file events' polls: at most one per interval
                elif isinstance(widget, ResourceTable):
                    widget.refresh_times()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (the screens' too) is plain text with its controls made visible.

        Notifications name idents, collections, paths and recompute output: a
        ``[`` in them must not be read as markup (``c[`` would raise
        MarkupError, ``[@click=app.quit]`` would become a link), nor an ESC
        reach the terminal. So ``markup`` is ignored: it is always off.
        """
        super().notify(
            visible(message),
            title=visible(title, line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def _status_lines(self) -> Iterable[StatusLine]:
        for screen in self.screen_stack:
            yield from screen.query(StatusLine)

    # -- file events (watcher thread) -----------------------------------------------------

    def _files_changed(self, paths: set[str]) -> None:
        watched = str(self.watched_resource) if self.watched_resource is not None else None
        # What changes in the selected resource's directory is its log: the index learns
        # of its status from a marker, so those events do not cost the reader a pass.
        others = {
            p
            for p in paths
            if watched is None or not (p == watched or p.startswith(watched + os.sep))
        }
        if others:
            self.reader.wake(others)
        if len(others) < len(paths):
            self.post_message(LogTouched())

    def _update_watch_paths(self) -> None:
        if self.watcher is None:
            return
        paths = [self.base, *self.marker_dirs]
        if self.watched_resource is not None:
            paths.append(self.watched_resource)
        self.watcher.set_paths(paths, markers=self.marker_dirs)

    def watch_resource(self, directory: Path | None) -> None:
        """Also watch the selected resource's directory (its log grows there)."""
        self.watched_resource = directory
        self._update_watch_paths()

    # -- messages from the reader ---------------------------------------------------------

    def on_base_state(self, message: BaseState) -> None:
        self.collections = message.collections
        self.marker_dirs = message.marker_dirs
        skipped = message.skipped
        self._skipped_note = (
            f"skipped {len(skipped)} director{'y' if len(skipped) == 1 else 'ies'} "
            f"(invalid names, links, unreadable): {', '.join(skipped)}"
            if skipped
            else ""
        )
        self._show_notes()
        self.collections_screen.set_base_state(message.exists, message.collections)
        self._update_watch_paths()
        if self.model is not None and self.model.name not in message.collections:
            self.close_collection()

    def on_summary_updated(self, message: SummaryUpdated) -> None:
        self.collections_screen.update_summary(message)
        fallbacks = sorted(
            name for name, summary in self.collections_screen.summaries.items() if summary.fallback
        )
        self._fallback_note = f"read-only, scanned: {', '.join(fallbacks)}" if fallbacks else ""
        for line in self._status_lines():
            line.touch()
        self._show_notes()

    def _show_notes(self) -> None:
        note = " · ".join(n for n in (self._fallback_note, self._skipped_note) if n)
        for line in self._status_lines():
            line.note = note

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        model = self.model
        if model is None or message.name != model.name:
            return
        if message.reset:
            self.generation = message.generation
            model.clear()
        elif message.generation != self.generation:
            return
        model.extend(message.rows)
        model.loaded = message.done
        self._rows_changed(None)

    def on_rows_changed(self, message: RowsChanged) -> None:
        model = self.model
        if model is None or message.name != model.name or message.generation != self.generation:
            return
        touched = model.apply(message.changes)
        self._rows_changed(touched)

    def _rows_changed(self, touched: set[str] | None) -> None:
        assert self.model is not None
        for screen in self.screen_stack:
            if isinstance(screen, ResourcesScreen):
                screen.rows_changed(touched)
        for line in self._status_lines():
            line.touch()

    def on_index_busy_changed(self, message: IndexBusyChanged) -> None:
        (self.busy.add if message.busy else self.busy.discard)(message.name)
        self._show_busy()

    def _show_busy(self) -> None:
        """Every screen that waits on a busy index says so (a screen opened meanwhile too)."""
        busy = frozenset(self.busy)
        for line in self._status_lines():
            line.busy = busy
        self.collections_screen.set_busy(busy)
        for screen in self.screen_stack:
            if isinstance(screen, ResourcesScreen):
                screen.set_index_busy(screen.model.name in busy)

    def _sync_status_lines(self) -> None:
        """A status line mounted after the facts it shows (a new screen) is told them."""
        self._show_busy()
        self._show_notes()
        for line in self._status_lines():
            line.paused = self.paused
        self._show_recompute(self.recompute_tally)

    def on_read_problem(self, message: ReadProblem) -> None:
        text, when = self._last_problem
        if message.text == text and self.clock() - when < 30:
            return  # the same problem every pass: say it once
        self._last_problem = (message.text, self.clock())
        self.notify(message.text, title="Could not read", severity="error", timeout=8)

    def on_log_touched(self, message: LogTouched) -> None:
        screen = self.screen
        if not self.paused and isinstance(screen, ResourcesScreen):
            for widget in screen.live_widgets():  # no query of the DOM per file event
                if isinstance(widget, LogView):
                    widget.request_poll()

    def on_recompute_progress(self, message: RecomputeProgress) -> None:
        self._show_recompute(message.tally)

    def on_recompute_finished(self, message: RecomputeFinished) -> None:
        self.recompute_run = None
        self.refresh_bindings()
        title = f"Recompute of {len(message.idents)} in {message.collection} ended"
        severity: SeverityLevel = "information"
        if message.tally is not None:  # RecomputeRun always sends it
            self._show_recompute(message.tally)
            title, severity = message.tally.headline(message.collection)
        self.notify(message.summary, title=title, severity=severity, timeout=8)

    # -- requests from the screens -------------------------------------------------------

    def on_open_collection(self, message: OpenCollection) -> None:
        self.open_collection(message.name, message.status)

    def on_close_collection(self, message: CloseCollection) -> None:
        self.close_collection()

    def on_refresh_requested(self, message: RefreshRequested) -> None:
        self.reader.wake()

    def on_detail_requested(self, message: DetailRequested) -> None:
        self.reader.request_detail(message.collection, message.ident, message.reason)

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        screen = self.screen
        if isinstance(screen, ResourcesScreen) and screen.show_detail(message.data):
            self.watch_resource(message.data.directory if message.data else None)

    def on_recompute_requested(self, message: RecomputeRequested) -> None:
        self.confirm_recompute(message.collection, list(message.idents))

    def on_groups_requested(self, message: GroupsRequested) -> None:
        if message.signature:
            self.reader.request_group_idents(
                message.collection, message.signature, message.exception, message.retry
            )
        else:
            self.reader.request_groups(message.collection)

    def on_groups_loaded(self, message: GroupsLoaded) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, GroupsScreen) and screen.collection == message.collection:
                screen.show_groups(message.groups)

    def on_group_idents_loaded(self, message: GroupIdentsLoaded) -> None:
        model = self.model
        if model is None or model.name != message.collection:
            return
        if not message.idents:
            self.notify(
                f"Group {message.signature} has no errors now (fixed or recomputed).",
                severity="warning",
            )
            return
        if message.retry:
            self.confirm_recompute(message.collection, message.idents)
            return
        model.set_group_filter(message.signature, message.exception, message.idents)
        self._rows_changed(None)
        screen = self.screen
        if isinstance(screen, ResourcesScreen) and screen.is_mounted:
            screen.detail.activate("error")  # a group is looked at for its traceback

    def on_open_externally(self, message: OpenExternally) -> None:
        open_in_program(self, message.variable, message.path)

    # -- navigation -----------------------------------------------------------------------

    def open_collection(self, name: str, status: str | None = None) -> None:
        """Show the resources of ``name``, filtered to ``status`` if given."""
        self.model = CollectionModel(name)
        self.model.set_status_filter(status)
        self.generation = self.reader.set_active(name)
        screen = ResourcesScreen(self.model, self.base_label, self.clock)
        screen.set_index_busy(name in self.busy)
        self.push_screen(screen)
        self.call_after_refresh(self._sync_status_lines)

    def close_collection(self) -> None:
        """Back to the collections screen."""
        self.reader.set_active(None)
        self.model = None
        self.watch_resource(None)
        while isinstance(self.screen, ResourcesScreen) or len(self.screen_stack) > 2:
            self.pop_screen()

    # -- actions --------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            bindings = [b for b in self.BINDINGS if isinstance(b, Binding)]
            self.push_screen(HelpScreen(self.screen, bindings))

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.reader.set_paused(self.paused)
        for line in self._status_lines():
            line.paused = self.paused

    def confirm_recompute(self, collection: str, idents: list[str]) -> None:
        """Ask, then recompute ``idents`` in a background child process (one at a time).

        One ident is ``r`` (recomputed alone); more are a retry (``R`` on a
        view, or any list of idents) on up to :attr:`jobs` worker processes.
        """
        if self.recompute_run is not None:
            self.notify(
                f"A recompute is running ({self.recompute_run.tally.describe()}); "
                "wait for it, or stop it with ctrl+c.",
                severity="warning",
            )
            return
        verb: Verb = "recompute" if len(idents) == 1 else "retry"
        jobs = min(self.jobs, len(idents))
        question = recompute_question(collection, idents, jobs)

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_recompute(collection, idents, jobs, verb)

        self.push_screen(ConfirmScreen(question), answered)

    def start_recompute(self, collection: str, idents: list[str], jobs: int, verb: Verb) -> None:
        """Run the recompute child in a worker thread; its lines come back as messages."""
        run = RecomputeRun(
            self.base, collection, idents, jobs=jobs, verb=verb, post=self.post_message
        )
        self.recompute_run = run
        self._show_recompute(run.tally)
        self.refresh_bindings()
        self.run_worker(run.run, thread=True, group="recompute", name="recompute")

    def action_stop_recompute(self) -> None:
        if self.recompute_run is not None:
            self.recompute_run.stop()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_recompute":
            run = self.recompute_run
            return run is not None and run.tally.state == "running"
        return True

    def _show_recompute(self, tally: RecomputeTally | None) -> None:
        self.recompute_tally = tally
        for line in self._status_lines():
            line.recompute = tally

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette offers every action of the current screen too."""
        yield from super().get_system_commands(screen)
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                yield SystemCommand(
                    binding.description,
                    f"Key: {binding.key_display or binding.key}",
                    partial(screen.run_action, binding.action),
                )


def run(
    base: Path, *, poll_interval: float = 2.0, watch: bool = True, jobs: int | None = None
) -> int:
    """Run the monitor on ``base`` until the user quits; the exit code for the shell."""
    app = HadrosaurApp(base, poll_interval=poll_interval, watch=watch, jobs=jobs)
    with contextlib.suppress(KeyboardInterrupt):
        app.run()
    return app.return_code or 0
