"""ResourceTable: a virtual table over a CollectionModel that draws only the visible rows.

It is a Line-API widget: ``render_line`` asks the model for one row at a
time, so the cost of a frame does not depend on how many resources the
collection holds. The cursor is remembered by ident, not by row number, so
it stays on its resource while rows are added, removed or re-sorted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hadrosaur.display import format_duration, visible

from ..format import STATUS_SYMBOLS, format_clock
from ..model import CollectionModel, Row
from .virtual_size import set_virtual_size

__all__ = ("ResourceTable", "short_reason")

_MODULE_PREFIX = re.compile(r"^(?:[A-Za-z_][\w]*\.)+(?=[A-Za-z_]\w*(?::|$))")


def short_reason(reason: str) -> str:
    """'pkg.module.DemoFailure: bad' -> 'DemoFailure: bad' (the class says enough in a list)."""
    return _MODULE_PREFIX.sub("", reason, count=1)


_STATUS_WIDTH = 13
_CLOCK_WIDTH = 11  # format_clock's longest, 'MM-DD HH:MM'
_DURATION_WIDTH = 10  # 'Duration ▲': the sort mark must fit, as in every other heading
#: Below this width the Started column is left out, so that ident and reason stay readable.
_NARROW = 60
_HEADINGS = {"ident": "Ident", "status": "Status", "start": "Started", "duration": "Duration"}


class ResourceTable(ScrollView, can_focus=True):
    """The rows of one collection: status, ident, start, duration, and the error reason."""

    COMPONENT_CLASSES = {
        "resource-table--header",
        "resource-table--cursor",
        "resource-table--completed",
        "resource-table--pending",
        "resource-table--interrupted",
        "resource-table--error",
        "resource-table--unavailable",
        "resource-table--reason",
        "resource-table--empty",
    }

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First row", show=False),
        Binding("end", "edge(1)", "Last row", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor moved to another resource (ident is None when the view is empty)."""

        def __init__(self, table: ResourceTable, ident: str | None) -> None:
            super().__init__()
            self.table = table
            self.ident = ident

    class HeaderClicked(Message):
        """A column heading was clicked: sort by it."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        model: CollectionModel,
        *,
        clock: Callable[[], float] = time.time,
        empty_text: str = "No resources.",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model = model
        self.clock = clock
        self.empty_text = empty_text
        self.cursor_ident: str | None = None
        self._last_announced: str | None = "<none>"
        #: The clock-dependent text of the visible rows at the last tick, by screen line.
        self._timed_text: dict[int, tuple[str, str]] = {}

    # -- geometry --------------------------------------------------------------

    def _columns(self) -> list[tuple[str, int]]:
        """The columns shown and their widths (one space between): narrow leaves out Started."""
        width = self.scrollable_content_region.width or 80
        others = [("status", _STATUS_WIDTH), ("start", _CLOCK_WIDTH), ("duration", _DURATION_WIDTH)]
        if width < _NARROW:
            others.remove(("start", _CLOCK_WIDTH))
        fixed = sum(w for _, w in others) + len(others)
        wanted = max(len(_HEADINGS["ident"]) + 2, self.model.longest_ident)
        # Room for the reason, but a narrow table gives the ident every cell it can.
        reason = 12 if width >= _NARROW else 0
        ident = max(8, min(wanted, 40, width - fixed - reason))
        return [others[0], ("ident", ident), *others[1:]]

    def refresh_rows(self) -> None:
        """Re-read the model after it changed: size, cursor position, repaint."""
        width = self.scrollable_content_region.width or 80
        set_virtual_size(self, Size(width, len(self.model) + 1))
        if self.cursor_ident is not None:
            index = self.model.find(self.cursor_ident)
            if index is not None:
                self.cursor_row = index
        self.cursor_row = max(0, min(self.cursor_row, len(self.model) - 1))
        self._announce()
        self.refresh()

    def refresh_times(self) -> None:
        """Redraw the visible rows whose start or duration text moved with the clock.

        Called every second: a running row's duration ticks, and nothing else
        on screen does, so only those lines are drawn again (a full redraw of
        the table every second cost a few percent of a core while idle).
        """
        now_ms = int(self.clock() * 1000)
        top = int(self.scroll_y)
        height = max(0, self.scrollable_content_region.height - 1)
        shown: dict[int, tuple[str, str]] = {}
        for offset, row in enumerate(self.model.rows(top, top + height)):
            duration = row.duration_ms(now_ms) if row.end is None else None
            shown[offset + 1] = (format_clock(row.start, now_ms), format_duration(duration))
        width = self.size.width
        for y, text in shown.items():
            if self._timed_text.get(y, text) != text:
                self.refresh(Region(0, y, width, 1))
        self._timed_text = shown

    def on_resize(self, event: events.Resize) -> None:
        self.refresh_rows()

    # -- cursor ----------------------------------------------------------------

    def watch_cursor_row(self, row: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()

    def _announce(self) -> None:
        ident = self.model.row(self.cursor_row).ident if len(self.model) else None
        self.cursor_ident = ident if ident is not None else self.cursor_ident
        if ident != self._last_announced:
            self._last_announced = ident
            self.post_message(self.Highlighted(self, ident))

    def move_cursor(self, row: int) -> None:
        """Put the cursor on view row ``row`` (clamped)."""
        if not len(self.model):
            return
        self.cursor_row = max(0, min(row, len(self.model) - 1))
        self.cursor_ident = self.model.row(self.cursor_row).ident
        self._announce()

    def _scroll_cursor_into_view(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        self.move_cursor(len(self.model) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            key = self._column_at(event.x + int(self.scroll_x))
            if key is not None:
                self.post_message(self.HeaderClicked(key))
            return
        self.move_cursor(int(self.scroll_y) + event.y - 1)

    def _column_at(self, x: int) -> str | None:
        left = 0
        for key, width in self._columns():
            if left <= x < left + width + 1:
                return key
            left += width + 1
        return None

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_to(y=self.scroll_y + 3, animate=False)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_to(y=max(0, self.scroll_y - 3), animate=False)

    # -- drawing ---------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header(width)
        if not len(self.model):
            if y == 2:
                style = self.get_component_rich_style("resource-table--empty")
                text = "  " + visible(self.empty_text, line=True)
                return Strip([Segment(text.ljust(width), style)], width)
            return Strip.blank(width, self.rich_style)
        index = int(self.scroll_y) + y - 1
        if index >= len(self.model):
            return Strip.blank(width, self.rich_style)
        return self._row(self.model.row(index), index == self.cursor_row, width)

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("resource-table--header")
        marks = {self.model.sort_key: " ▼" if self.model.reverse else " ▲"}
        cells = [(_HEADINGS[key] + marks.get(key, "")).ljust(w)[:w] for key, w in self._columns()]
        text = " ".join(cells) + " Reason"
        return Strip([Segment(text.ljust(width)[:width], style)], width)

    def _row(self, row: Row, is_cursor: bool, width: int) -> Strip:
        now_ms = int(self.clock() * 1000)
        base = self.rich_style
        status_style = self.get_component_rich_style(f"resource-table--{row.status}")
        reason_style = self.get_component_rich_style("resource-table--reason")
        columns = dict(self._columns())
        ident_width = columns["ident"]
        # Idents are validated names, but the table also shows what a scan of
        # the base directory found; reasons come from tracebacks.
        shown = visible(row.ident, line=True)
        ident = shown if len(shown) <= ident_width else shown[: ident_width - 1] + "…"
        segments = [
            Segment(
                f"{STATUS_SYMBOLS[row.status]} {row.status}".ljust(_STATUS_WIDTH), status_style
            ),
            Segment(" " + ident.ljust(ident_width), base),
        ]
        if "start" in columns:
            segments.append(
                Segment(" " + format_clock(row.start, now_ms).ljust(_CLOCK_WIDTH), base)
            )
        segments += [
            Segment(" " + format_duration(row.duration_ms(now_ms)).rjust(_DURATION_WIDTH), base),
            Segment(" " + visible(short_reason(row.reason), line=True), reason_style),
        ]
        if is_cursor:
            # The cursor's colours go on top of each cell's own style.
            cursor = self.get_component_rich_style("resource-table--cursor")
            if not self.has_focus:
                cursor += Style(dim=True)
            segments = [Segment(text, (style or base) + cursor) for text, style, _ in segments]
            base = base + cursor
        return Strip(segments).crop(0, width).extend_cell_length(width, base)

    def watch_has_focus(self, _focus: bool) -> None:
        self.refresh(Region(0, 0, self.size.width, self.size.height))
