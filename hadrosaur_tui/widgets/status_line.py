"""StatusLine: one line that says whether the view is live, paused, or waiting on an index."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from hadrosaur.display import visible

__all__ = ("StatusLine",)


class StatusLine(Static):
    """'● live · updated 12:00:01' / '‖ paused' / 'index busy: genomes (retrying)'."""

    paused: reactive[bool] = reactive(False)
    busy: reactive[frozenset[str]] = reactive(frozenset())
    updated_ms: reactive[int | None] = reactive(None)
    note: reactive[str] = reactive("")

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock

    def render(self) -> Text:
        text = Text()
        if self.paused:
            text.append("‖ paused", style="bold reverse")
            text.append("  (p to resume)", style="dim")
        else:
            text.append("● live", style="bold")
            if self.updated_ms is not None:
                stamp = time.strftime("%H:%M:%S", time.localtime(self.updated_ms / 1000))
                text.append(f" · updated {stamp}", style="dim")
        if self.busy:
            names = visible(", ".join(sorted(self.busy)), line=True)
            text.append(f"  ⧗ index busy: {names} (retrying)", style="italic")
        if self.note:
            text.append(f"  {visible(self.note, line=True)}", style="dim")
        return text

    def touch(self) -> None:
        """Record that fresh data arrived now."""
        self.updated_ms = int(self.clock() * 1000)
