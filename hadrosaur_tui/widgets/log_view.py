"""LogView: draws a LogDocument (a log or a traceback) and lets the user move in it.

It only draws: what the lines are, and what happens to the file (growth,
rotation, truncation), is log_document.py's business, and the file is
followed by the one tailer, :class:`hadrosaur.tail.FileTail`.

**Following.** While :attr:`follow` is on, the rows drawn are counted from
the end of the document, whatever the scroll offset says: a new line, a
rotation or a switch to another resource never shows a frame of the top of
the file (the old view cleared and re-read the file, and scrolled to the end
only after the next refresh). Moving up (a key, the wheel, the scroll bar,
``g``) pauses following; ``End``/``G`` or ``f`` resumes. While paused,
nothing moves: new lines only lengthen the scroll bar.

**Wrapping** cuts lines by terminal cells (``rich.cells.chop_cells``) and
counts rows the same way, so wide characters take the rows they are drawn
on. Without wrapping, long lines scroll sideways.

Keys (while the view has focus): ``g``/``Home`` top, ``G``/``End`` end and
follow, arrows and page keys, ``n``/``N`` next/previous match of the find,
``ctrl+l`` line numbers.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from hadrosaur.display import visible

from ..log_document import LogDocument
from .log_styles import LINE_KINDS, mark_matches, style_line
from .virtual_size import set_virtual_size

#: Seconds between two polls of a log that keeps changing (see LogView.request_poll).
POLL_INTERVAL = 0.5
#: Lines drawn kept for the next frames (a few screens' worth).
_STRIP_CACHE = 1_000

__all__ = ("FIND_IN_THREAD_BYTES", "POLL_INTERVAL", "WRAP_MAX_LINES", "LogView")

#: Wrapping measures every line; beyond this many lines it is refused (the log scrolls sideways).
WRAP_MAX_LINES = 200_000
#: A find through a log bigger than this runs in a thread, so that the screen never waits.
FIND_IN_THREAD_BYTES = 32 * 1024 * 1024


class LogView(ScrollView, can_focus=True):
    """A live, virtual view of one log (or of a traceback, ``live=False``)."""

    COMPONENT_CLASSES = {f"log-view--{kind}" for kind in LINE_KINDS}

    BINDINGS = [
        Binding("up,k", "scroll_lines(-1)", "Up a line (pauses following)", show=False),
        Binding("down,j", "scroll_lines(1)", "Down a line", show=False),
        Binding("pageup", "page(-1)", "Up a page", show=False),
        Binding("pagedown,space", "page(1)", "Down a page", show=False),
        Binding("left", "scroll_columns(-8)", "Scroll left (long lines, no wrap)", show=False),
        Binding("right", "scroll_columns(8)", "Scroll right", show=False),
        Binding("g,home", "top", "Top (pauses following)", show=False, id="log.top"),
        Binding("G,end", "bottom", "End, and follow again", show=False, id="log.end"),
        Binding("n", "match(True)", "Next match of the find", show=False, id="log.next"),
        Binding("N", "match(False)", "Previous match of the find", show=False, id="log.previous"),
        Binding("ctrl+l", "numbers", "Line numbers on/off", show=False, id="log.numbers"),
    ]

    follow: reactive[bool] = reactive(True, init=False)
    wrap: reactive[bool] = reactive(False, init=False)
    numbers: reactive[bool] = reactive(False, init=False)

    class Changed(Message):
        """Following, the position or the size changed: the pane's status line is redrawn."""

        def __init__(self, view: LogView) -> None:
            super().__init__()
            self.view = view

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LogView.Changed) and message.view is self.view

    def __init__(self, *, live: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        #: A log that grows (True) or a text shown once, a traceback (False).
        self.live = live
        self.document = LogDocument()
        self.path: Path | None = None
        self.empty_text = "No log yet."
        #: What the find looks for, and the line of the match shown ("" / -1: none).
        self.needle = ""
        self.match_line = -1
        #: A find is running in a thread (a huge log).
        self.searching = False
        self._rows = array("q")  # with wrap: rows up to the end of each line
        self._wrap_width = 0
        self._indexer_running = False
        self._text: str | None = None
        self._last_poll = 0.0
        self._poll_timer: Timer | None = None
        #: Lines drawn, by everything that decides how they look (see render_line).
        self._strips: dict[tuple[object, ...], Strip] = {}
        #: Called at once when the view changes, before the Changed message is
        #: handled: the pane draws its status line in the same frame as the lines.
        self.change_hook: Callable[[], object] | None = None

    # -- what is shown --------------------------------------------------------------------

    @property
    def refused(self) -> str:
        """Why the file is not shown ("" when it is): a symlink, a FIFO..."""
        return self.document.refused

    @property
    def line_count(self) -> int:
        return self.document.line_count

    def show(self, path: Path | None, empty_text: str = "No log yet.") -> None:
        """Show the log at ``path`` (None: ``empty_text``); the same path keeps its place."""
        self.empty_text = visible(empty_text, line=True)
        if path is not None and path == self.path and not self.document.refused:
            self.poll()
            return
        self._replace(LogDocument(path), path)

    def show_text(self, text: str | None, empty_text: str = "") -> None:
        """Show a text held in memory (a traceback) at its end; the same text stays put."""
        self.empty_text = visible(empty_text, line=True)
        if text == self._text and self.path is None:
            self.refresh()
            return
        self._text = text
        self._replace(LogDocument(text=text) if text else LogDocument(), None)

    def _replace(self, document: LogDocument, path: Path | None) -> None:
        self.document.close()
        self.document = document
        self.path = path
        if path is not None:
            self._text = None
        self.match_line = -1
        self._rows = array("q")
        self.set_reactive(LogView.follow, True)  # a new log opens at its end
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._relayout()
        self._start_indexer()

    def on_unmount(self) -> None:
        self.document.close()

    def request_poll(self) -> None:
        """The file changed: poll it now, or at most :data:`POLL_INTERVAL` after the last poll.

        A busy log changes many times a second, and each poll that finds
        lines redraws the whole pane (following, every line moves up): so
        the events of a burst become one poll, and a log appended to
        continuously is redrawn a few times a second, not on every write.
        """
        if self._poll_timer is not None:
            return  # a poll is already due
        wait = self._last_poll + POLL_INTERVAL - time.monotonic()
        if wait <= 0:
            self.poll()
        else:
            self._poll_timer = self.set_timer(wait, self._timed_poll)

    def _timed_poll(self) -> None:
        self._poll_timer = None
        self.poll()

    def poll(self) -> bool:
        """Read what the file gained (and what became of it); True if anything changed."""
        self._last_poll = time.monotonic()
        changed, more = self.document.poll()
        if changed:
            self._relayout()
        if more:
            self.call_later(self.poll)  # a big append: the rest on the next turn of the loop
        return changed

    def _start_indexer(self) -> None:
        """Index the part of a big log left for later in a thread, then join it above."""
        if not self.document.indexing or self._indexer_running or not self.is_mounted:
            return
        document = self.document
        self._indexer_running = True

        def index() -> None:
            document.index_pending()
            self.app.call_from_thread(self._indexed, document)

        self.run_worker(index, thread=True, group="log-index", exit_on_error=False)

    def _indexed(self, document: LogDocument) -> None:
        self._indexer_running = False
        if document is not self.document:
            return
        top_line = self.top_line  # before the lines above arrive
        added = document.take_indexed()
        if self.match_line >= 0:
            self.match_line += added
        self._rows = array("q")
        self._relayout()
        if not self.follow:  # the same lines stay on screen, below the ones added above
            self.scroll_to(y=self._row_of(top_line + added), animate=False, immediate=True)

    def on_mount(self) -> None:
        self._start_indexer()

    # -- layout ---------------------------------------------------------------------------

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width - self._gutter_width())

    def _gutter_width(self) -> int:
        return len(f"{self.line_count:,}") + 3 if self.numbers else 0

    def _total_rows(self) -> int:
        if self.wrap and self._rows:
            return self._rows[-1]
        return self.line_count

    def _measure_rows(self) -> None:
        """Rows of every line when wrapping (only the new lines, while the width holds)."""
        width = self._text_width()
        if width != self._wrap_width:
            self._rows, self._wrap_width = array("q"), width
        known = max(0, len(self._rows) - 1)  # the last line measured may have grown
        del self._rows[known:]
        total = self._rows[-1] if self._rows else 0
        for index in range(known, self.line_count):
            total += max(1, len(chop_cells(self.document.line(index), width)))
            self._rows.append(total)

    def _relayout(self) -> None:
        if self.wrap:
            self._measure_rows()
        width = self.scrollable_content_region.width
        if self.wrap:
            virtual_width = width
        else:
            virtual_width = max(width, self.document.longest + self._gutter_width())
        set_virtual_size(self, Size(virtual_width, max(1, self._total_rows())))
        if self.follow:
            # The drawing already counts from the end; the scroll bar follows at once (in
            # the same frame) when the range grew in place, else after the layout.
            self._stick_to_end()
            self.call_after_refresh(self._stick_to_end)
        self.refresh()
        self._changed()

    def _changed(self) -> None:
        if self.change_hook is not None:
            self.change_hook()
        self.post_message(self.Changed(self))

    def _stick_to_end(self) -> None:
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._relayout()

    def watch_wrap(self, wrap: bool) -> None:
        if wrap and self.line_count > WRAP_MAX_LINES:
            self.set_reactive(LogView.wrap, False)
            self.notify(
                f"Not wrapping a log of {self.line_count:,} lines (at most "
                f"{WRAP_MAX_LINES:,}): scroll sideways with the arrow keys.",
                severity="warning",
            )
            return
        top_line = self._line_at(self._top_row())
        self._rows = array("q")
        self._relayout()
        if not self.follow:
            self.scroll_to(x=0, y=self._row_of(top_line), animate=False)

    def watch_numbers(self) -> None:
        self._rows = array("q")
        self._relayout()

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.scroll_to(x=0, animate=False)
            self._relayout()
        self._changed()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        # Anything that moves the view up (the wheel, the scroll bar) pauses following.
        if self.follow and new < old and new < self.max_scroll_y:
            self.follow = False
        self._changed()

    # -- rows and lines -------------------------------------------------------------------

    def _top_row(self) -> int:
        """The first row drawn: counted from the end while following."""
        height = self.scrollable_content_region.height
        if self.follow:
            return max(0, self._total_rows() - height)
        return int(self.scroll_y)

    def _line_at(self, row: int) -> int:
        """The line drawn on ``row`` (its first row, when it wraps)."""
        if self.wrap and self._rows:
            return min(bisect_right(self._rows, row), len(self._rows) - 1)
        return row

    def _row_of(self, line: int) -> int:
        if self.wrap and self._rows and line > 0:
            return self._rows[min(line, len(self._rows)) - 1]
        return line

    @property
    def top_line(self) -> int:
        """The first line on screen."""
        return self._line_at(self._top_row())

    # -- drawing --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.line_count == 0:
            if y != 0:
                return Strip.blank(width, self.rich_style)
            note = self.document.refused or self.empty_text
            strip = Strip([Segment(note, self._style("debug"))])
            return strip.extend_cell_length(width, self.rich_style)
        row = self._top_row() + y
        if row >= self._total_rows():
            return Strip.blank(width, self.rich_style)
        index = self._line_at(row)
        scroll_x = 0 if self.follow else int(self.scroll_x)
        # A followed log moves up a line per line appended: every other line on screen is
        # one drawn before, so it is taken from the cache rather than styled again.
        key = (
            row,
            index,
            self.document.line(index),
            width,
            scroll_x,
            self.wrap,
            self.numbers and self._gutter_width(),
            self.needle,
            index == self.match_line,
        )
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        if len(self._strips) > _STRIP_CACHE:
            self._strips.clear()
        strip = self._strips[key] = self._draw_line(row, index, width, scroll_x)
        return strip

    def _draw_line(self, row: int, index: int, width: int, scroll_x: int) -> Strip:
        text = self._styled_line(index)
        gutter = self._gutter(index)
        if self.wrap and self._rows:
            first = self._rows[index - 1] if index else 0
            pieces = chop_cells(text.plain, self._text_width()) or [""]
            cuts, total = [], 0
            for piece in pieces:
                total += cell_len(piece)
                cuts.append(total)
            part = row - first
            lines = Strip(text.render(self.app.console)).divide(cuts)
            shown = lines[part] if part < len(lines) else Strip([])
            if part:
                gutter = Strip.blank(gutter.cell_length, self._style("gutter"))
            return Strip.join([gutter, shown]).extend_cell_length(width, self.rich_style)
        strip = Strip(text.render(self.app.console)).crop(scroll_x, scroll_x + self._text_width())
        return Strip.join([gutter, strip]).extend_cell_length(width, self.rich_style)

    def notify_style_update(self) -> None:
        self._strips.clear()  # the theme or a pseudo-class changed the colours
        super().notify_style_update()

    def _styled_line(self, index: int) -> Text:
        text = style_line(self.document.line(index), not self.live, self._style)
        mark_matches(text, self.needle, self._style("match"))
        if index == self.match_line:
            text.stylize(Style(underline=True))
        return text

    def _gutter(self, index: int) -> Strip:
        if not self.numbers:
            return Strip([])
        number = f"{index + 1:>{self._gutter_width() - 3},} │ "
        return Strip([Segment(number, self._style("gutter"))])

    def _style(self, kind: str) -> Style:
        return self.get_component_rich_style(f"log-view--{kind}")

    # -- actions --------------------------------------------------------------------------

    def action_scroll_lines(self, delta: int) -> None:
        top = self._top_row()
        if delta < 0:
            self.follow = False
        self.scroll_to(y=max(0, top + delta), animate=False, immediate=True)

    def action_page(self, direction: int) -> None:
        self.action_scroll_lines(direction * max(1, self.scrollable_content_region.height - 1))

    def action_scroll_columns(self, delta: int) -> None:
        if self.wrap:
            return
        if self.follow:
            self.follow = False
            self.scroll_to(y=self._top_row(), animate=False, immediate=True)
        self.scroll_to(x=max(0, self.scroll_x + delta), animate=False, immediate=True)

    def action_top(self) -> None:
        self.follow = False
        self.scroll_to(x=0, y=0, animate=False, immediate=True)

    def action_bottom(self) -> None:
        self.follow = True
        self._stick_to_end()

    def action_toggle_follow(self) -> None:
        if self.follow:
            # Paused where it is: the rows drawn stay the ones on screen now.
            top = self._top_row()
            self.follow = False
            self.scroll_to(y=top, animate=False, immediate=True)
        else:
            self.action_bottom()

    def action_numbers(self) -> None:
        self.numbers = not self.numbers

    def action_match(self, forward: bool) -> None:
        if not self.needle:
            raise SkipAction()  # no find: the key does what the screen says (n: running)
        self.find(self.needle, forward=forward, from_line=self.match_line)

    def find(self, needle: str, *, forward: bool = True, from_line: int | None = None) -> bool:
        """Show the next (or previous) line holding ``needle``, wrapping around the ends.

        The search starts after ``from_line`` (before it, backwards); by
        default from the top line on screen. In a log over
        :data:`FIND_IN_THREAD_BYTES` it runs in a thread (a gigabyte takes
        seconds) and the match is shown when it is found: True then means
        "searching". False when no line holds it.
        """
        self.needle = needle
        if from_line is None or from_line < 0:
            from_line = self.top_line - 1 if forward else self.top_line
        document, start = self.document, from_line
        if document.byte_size <= FIND_IN_THREAD_BYTES:
            return self._show_match(document, needle, document.find(needle, start, forward))
        self.searching = True
        self._changed()

        def in_thread() -> None:
            found = document.find(needle, start, forward)
            self.app.call_from_thread(self._show_match, document, needle, found)

        self.run_worker(in_thread, thread=True, exclusive=True, group="log-find")
        return True

    def _show_match(self, document: LogDocument, needle: str, found: int | None) -> bool:
        if document is not self.document or needle != self.needle:
            return False  # a search overtaken by another (or by another log)
        self.searching = False
        self.match_line = -1 if found is None else found
        if found is not None:
            self.follow = False
            height = self.scrollable_content_region.height
            row = self._row_of(found)
            if not (self.scroll_y <= row < self.scroll_y + height):
                self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)
        self.refresh()
        self._changed()
        return found is not None

    def clear_find(self) -> None:
        self.needle = ""
        self.match_line = -1
        self.refresh()
        self._changed()

    @property
    def bottom_line(self) -> int:
        """The last line on screen (its last row, when it wraps)."""
        bottom = self._top_row() + self.scrollable_content_region.height - 1
        return min(self.line_count - 1, self._line_at(bottom))

    def log_text(self) -> str:
        """The whole text held (for tests and copying)."""
        return "\n".join(self.document.line(i) for i in range(self.line_count))
