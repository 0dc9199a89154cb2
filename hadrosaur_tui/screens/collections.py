"""CollectionsScreen: one row per collection with counts, progress, rate and ETA.

Opening a collection and refreshing are posted as messages (messages.py) for the app.
``g`` opens the error groups of the selected collection without loading its rows
(a million of them take seconds); choosing a group opens the collection filtered to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from hadrosaur.display import visible

from ..format import STATUS_ORDER
from ..messages import GroupsRequested, OpenCollection, RefreshRequested, SummaryUpdated
from ..widgets.status_line import StatusLine, covered
from .collection_columns import GAP, Layout, cells, choose_layout, headings
from .groups import GroupChoice, GroupsScreen

__all__ = ("CollectionsScreen",)

#: Cells the table leaves free at its right: its vertical scrollbar, when it has one.
_SCROLLBAR = 1


class CollectionsTable(DataTable[object]):
    """A DataTable where one click on a cell opens it (DataTable needs two).

    The colours of the counts are component classes, set in the stylesheet
    with every other colour (they follow the theme).
    """

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        *(f"collections-table--{status}" for status in STATUS_ORDER),
        "collections-table--zero",
    }

    def count_style(self, status: str, count: int) -> Style:
        """The style of a count of resources in ``status`` (a zero stands back)."""
        name = f"collections-table--{status}" if count else "collections-table--zero"
        # Partial: the cell keeps the row's background (zebra stripes, cursor).
        return self.get_component_rich_style(name, partial=True)

    async def _on_click(self, event: events.Click) -> None:
        before = self.cursor_coordinate
        await super()._on_click(event)
        meta = event.style.meta
        on_cell = meta.get("row", -1) >= 0 and meta.get("column", -1) >= 0
        if on_cell and self.cursor_coordinate != before:
            self.action_select_cursor()


class CollectionsScreen(Screen[None]):
    """The first screen: every collection of the base directory, live."""

    BINDINGS = [
        Binding("enter", "open", "Open", priority=True, id="collections.open"),
        Binding("r", "refresh", "Refresh", id="collections.refresh"),
        # Not in the footer (80 columns are taken); ? lists it.
        Binding(
            "g", "groups", "Error groups of the collection", show=False, id="collections.groups"
        ),
    ]

    def __init__(self, base_label: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.base_label = base_label
        self.clock = clock
        self.summaries: dict[str, SummaryUpdated] = {}
        self.base_state: tuple[bool, tuple[str, ...]] | None = None
        #: Collections whose index another process holds (their row says so).
        self.busy: frozenset[str] = frozenset()
        #: The columns as drawn now (None: not drawn yet).
        self.columns: Layout | None = None
        #: Collections whose summary arrived while this screen was covered (drawn on resume).
        self._stale: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with Middle(id="base-message-box"):
            with Center():
                yield Static(id="base-message", markup=False)
        # No padding of the table's own: each cell carries its gap (collection_columns.py).
        yield CollectionsTable(
            id="collections", cursor_type="cell", zebra_stripes=True, cell_padding=0
        )
        yield StatusLine(clock=self.clock, id="status-line")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.title = "hadrosaur"
        self.sub_title = visible(self.base_label, line=True)
        if self.base_state is None:
            self.show_message("Reading the base directory…")
        else:
            self.set_base_state(*self.base_state)

    # -- state from the reader -------------------------------------------------------

    def show_message(self, text: str | None) -> None:
        """Show a centred message instead of the table (None: show the table)."""
        box = self.query_one("#base-message-box")
        table = self.query_one(DataTable)
        box.display = text is not None
        table.display = text is None
        if text is not None:
            # It names the base directory: as text, never as markup.
            self.query_one("#base-message", Static).update(Text(visible(text)))

    def set_base_state(self, exists: bool, collections: tuple[str, ...]) -> None:
        self.base_state = (exists, collections)
        tables = self.query(DataTable)
        if not tables:
            return  # on_mount applies it
        table = tables.first()
        if not exists:
            self.show_message(
                f"The base directory {self.base_label} does not exist (yet).\n\n"
                "Waiting for it to appear: start a pipeline that uses "
                f"Project({self.base_label!r}), or press q to quit."
            )
            table.clear()
            return
        if not collections:
            self.show_message(
                f"No collections in {self.base_label} yet.\n\n"
                "This screen updates by itself when a pipeline defines one."
            )
            table.clear()
            return
        self.show_message(None)
        current = [str(key.value) for key in table.rows]
        if current != list(collections) or self.columns != self._fitting_layout():
            self._redraw()
            if not table.has_focus:
                table.focus()

    def update_summary(self, summary: SummaryUpdated) -> None:
        self.summaries[summary.name] = summary
        if covered(self):
            # Under a collection's screen: drawing the row would repaint that screen.
            self._stale.add(summary.name)
            return
        self._draw_summary(summary)

    def on_screen_resume(self) -> None:
        """Shown again: the summaries that arrived while covered, and the status line's time."""
        stale, self._stale = self._stale, set()
        for name in sorted(stale):
            self._draw_summary(self.summaries[name])
        for line in self.query(StatusLine):
            line.show_touched()

    def _draw_summary(self, summary: SummaryUpdated) -> None:
        tables = self.query(CollectionsTable)
        if not tables:
            return  # not composed yet: the rows are built from self.summaries later
        table = tables.first()
        if summary.name not in {str(k.value) for k in table.rows}:
            return
        if self.columns != self._fitting_layout():
            self._redraw()  # a count grew a digit, say: every row, in the new widths
            return
        assert self.columns is not None
        for key, value in zip(self.columns.keys, self._cells(summary.name), strict=True):
            table.update_cell(summary.name, key, value)

    def set_busy(self, busy: frozenset[str]) -> None:
        """The collections whose index is busy: their ETA cell says "⧗ busy" until it is free."""
        changed = busy ^ self.busy
        self.busy = busy
        tables = self.query(CollectionsTable)
        if not tables or self.columns is None:
            return
        rows = {str(k.value) for k in tables.first().rows}
        for name in changed & rows:
            for key, value in zip(self.columns.keys, self._cells(name), strict=True):
                tables.first().update_cell(name, key, value)

    def on_resize(self) -> None:
        if self.base_state is not None and self.columns != self._fitting_layout():
            self._redraw()

    def _fitting_layout(self) -> Layout:
        names = self.base_state[1] if self.base_state else ()
        available = self.size.width - _SCROLLBAR
        return choose_layout(available, {name: self.summaries.get(name) for name in names})

    def _redraw(self) -> None:
        """Columns and rows again, in the widths that fit now; the cursor stays."""
        table = self.query_one(CollectionsTable)
        keep = table.cursor_coordinate
        layout = self._fitting_layout()
        self.columns = layout
        table.clear(columns=True)
        for key, label in zip(layout.keys, headings(layout), strict=True):
            table.add_column(label, key=key, width=layout.width(key) + GAP)
        for name in self.base_state[1] if self.base_state else ():
            table.add_row(*self._cells(name), key=name)
        table.cursor_coordinate = keep

    def _cells(self, name: str) -> list[Text]:
        table = self.query_one(CollectionsTable)
        assert self.columns is not None
        return cells(
            name, self.summaries.get(name), self.columns, table.count_style, name in self.busy
        )

    # -- actions ---------------------------------------------------------------------

    def _selected(self) -> tuple[str, str | None] | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        row_key, column_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        column = str(column_key.value)
        return str(row_key.value), column if column in STATUS_ORDER else None

    def action_open(self) -> None:
        selected = self._selected()
        if selected is not None:
            self.post_message(OpenCollection(*selected))

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_open()

    def action_refresh(self) -> None:
        self.post_message(RefreshRequested())

    def action_groups(self) -> None:
        selected = self._selected()
        if selected is None:
            self.notify("No collection selected.", severity="warning")
            return
        name = selected[0]

        def chosen(choice: GroupChoice | None) -> None:
            if choice is not None:
                # The collection first: the group's idents filter (or retry from) its list.
                action, group = choice
                self.post_message(OpenCollection(name, None))
                request = GroupsRequested(name, group.signature, group.exception, action == "retry")
                self.post_message(request)

        self.app.push_screen(GroupsScreen(name, self.clock), chosen)
