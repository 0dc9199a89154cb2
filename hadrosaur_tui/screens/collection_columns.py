"""The collections table's columns: what each cell says, and widths that fit the terminal.

A DataTable sizes a column by its widest cell and scrolls sideways when the
row is wider than the screen, so at 80 columns the ETA came out as "27." and
"do". Here the widths are chosen for the width there is, in steps that keep
every column shown whole:

1. everything at full size (counts as 12,345, an 8-cell progress bar);
2. counts of 10,000 and more as 12.3k and 1.23M;
3. the progress bar left out, its percentage kept;
4. the Rate column left out (the ETA says more);
5. long collection names shortened with "…" (down to 8 cells).

Only below that (about 55 columns) does the table scroll sideways. The table
has no cell padding of its own: each cell carries one space on its left, so
ten columns cost ten cells of spacing, not twenty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from hadrosaur.display import visible
from hadrosaur.resource import COMPLETED, ERROR

from ..format import (
    STATUS_HEADINGS,
    STATUS_ORDER,
    format_count,
    format_eta,
    format_rate,
    progress_bar,
)
from ..messages import SummaryUpdated

__all__ = ("COLUMN_KEYS", "Layout", "cells", "choose_layout", "compact_count", "headings")

#: Column keys, in order (a status's key is the status).
COLUMN_KEYS: tuple[str, ...] = ("name", "total", *STATUS_ORDER, "progress", "rate", "eta")
#: The space on the left of each cell (the table's cell_padding is 0).
GAP = 1
#: Right-aligned columns (numbers, the ETA); the others are left-aligned.
_RIGHT = frozenset({"total", *STATUS_ORDER, "rate", "eta"})
_BAR = 8
_ETA_WIDTH = 9  # format_eta's longest, so a changing estimate never resizes the column
_RATE_WIDTH = 8
_MIN_NAME = 8
_LEGACY = " (0.4.1)"


@dataclass(frozen=True)
class Layout:
    """How the table is drawn at one width: compact counts, bar or not, columns and widths.

    A width is the content's, without the :data:`GAP` every column adds.
    """

    compact: bool
    bar: bool
    keys: tuple[str, ...]
    widths: tuple[int, ...]

    def width(self, key: str) -> int:
        return self.widths[self.keys.index(key)]

    @property
    def total(self) -> int:
        """Cells the table needs, the gaps included."""
        return sum(self.widths) + GAP * len(self.widths)


def compact_count(n: int) -> str:
    """A count in at most 5 cells: '9,999', '12.3k', '123k', '1.23M', '12.3M'.

    Example:
        >>> [compact_count(n) for n in (9_999, 12_345, 123_456, 1_234_567)]
        ['9,999', '12.3k', '123k', '1.23M']
    """
    if n < 10_000:
        return format_count(n)
    if n < 100_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    if n < 10_000_000:
        return f"{n / 1_000_000:.2f}M"
    return f"{n / 1_000_000:.1f}M"


def _heading(key: str, bar: bool) -> str:
    if key in STATUS_HEADINGS:
        return STATUS_HEADINGS[key].capitalize()
    if key == "progress":
        return "Progress" if bar else "%"
    return {"name": "Collection", "total": "Total", "rate": "Rate", "eta": "ETA"}[key]


def headings(layout: Layout) -> list[Text]:
    """The column headings, aligned as their cells ('%' is Progress without the bar)."""
    return [
        _aligned(_heading(key, layout.bar), key, width)
        for key, width in zip(layout.keys, layout.widths, strict=True)
    ]


def _aligned(text: str, key: str, width: int, style: str | Style = "") -> Text:
    """``text`` in its column: the gap on the left, padded to ``width``, never longer."""
    if len(text) > width:
        text = text[: width - 1] + "…"
    padded = text.rjust(width) if key in _RIGHT else text.ljust(width)
    return Text(" " * GAP + padded, style=style)


def _name(name: str, summary: SummaryUpdated | None) -> str:
    label = visible(name, line=True)
    return label + _LEGACY if summary is not None and summary.legacy else label


def _texts(name: str, summary: SummaryUpdated | None, compact: bool, bar: bool) -> dict[str, str]:
    """The cells of one row as plain strings (only the name before a summary is read)."""
    if summary is None:
        return {"name": _name(name, summary)}
    counts = summary.counts
    count = compact_count if compact else format_count
    done = counts[COMPLETED] + counts[ERROR]
    progress = progress_bar(done, counts["total"], width=_BAR)
    return {
        "name": _name(name, summary),
        "total": count(counts["total"]),
        **{status: count(counts[status]) for status in STATUS_ORDER},
        "progress": progress if bar else progress[_BAR:].strip(),
        "rate": format_rate(summary.rate_per_minute),
        "eta": format_eta(summary.eta),
    }


def _natural(
    rows: list[tuple[str, SummaryUpdated | None]], compact: bool, bar: bool, keys: tuple[str, ...]
) -> Layout:
    """The widths the columns want: the heading, the widest cell, fixed minimums."""
    wanted = {key: len(_heading(key, bar)) for key in keys}
    if "rate" in wanted:
        wanted["rate"] = max(wanted["rate"], _RATE_WIDTH)
    wanted["eta"] = _ETA_WIDTH
    for name, summary in rows:
        for key, text in _texts(name, summary, compact, bar).items():
            if key in wanted:
                wanted[key] = max(wanted[key], len(text))
    return Layout(compact, bar, keys, tuple(wanted[key] for key in keys))


def choose_layout(available: int, summaries: Mapping[str, SummaryUpdated | None]) -> Layout:
    """The fullest layout that fits ``available`` cells (see the module docstring)."""
    rows = list(summaries.items())
    without_rate = tuple(k for k in COLUMN_KEYS if k != "rate")
    steps = ((False, True, COLUMN_KEYS), (True, True, COLUMN_KEYS), (True, False, COLUMN_KEYS))
    layout = _natural(rows, True, False, without_rate)
    for compact, bar, keys in (*steps, (True, False, without_rate)):
        layout = _natural(rows, compact, bar, keys)
        if layout.total <= available:
            return layout
    widths = list(layout.widths)
    widths[0] = max(_MIN_NAME, widths[0] - (layout.total - available))
    return Layout(layout.compact, layout.bar, layout.keys, tuple(widths))


def cells(
    name: str,
    summary: SummaryUpdated | None,
    layout: Layout,
    count_style: Callable[[str, int], Style],
    busy: bool = False,
) -> list[Text]:
    """The row of ``name`` as Text cells, one per column of ``layout``, each within its width.

    ``count_style(status, n)`` is the style of a count (the table's, from the stylesheet).
    ``busy``: another process holds the index, so the counts are not being updated and
    the ETA cell says "⧗ busy" instead of a time.
    """
    texts = _texts(name, summary, layout.compact, layout.bar)
    row = []
    for key, width in zip(layout.keys, layout.widths, strict=True):
        if key == "name":
            label = _aligned(texts["name"], key, width, "bold")
            if summary is not None and summary.legacy:
                label.highlight_words([_LEGACY.strip()], "dim not bold")
            row.append(label)
        elif key == "eta" and busy:
            row.append(_aligned("⧗ busy", key, width, "italic"))
        elif summary is None:
            row.append(_aligned("…", key, width))
        elif key in STATUS_ORDER:
            row.append(_aligned(texts[key], key, width, count_style(key, summary.counts[key])))
        else:
            row.append(_aligned(texts[key], key, width))
    return row
