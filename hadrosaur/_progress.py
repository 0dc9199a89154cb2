"""The progress bar of fetch_many: done/total, errors so far, rate and ETA on stderr.

Drawn with rich (which textual already depends on) rather than by hand, so
terminal widths, redraws and non-terminal output are someone else's solved
problem. rich is imported only when a bar is actually drawn, to keep
``import hadrosaur`` and batch runs without a terminal light.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ("ProgressBar", "wants_progress")


def wants_progress(progress: bool | None) -> bool:
    """Whether to draw: as asked, or when None, only if stderr is a terminal.

    Example:
        >>> wants_progress(False)
        False
    """
    if progress is None:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty is not None and isatty())
    return progress


class ProgressBar:
    """A one-line live bar for one fetch_many call; does nothing when not enabled.

    Args:
        label: what is being computed (the collection name).
        total: how many distinct resources the call returns.
        done: how many of them were already completed before anything ran
            (shown as done, but not counted in the rate).
        enabled: draw the bar at all.

    Example:
        >>> with ProgressBar("squares", total=10, done=2, enabled=False) as bar:
        ...     bar.advance(8, errors=1)
        >>> bar.errors
        1
    """

    def __init__(self, label: str, total: int, done: int, enabled: bool) -> None:
        self.label = label
        self.total = total
        self.done = done
        self.errors = 0
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            self._progress = _make_progress()
            self._progress.start()
            self._task = self._progress.add_task(
                self.label, total=self.total, completed=self.done, errors=0
            )
        return self

    def advance(self, done: int, errors: int = 0) -> None:
        """Count ``done`` more finished resources, ``errors`` of them failed."""
        self.done += done
        self.errors += errors
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=done, errors=self.errors)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()  # draws the final state, then gives the terminal back
            self._progress = None


def _make_progress() -> Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Resources per second over rich's recent window (the skipped ones excluded)."""

        def render(self, task: Task) -> Text:
            speed: Any = task.finished_speed or task.speed
            return Text("?/s" if speed is None else f"{speed:,.1f}/s", style="progress.data.speed")

    return Progress(
        # The label is a collection name, which may hold "[": text, never markup.
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[errors]} errors"),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
