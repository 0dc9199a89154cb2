"""StatusLine: whether the view is live, paused, waiting on an index; a recompute's progress."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from hadrosaur.display import visible

from ..recompute_tally import RecomputeTally

__all__ = ("StatusLine", "covered")

#: Before a recompute's line: running (or stopping), stopped, finished, could not run.
_SYMBOLS = {"running": "⟳ ", "stopping": "⟳ ", "stopped": "■ ", "finished": "✓ ", "problem": "✗ "}


#: Hosts named in "computing on ..."; the others are counted.
_HOSTS_SHOWN = 3


class StatusLine(Static):
    """'● live · updated 12:00:01' / '‖ paused' / '⧗ index busy: genomes (retrying)'.

    While a recompute runs, its progress comes first, with the key that
    stops it: '⟳ retrying 17/230 · 3 failed again  ctrl+c stops'; once it
    ended, what it did stays there until the next one. On a collection's
    screen, which hosts are computing its resources: 'computing on nodeb 12 · vm 3'.
    """

    paused: reactive[bool] = reactive(False)
    busy: reactive[frozenset[str]] = reactive(frozenset())
    updated_ms: reactive[int | None] = reactive(None)
    note: reactive[str] = reactive("")
    recompute: reactive[RecomputeTally | None] = reactive(None)
    #: (host, resources it is computing), most first: set by the resources screen.
    computing: reactive[tuple[tuple[str, int], ...]] = reactive(())

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        #: The time of a touch while its screen was covered (see show_touched).
        self._touched_ms: int | None = None

    def render(self) -> Text:
        text = Text()
        tally = self.recompute
        if tally is not None:
            text.append(_SYMBOLS["problem" if tally.problem else tally.state])
            # describe() holds the collection's messages at most: visible, on one line.
            text.append(visible(tally.describe(), line=True), style="bold")
            if tally.state == "running":
                text.append("  ctrl+c stops", style="dim")
            text.append("  ")
        if self.paused:
            text.append("‖ paused", style="bold reverse")
            text.append("  (p to resume)", style="dim")
        elif self.busy:
            # Not "live": what is shown of these collections is not being updated.
            names = visible(", ".join(sorted(self.busy)), line=True)
            text.append(f"⧗ index busy: {names}", style="bold")
            text.append(" (retrying)", style="italic")
        else:
            text.append("● live", style="bold")
        if self.updated_ms is not None and not self.paused:
            stamp = time.strftime("%H:%M:%S", time.localtime(self.updated_ms / 1000))
            text.append(f" · updated {stamp}", style="dim")
        if self.busy and self.paused:
            names = visible(", ".join(sorted(self.busy)), line=True)
            text.append(f"  ⧗ index busy: {names}", style="italic")
        if self.computing:
            text.append("  computing on ", style="dim")
            shown = self.computing[:_HOSTS_SHOWN]
            text.append(
                " · ".join(f"{visible(host, line=True)} {n:,}" for host, n in shown), style="bold"
            )
            if len(self.computing) > len(shown):
                text.append(f" · {len(self.computing) - len(shown)} more hosts", style="dim")
        if self.note:
            text.append(f"  {visible(self.note, line=True)}", style="dim")
        return text

    def touch(self) -> None:
        """Record that fresh data arrived now (drawn when its screen shows again, if covered)."""
        now = int(self.clock() * 1000)
        if self.is_attached and covered(self.screen):
            # Drawing it would repaint the screen on top (Textual forwards the
            # covered screen's changes to it): the time waits for show_touched.
            self._touched_ms = now
            return
        self._touched_ms = None
        self.updated_ms = now

    def show_touched(self) -> None:
        """Its screen shows again: the time of the last touch while covered is drawn."""
        if self._touched_ms is not None:
            self.updated_ms, self._touched_ms = self._touched_ms, None


def covered(screen: Screen[Any]) -> bool:
    """Whether a screen is hidden under an opaque one (a modal's background lets it through).

    Textual repaints the screen on show whenever the one just below it
    changes, even when nothing of it can be seen: a covered screen
    should change nothing until it shows again.
    """
    stack = screen.app.screen_stack
    if screen not in stack:
        return False
    above = stack[stack.index(screen) + 1 :]
    return any(top.styles.background.a == 1 for top in above)
