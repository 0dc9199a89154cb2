"""ResourcesScreen: the rows of one collection, filters, sort, and the selected resource's tabs.

What needs the app (reading a resource, recompute, leaving) is posted as a
message (messages.py) that bubbles up to it; the app answers by calling
:meth:`ResourcesScreen.rows_changed` and :meth:`ResourcesScreen.show_detail`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static

from hadrosaur.display import visible
from hadrosaur.resource import COMPLETED, ERROR, INTERRUPTED, PENDING, UNAVAILABLE

from ..messages import (
    CloseCollection,
    DetailRequested,
    GroupsRequested,
    OpenExternally,
    RecomputeRequested,
)
from ..model import SORT_KEYS, CollectionModel
from ..resource_detail import DetailData
from ..text_filter import TextFilterJob
from ..widgets.detail import TABS, ResourceDetail
from ..widgets.log_view import LogView
from ..widgets.resource_table import ResourceTable
from ..widgets.status_line import StatusLine
from .filter_bar import filter_bar
from .groups import GroupChoice, GroupsScreen

__all__ = ("FILTER_DEBOUNCE", "ResourcesScreen")

#: Seconds the text filter waits for the next keystroke before it runs.
FILTER_DEBOUNCE = 0.05

#: Rows below which the detail pane is hidden (a line says so): the table, the filter
#: bar, the status line and the footer need 9, and tabs and a log of 2 lines need 8.
DETAIL_MIN_HEIGHT = 17

#: One key per status filter; "a" shows every status.
STATUS_KEYS = {
    "a": None,
    "d": COMPLETED,
    "n": PENDING,
    "i": INTERRUPTED,
    "x": ERROR,
    "u": UNAVAILABLE,
}


class ResourcesScreen(Screen[None]):
    """One collection: a virtual table of its resources above the selected one's details."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="resources.back"),
        Binding("slash", "filter_text", "Filter", key_display="/", id="resources.filter"),
        # Not in the footer: the filter bar above the table shows every status key.
        Binding("x", f"status({ERROR!r})", "Errors", show=False, id=f"resources.{ERROR}"),
        Binding("a", "status('all')", "All statuses", show=False, id="resources.all"),
        *(
            Binding(key, f"status({status!r})", description, show=False, id=f"resources.{status}")
            for key, status, description in (
                ("d", COMPLETED, "Only done"),
                ("n", PENDING, "Only running"),
                ("i", INTERRUPTED, "Only interrupted"),
                ("u", UNAVAILABLE, "Only waiting"),
            )
        ),
        Binding("s", "sort", "Sort by the next column", show=False, id="resources.sort"),
        Binding("S", "reverse_sort", "Reverse the sort", show=False, id="resources.reverse"),
        Binding("r", "recompute_one", "Recompute", id="resources.recompute"),
        Binding("R", "recompute_view", "Retry errors", id="resources.recompute_all"),
        # Short in the footer, so that it fits in 80 columns; help shows the tooltip.
        Binding(
            "g",
            "groups",
            "Groups",
            tooltip="Error groups: the errors by cause",
            id="resources.groups",
        ),
        Binding(
            "e",
            "open_in('EDITOR')",
            "Open log/error/result in $EDITOR",
            show=False,
            id="resources.editor",
        ),
        Binding(
            "o",
            "open_in('PAGER')",
            "Open log/error/result in $PAGER",
            show=False,
            id="resources.pager",
        ),
        Binding(
            "c", "copy_path", "Copy the resource directory path", show=False, id="resources.copy"
        ),
        Binding(
            "f", "follow", "Follow the log on/off (like tail -f)", show=False, id="resources.follow"
        ),
        Binding(
            "w", "wrap", "Wrap long lines on/off (log, traceback)", show=False, id="resources.wrap"
        ),
        Binding("ctrl+f", "find", "Find in the log or traceback", show=False, id="resources.find"),
        Binding("1", "tab('log')", "Show the Log tab", show=False, id="resources.tab_log"),
        Binding(
            "2",
            "tab('error')",
            "Show the Error tab (traceback)",
            show=False,
            id="resources.tab_error",
        ),
        Binding("3", "tab('result')", "Show the Result tab", show=False, id="resources.tab_result"),
        Binding(
            "4",
            "tab('info')",
            "Show the Info tab (paths, args, times)",
            show=False,
            id="resources.tab_info",
        ),
    ]

    def __init__(
        self, model: CollectionModel, base_label: str, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.model = model
        self.base_label = base_label
        self.clock = clock
        self._detail_timer: Timer | None = None
        self.selected: str | None = None
        #: Another process holds this collection's index: the reader is waiting for it.
        self.index_busy = False
        #: The text filter typed and not yet shown (the newest keystroke's).
        self._filter_job: TextFilterJob | None = None
        #: The table and the log views (see live_widgets), looked up once.
        self._live: tuple[ResourceTable | LogView, ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="filter-bar")
        yield ResourceTable(
            self.model, clock=self.clock, empty_text=self._empty_text(), id="resource-table"
        )
        yield ResourceDetail(clock=self.clock, id="detail")
        yield Static(id="detail-hidden")
        yield Input(
            placeholder="filter text, !text to exclude; enter/esc to close", id="filter-input"
        )
        yield StatusLine(clock=self.clock, id="status-line")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.title = visible(f"hadrosaur · {self.model.name}", line=True)
        self.sub_title = visible(self.base_label, line=True)
        self.query_one("#filter-input", Input).display = False
        self.table.focus()
        self._fit_detail()
        # Not mounted yet while in on_mount (rows_changed waits for that): right after.
        self.call_after_refresh(self.rows_changed)

    def on_resize(self) -> None:
        self._fit_detail()

    def on_screen_resume(self) -> None:
        for line in self.query(StatusLine):
            line.show_touched()  # the time of the data that arrived while covered

    def _fit_detail(self) -> None:
        """Hide the detail pane on a terminal too short for it, rather than crush it."""
        height = self.size.height
        small = 0 < height < DETAIL_MIN_HEIGHT
        hint = self.query_one("#detail-hidden", Static)
        hint.display = small
        self.detail.display = not small
        if small:
            hint.update(
                Text(
                    f" detail pane hidden: needs {DETAIL_MIN_HEIGHT} rows, not {height}"
                    " · e/o: log in $EDITOR/$PAGER",
                    style="italic",
                )
            )

    @property
    def table(self) -> ResourceTable:
        return self.query_one(ResourceTable)

    def live_widgets(self) -> tuple[ResourceTable | LogView, ...]:
        """The table and the log views, in the DOM's order: what the tick and the log's events poll.

        Looked up once (the screen composes them once and never mounts
        others): the tick and every file event of the selected log would
        otherwise each cost a query of the whole DOM.
        """
        if not self._live:
            self._live = tuple(
                w
                for w in self.query("ResourceTable, LogView")
                if isinstance(w, (ResourceTable, LogView))
            )
        return self._live

    @property
    def detail(self) -> ResourceDetail:
        return self.query_one(ResourceDetail)

    # -- updates from the app ------------------------------------------------------

    def rows_changed(self, touched: set[str] | None = None) -> None:
        """The model changed: redraw the table, the filter bar, and the details if touched."""
        if not self.is_mounted or not self.query(ResourceTable):
            # Rows can arrive between push_screen and the mount (or while the
            # screen is being removed); on_mount draws from the model anyway.
            return
        self.table.empty_text = self._empty_text()
        self.table.refresh_rows()
        self._update_filter_bar()
        self.query_one(StatusLine).computing = tuple(self.model.running_per_host().items())
        if touched and self.selected in touched:
            index = self.model.find(self.selected) if self.selected else None
            if index is not None:
                self.detail.refresh_status(self.model.row(index).status)
                self._schedule_detail(self.selected)

    def set_index_busy(self, busy: bool) -> None:
        """Whether the reader is waiting for this collection's index (held by another process)."""
        if busy != self.index_busy:
            self.index_busy = busy
            self.rows_changed()

    def _empty_text(self) -> str:
        if not self.model.loaded:
            if self.index_busy:
                return visible(
                    f"Waiting for the index of {self.model.name} "
                    "(another process holds it), retrying…",
                    line=True,
                )
            return "Loading…"
        if self.model.total == 0:
            return visible(f"No resources in {self.model.name} yet.", line=True)
        return "No resources match this filter (a shows all, / changes the text filter)."

    def _update_filter_bar(self) -> None:
        bar = filter_bar(self.model, STATUS_KEYS, self.index_busy)
        self.query_one("#filter-bar", Static).update(bar)

    # -- selection and details -----------------------------------------------------

    def on_resource_table_highlighted(self, event: ResourceTable.Highlighted) -> None:
        if event.ident != self.selected:
            self.selected = event.ident
            self._schedule_detail(event.ident)
        # The selection stays in view through live changes (a running one that ends in
        # the n view, an error recomputed in the x view) until it moves: then the row
        # left behind goes if it no longer matches, and the cursor follows its resource.
        if self.model.keep(event.ident):
            self.table.refresh_rows()
            self._update_filter_bar()

    def _schedule_detail(self, ident: str | None) -> None:
        # Debounced: scrolling through rows must not read every resource on the way.
        if self._detail_timer is not None:
            self._detail_timer.stop()
        index = self.model.find(ident) if ident is not None else None
        reason = self.model.row(index).reason if index is not None else ""
        request = DetailRequested(self.model.name, ident, reason)
        self._detail_timer = self.set_timer(0.08, lambda: self.post_message(request))

    def show_detail(self, data: DetailData | None) -> bool:
        """Show a resource's detail read for this screen; False if the selection moved on."""
        if not self.query(ResourceDetail):
            return False  # an answer that arrives while the screen is being removed
        if data is None or data.ident == self.selected:
            self.detail.show(data)
            return True
        return False

    def on_resource_table_header_clicked(self, event: ResourceTable.HeaderClicked) -> None:
        if event.key == self.model.sort_key:
            self.model.set_sort(event.key, not self.model.reverse)
        else:
            self.model.set_sort(event.key)
        self.rows_changed()

    # -- actions -------------------------------------------------------------------

    def action_back(self) -> None:
        if self.query_one("#filter-input", Input).has_focus:
            self._close_filter()  # esc in the filter box closes it, keeping the filter
            return
        if self.model.group_filter is not None:
            self.model.clear_group_filter()  # esc first clears the group shown, then leaves
            self.rows_changed()
            return
        self.post_message(CloseCollection())

    def action_status(self, status: str) -> None:
        if status == "all" and self.model.group_filter is not None:
            self.model.clear_group_filter()
        self.model.set_status_filter(None if status == "all" else status)
        self.rows_changed()

    def action_filter_text(self) -> None:
        box = self.query_one("#filter-input", Input)
        box.display = True
        box.value = self.model.text_filter
        box.focus()

    @on(Input.Changed, "#filter-input")
    def _filter_typed(self, event: Input.Changed) -> None:
        # The last keystroke wins: its job replaces (and its worker cancels) the one before.
        self._filter_job = self.model.text_filter_job(event.value)
        self._run_text_filter(self._filter_job)

    @work(exclusive=True, group="text-filter")
    async def _run_text_filter(self, job: TextFilterJob) -> None:
        """After a pause in typing, match a slice at a time: keys are read between slices."""
        await asyncio.sleep(FILTER_DEBOUNCE)
        while not self.model.step_text_filter(job):
            await asyncio.sleep(0)
        self._show_text_filter(job)

    def _show_text_filter(self, job: TextFilterJob) -> None:
        if self._filter_job is job:
            self._filter_job = None
            self.model.finish_text_filter(job)
            self.rows_changed()

    @on(Input.Submitted, "#filter-input")
    def _filter_done(self) -> None:
        self._close_filter()

    def _close_filter(self) -> None:
        if self._filter_job is not None:
            self._show_text_filter(self._filter_job)  # enter or esc: what was typed, at once
        self.query_one("#filter-input", Input).display = False
        self.table.focus()

    def action_sort(self) -> None:
        keys = SORT_KEYS
        following = keys[(keys.index(self.model.sort_key) + 1) % len(keys)]
        self.model.set_sort(following, self.model.reverse)
        self.rows_changed()

    def action_reverse_sort(self) -> None:
        self.model.set_sort(self.model.sort_key, not self.model.reverse)
        self.rows_changed()

    def action_recompute_one(self) -> None:
        if self.selected is None:
            self.notify("No resource selected.", severity="warning")
            return
        index = self.model.find(self.selected)
        if index is not None and self.model.row(index).status == UNAVAILABLE:
            self.notify(
                f"{self.selected} has never started, so there are no recorded args to "
                "recompute it with; the pipeline that planned it will compute it.",
                severity="warning",
            )
            return
        self.post_message(RecomputeRequested(self.model.name, (self.selected,)))

    def action_recompute_view(self) -> None:
        idents = [
            row.ident
            for row in self.model.rows(0, len(self.model))
            if row.status in (ERROR, INTERRUPTED)
        ]
        if not idents:
            self.notify("No error or interrupted resources in this view.", severity="warning")
            return
        self.post_message(RecomputeRequested(self.model.name, tuple(idents)))

    def action_groups(self) -> None:
        name = self.model.name

        def chosen(choice: GroupChoice | None) -> None:
            if choice is not None:
                action, group = choice
                request = GroupsRequested(name, group.signature, group.exception, action == "retry")
                self.post_message(request)

        self.app.push_screen(GroupsScreen(name, self.clock), chosen)

    def _current_file(self) -> Path | None:
        """The file of the tab on show (the log for the Info tab), as Resource.paths names it."""
        data = self.detail.data
        if data is None:
            return None
        tab = self.detail.active_tab
        return data.paths.get(tab if tab in ("log", "error", "result") else "log")

    def action_open_in(self, variable: str) -> None:
        current = self._current_file()
        if current is None:
            self.notify("No resource selected.", severity="warning")
            return
        self.post_message(OpenExternally(variable, current))

    def action_copy_path(self) -> None:
        directory = self.detail.data.directory if self.detail.data else None
        if directory is None:
            self.notify("No resource selected.", severity="warning")
            return
        self.app.copy_to_clipboard(str(directory))
        self.notify(f"Copied {directory}", title="Path copied")

    def _pane_view(self) -> LogView:
        """The view of the tab on show: the traceback on the Error tab, else the log."""
        pane = self.detail.pane(self.detail.active_tab)
        return pane.view if pane is not None else self.detail.log_view

    def action_follow(self) -> None:
        log = self.detail.log_view
        log.action_toggle_follow()
        self.notify("Following the log" if log.follow else "Stopped following the log")

    def action_wrap(self) -> None:
        view = self._pane_view()
        view.wrap = not view.wrap

    def action_find(self) -> None:
        tab = self.detail.active_tab
        if tab not in ("log", "error"):
            self.detail.activate("log")
            tab = "log"
        pane = self.detail.pane(tab)
        if pane is not None:
            pane.action_open_find()

    def action_tab(self, tab: str) -> None:
        if tab in TABS:
            self.detail.activate(tab)
