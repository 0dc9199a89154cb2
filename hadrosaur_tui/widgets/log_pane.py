"""LogPane: a LogView with its find box above and its status line below.

The status line says what the view is doing, in words a person needs while
a log scrolls by: "following" or "paused — End to follow", the lines on
screen, the find and its match. The find box opens with ``ctrl+f`` or ``/``
while the pane has focus (on the table ``/`` filters the table), searches as
you type from the top line on screen, ``enter`` goes to the next match and
keeps the box open, ``esc`` closes it; ``n``/``N`` then move between
matches in the view.
"""

from __future__ import annotations

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from hadrosaur.display import visible

from .log_view import LogView

__all__ = ("LogPane",)


class LogPane(Vertical):
    """A log (or a traceback) with a find box and a status line."""

    BINDINGS = [
        Binding("ctrl+f,slash", "open_find", "Find (enter: next, esc: close)", id="log.find"),
        Binding("escape", "close_find", "Close the find box", show=False, id="log.close_find"),
    ]

    def __init__(self, *, live: bool = True, id: str | None = None) -> None:
        super().__init__(id=id, classes="log-pane")
        self.live = live
        #: The line the find started from: typing searches from there on.
        self._origin = -1
        self._status: str | None = None  # the status line's text as last drawn
        self._status_widget: Static | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="find (lower case: any case); enter: next, esc: close")
        yield LogView(live=self.live)
        yield Static(classes="log-pane--status", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self.view.change_hook = self._update_status
        self._update_status()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    @property
    def find_box(self) -> Input:
        return self.query_one(Input)

    def action_open_find(self) -> None:
        box = self.find_box
        box.display = True
        box.value = self.view.needle
        self._origin = self.view.top_line - 1
        box.focus()

    def action_close_find(self) -> None:
        box = self.find_box
        if not box.display:
            raise SkipAction()  # the screen's esc (back) when there is no box to close
        box.display = False
        if not box.value:
            self.view.clear_find()
        self.view.focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        view = self.view
        if not event.value:
            view.clear_find()
            return
        # As you type: from where the find started, so that the match only moves on
        # when it stops matching.
        view.find(event.value, forward=True, from_line=self._origin)

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self.view.find(event.value, forward=True, from_line=self.view.match_line)

    @on(LogView.Changed)
    def _view_changed(self, event: LogView.Changed) -> None:
        event.stop()
        self._update_status()

    def _update_status(self) -> None:
        text = status_text(self.view)
        if text != self._status:  # one line of fixed height: a repaint, never a layout
            self._status = text
            self._status_line.update(text, layout=False)

    @property
    def _status_line(self) -> Static:
        if self._status_widget is None:
            self._status_widget = self.query_one(".log-pane--status", Static)
        return self._status_widget


def status_text(view: LogView) -> str:
    """What the view does, for its status line: following or paused, where, the find."""
    parts = []
    if view.live and view.path is not None:
        parts.append("following" if view.follow else "paused — End to follow")
    if view.line_count:
        parts.append(f"lines {view.top_line + 1:,}-{view.bottom_line + 1:,} of {view.line_count:,}")
    if view.document.indexing:
        parts.append("indexing…")
    if view.needle:
        if view.searching:
            where = "searching…"
        elif view.match_line >= 0:
            where = f"match at line {view.match_line + 1:,}"
        else:
            where = "no match"
        parts.append(f"find “{visible(view.needle, line=True)}”: {where} (n/N)")
    parts.append("wrap" if view.wrap else "no wrap")
    return " · ".join(parts)
