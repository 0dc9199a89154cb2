"""ResourceDetail: the tabs that show one resource (Log, Error, Result, Info).

Everything in these tabs was written by user code or read from files in the
base directory: it is shown through :func:`hadrosaur.display.visible`, so an
escape sequence in a traceback or a result is drawn as ``^[``, never sent to
the terminal, and always as text, never as markup.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

from rich.console import RenderableType
from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from hadrosaur.display import format_duration, visible
from hadrosaur.times import duration_ms

from ..format import STATUS_SYMBOLS, format_moment
from ..resource_detail import DetailData
from .log_pane import LogPane
from .log_view import LogView

__all__ = ("ResourceDetail",)

TABS = ("log", "error", "result", "info")
#: The Info tab's path rows: (label, role in Resource.paths).
_PATH_ROWS = (
    ("Directory", "base"),
    ("Log", "log"),
    ("Error", "error"),
    ("Result", "result"),
    ("Storage", "storage"),
)


class ResourceDetail(Vertical):
    """Tabs for the resource under the table's cursor."""

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.data: DetailData | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="detail-tabs", initial="tab-log"):
            with TabPane("Log", id="tab-log"):
                yield LogPane(id="log-pane")
            with TabPane("Error", id="tab-error"):
                yield LogPane(live=False, id="error-pane")
            with TabPane("Result", id="tab-result"):
                with VerticalScroll():
                    yield Static(id="result-text", markup=False)
            with TabPane("Info", id="tab-info"):
                with VerticalScroll():
                    yield Static(id="info-text", markup=False)

    @property
    def log_view(self) -> LogView:
        return self.query_one("#log-pane", LogPane).view

    @property
    def error_view(self) -> LogView:
        """The traceback, shown as a log that does not grow (find, wrap, numbers alike)."""
        return self.query_one("#error-pane", LogPane).view

    def pane(self, tab: str) -> LogPane | None:
        """The log pane of tab ``tab`` (log or error), None for the others."""
        if tab not in ("log", "error"):
            return None
        return self.query_one(f"#{tab}-pane", LogPane)

    @property
    def active_tab(self) -> str:
        """log, error, result or info."""
        return self.query_one(TabbedContent).active.removeprefix("tab-")

    def activate(self, tab: str) -> None:
        """Show tab ``tab`` (one of log, error, result, info)."""
        self.query_one(TabbedContent).active = f"tab-{tab}"

    def show(self, data: DetailData | None) -> None:
        """Show a resource (None: nothing selected)."""
        self.data = data
        result = self.query_one("#result-text", Static)
        info = self.query_one("#info-text", Static)
        if data is None:
            self.log_view.show(None, "No resource selected.")
            self.error_view.show_text(None, "No resource selected.")
            for widget in (result, info):
                widget.update("No resource selected.")
            return
        no_log = f"{data.ident} has no log (it has not logged anything)."
        self.log_view.show(data.paths.get("log"), no_log)
        self._show_error(data)
        result.update(self._result(data))
        info.update(self._info(data))

    def refresh_status(self, status: str) -> None:
        """The resource changed status: re-render the Info tab's status line."""
        if self.data is not None and self.data.status != status:
            self.data = dataclasses.replace(self.data, status=status)
            self.query_one("#info-text", Static).update(self._info(self.data))

    def _show_error(self, data: DetailData) -> None:
        """The traceback, opened at its end (the exception raised), or why there is none."""
        if data.problem:
            self.error_view.show_text(None, f"{data.ident} is damaged: {data.problem}")
        elif data.error_text:
            # Made visible line by line by the document, never read as markup.
            self.error_view.show_text(data.error_text.rstrip("\n"))
        elif data.reason:
            note = f"{data.ident} has no traceback; the index says: {data.reason}"
            self.error_view.show_text(None, note)
        else:
            note = f"No error recorded for {data.ident} (status: {data.status})."
            self.error_view.show_text(None, note)

    @staticmethod
    def _result(data: DetailData) -> RenderableType:
        if data.problem:
            return Text(visible(f"The result of {data.ident} cannot be read: {data.problem}"))
        if data.result_text is None:
            return Text(f"No result: {data.ident} is {data.status}.")
        # Visible forms are printable, so JSON stays JSON: C1 and bidi characters
        # (which json.dumps keeps as they are) are drawn as <U+009B>.
        shown = visible(data.result_text)
        try:
            return JSON(shown)
        except (ValueError, TypeError):
            return Text(shown)

    def _info(self, data: DetailData) -> RenderableType:
        meta = data.meta or {}
        start = meta.get("start_time") if isinstance(meta.get("start_time"), int) else None
        end = meta.get("end_time") if isinstance(meta.get("end_time"), int) else None
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        rows: list[tuple[str, str]] = [
            ("Collection", data.collection),
            ("Ident", data.ident),
            ("Status", f"{STATUS_SYMBOLS.get(data.status, '?')} {data.status}"),
            ("Attempt", str(meta.get("attempt", ""))),
            ("Started", format_moment(start)),
            ("Ended", format_moment(end)),
            ("Duration", format_duration(duration_ms(start, end))),
            ("PID", str(meta.get("pid", ""))),
            ("Host", str(meta.get("host", ""))),
            ("Args", json.dumps(meta.get("args"), sort_keys=True)),
            *(
                (label, str(data.paths[role]))
                for label, role in _PATH_ROWS
                if role in data.paths  # none when the resource could not be read
            ),
        ]
        if data.problem:
            rows.insert(3, ("Problem", data.problem))
        for key, value in rows:
            table.add_row(key, Text(visible(value)))
        return table
