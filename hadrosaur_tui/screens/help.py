"""HelpScreen: every key of the screen underneath, generated from its bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..widgets.log_pane import LogPane
from ..widgets.log_view import LogView

__all__ = ("HelpScreen", "key_table")


def _key_label(key: str) -> str:
    names = {"question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter"}
    return ", ".join(names.get(k, k) for k in key.split(","))


def _pane_bindings() -> list[Binding]:
    """The keys of a focused log pane (its view's and its own), as they are bound."""
    return [b for b in (*LogView.BINDINGS, *LogPane.BINDINGS) if isinstance(b, Binding)]


def key_table(bindings: list[Binding], title: str) -> Table:
    """A two-column table (keys, what they do) of the bindings that have a description."""
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    seen: set[str] = set()
    for binding in bindings:
        if not binding.description or binding.description in seen:
            continue
        seen.add(binding.description)
        # A tooltip is the longer description of a binding whose footer word is short.
        what = binding.tooltip or binding.description
        table.add_row(binding.key_display or _key_label(binding.key), what)
    return table


class HelpScreen(ModalScreen[None]):
    """Keys of the current screen and of the whole app; any of q, ?, esc closes it.

    The list is longer than a 24-line terminal, so it scrolls with the keys
    that move in every list of the app (j/k as well as the arrows).
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False, id="help.down"),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False, id="help.up"),
        Binding("space,pagedown", "page(1)", "Page down", show=False, id="help.page_down"),
        Binding("b,pageup", "page(-1)", "Page up", show=False, id="help.page_up"),
        Binding("home,g", "edge(0)", "Top", show=False, id="help.top"),
        Binding("end,G", "edge(1)", "Bottom", show=False, id="help.bottom"),
    ]

    def __init__(self, screen: Screen[object], app_bindings: list[Binding]) -> None:
        super().__init__()
        self.under = screen
        self.app_bindings = app_bindings

    def sections(self) -> list[tuple[str, list[Binding]]]:
        """The bindings to list: the screen's, its log panes' (if any), then the app's."""
        screen_bindings = [b for b in self.under.BINDINGS if isinstance(b, Binding)]
        everywhere = [
            *self.app_bindings,
            Binding("ctrl+p", "command_palette", "Command palette: every action by name"),
        ]
        sections = [("This screen", screen_bindings)]
        if self.under.query(LogPane):
            sections.append(("Log and traceback (tab moves there)", _pane_bindings()))
        return [*sections, ("Everywhere", everywhere)]

    @property
    def box(self) -> VerticalScroll:
        return self.query_one("#help-box", VerticalScroll)

    def action_scroll(self, lines: int) -> None:
        self.box.scroll_relative(y=lines, animate=False)

    def action_page(self, pages: int) -> None:
        self.box.scroll_relative(
            y=pages * max(1, self.box.scrollable_content_region.height - 1), animate=False
        )

    def action_edge(self, end: int) -> None:
        self.box.scroll_to(y=self.box.max_scroll_y if end else 0, animate=False)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            heading = Text("hadrosaur-tui: keys", style="bold")
            heading.append("   j/k ↑/↓ space scroll · esc closes", style="dim")
            yield Static(heading, id="help-title")
            for title, bindings in self.sections():
                yield Static(key_table(bindings, title))
            yield Static(
                Text(
                    "Mouse: click a row to select it, a column heading to sort, "
                    "a count on the collections screen to open that list.",
                    style="dim",
                )
            )
