"""GroupsScreen: the error groups of a collection (one row per cause), refreshed while open.

The groups are read by the background reader (asked once a second with a
:class:`~hadrosaur_tui.messages.GroupsRequested`); the app hands each answer
to :meth:`GroupsScreen.show_groups`. The screen dismisses with what was
chosen: ``("filter", group)`` (enter), ``("retry", group)`` (R), or None (esc).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from hadrosaur import ErrorGroup
from hadrosaur.display import visible

from ..format import format_clock, format_count, sparkline
from ..messages import GroupsRequested
from ..reader import GROUP_MINUTES

__all__ = ("GroupChoice", "GroupsScreen")

#: Minutes summed in one character of the sparkline.
MINUTES_PER_CHAR = 2

#: The columns, and the terminal widths below which the sparkline and then First seen
#: are left out, so that the message template (what a cause is) stays on screen at 80.
COLUMNS = ("count", "exception", "first", "last", "spark", "message")
NO_SPARKLINE_BELOW = 120
NO_FIRST_SEEN_BELOW = 90

#: What the screen was dismissed with: the action and the group it applies to.
GroupChoice = tuple[Literal["filter", "retry"], ErrorGroup]


class GroupsScreen(ModalScreen[GroupChoice | None]):
    """One row per error group of a collection, largest first."""

    BINDINGS = [
        Binding("escape", "dismiss_groups", "Close", id="groups.close"),
        Binding("enter", "choose('filter')", "Show this group's resources", id="groups.filter"),
        Binding("R", "choose('retry')", "Retry this group", id="groups.retry"),
    ]

    def __init__(self, collection: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.collection = collection
        self.clock = clock
        self.groups: list[ErrorGroup] | None = None
        self._drawn_minute = 0  # the first minute of the sparklines drawn
        self._columns: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="groups-box"):
            yield Static(id="groups-title")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="groups-table")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#groups-table", DataTable)

    def on_mount(self) -> None:
        self._update_title()
        self._set_columns(self.app.size.width)
        self.table.focus()
        self._request()
        self.set_interval(1.0, self._request)

    def on_resize(self) -> None:
        if self._set_columns(self.app.size.width) and self.groups is not None:
            groups, self.groups = self.groups, None
            self.show_groups(groups)

    def _set_columns(self, width: int) -> bool:
        """Choose the columns for a terminal ``width``; True when they changed."""
        left_out = {"spark"} if width < NO_SPARKLINE_BELOW else set()
        if width < NO_FIRST_SEEN_BELOW:
            left_out.add("first")
        columns = tuple(c for c in COLUMNS if c not in left_out)
        if columns == self._columns:
            return False
        self._columns = columns
        headings = {
            "count": "Count",
            "exception": "Exception",
            "first": "First seen",
            "last": "Last seen",
            "spark": f"Last {GROUP_MINUTES} min",
            "message": "Message",
        }
        self.table.clear(columns=True)
        self.table.add_columns(*(headings[c] for c in columns))
        return True

    def _request(self) -> None:
        self.post_message(GroupsRequested(self.collection))

    def _update_title(self) -> None:
        name = visible(self.collection, line=True)
        if self.groups is None:
            text = f"Error groups of {name}: loading…"
        else:
            errors = sum(g.count for g in self.groups)
            text = (
                f"Error groups of {name}: {format_count(len(self.groups))} "
                f"cause{'' if len(self.groups) == 1 else 's'}, {format_count(errors)} errors"
                "  (enter: show · R: retry · esc: close)"
            )
        self.query_one("#groups-title", Static).update(Text(text))

    def show_groups(self, groups: list[ErrorGroup]) -> None:
        """Redraw the rows from the reader's answer, keeping the cursor on the same group."""
        if not self.is_mounted:
            return
        now_ms = int(self.clock() * 1000)
        first_minute = now_ms // 60_000 - GROUP_MINUTES + 1
        if groups == self.groups and first_minute == self._drawn_minute:
            return  # the same rows: keep the cursor and the scroll as they are
        self._drawn_minute = first_minute
        table = self.table
        current = self.selected_group()
        self.groups = groups
        self._update_title()
        table.clear()
        for group in groups:
            per_char = [0] * (GROUP_MINUTES // MINUTES_PER_CHAR)
            for minute, n in group.per_minute.items():
                i = (minute - first_minute) // MINUTES_PER_CHAR
                if 0 <= i < len(per_char):
                    per_char[i] += n
            cells = {
                "count": Text(format_count(group.count), justify="right"),
                # Text, never str: a DataTable reads a str cell as markup.
                "exception": Text(visible(group.exception or "(no exception)", line=True)),
                # When the cause began (a deploy, a new input) and whether it still happens.
                "first": Text(format_clock(group.first_seen, now_ms)),
                "last": Text(format_clock(group.last_seen, now_ms)),
                "spark": Text(sparkline(per_char), style="red"),
                "message": Text(visible(group.message, line=True)),
            }
            table.add_row(*(cells[c] for c in self._columns), key=group.signature)
        if current is not None:
            signatures = [g.signature for g in groups]
            if current.signature in signatures:
                table.move_cursor(row=signatures.index(current.signature), animate=False)

    def selected_group(self) -> ErrorGroup | None:
        """The group under the cursor, or None before the groups arrive (or when there are none)."""
        if not self.groups or not self.is_mounted:
            return None
        row = self.table.cursor_row
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_choose("filter")

    def action_choose(self, action: Literal["filter", "retry"]) -> None:
        group = self.selected_group()
        if group is None:
            self.notify("No error group selected.", severity="warning")
            return
        self.dismiss((action, group))

    def action_dismiss_groups(self) -> None:
        self.dismiss(None)
