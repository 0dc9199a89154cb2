"""The filter bar above a collection's table: counts per status with their keys, and the view.

It is the key map of the status filters (each count carries its key, the
one shown in reverse is active), then the group and text filters, the rows
shown (with "+1 kept" when the selected row stays only because it is
selected), the sort, and whether the rows are still loading or waiting for a
busy index.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from hadrosaur.display import visible

from ..format import STATUS_SYMBOLS, format_count
from ..model import CollectionModel

__all__ = ("filter_bar",)


def filter_bar(model: CollectionModel, keys: Mapping[str, str | None], index_busy: bool) -> Text:
    """The bar for ``model``; ``keys`` maps each filter key to its status (None: all)."""
    counts = model.counts()
    text = Text(" ")
    for key, status in keys.items():
        label = "all" if status is None else STATUS_SYMBOLS[status]
        n = model.total if status is None else counts[status]
        active = model.status_filter == status
        text.append(f"{key}", style="bold underline" if active else "bold")
        text.append(f" {label} {format_count(n)}", style="reverse" if active else "")
        text.append("  ")
    if model.group_filter is not None:
        signature, exception = model.group_filter
        text.append("group", style="bold")
        text.append(f" {visible(signature, line=True)}", style="reverse")
        text.append(f" ({visible(exception, line=True)})  ", style="italic")
    if model.text_filter:
        text.append("/", style="bold")
        text.append(f"{visible(model.text_filter, line=True)}  ", style="italic")
    if model.kept_outside():
        # The selected row no longer matches, and stays until the cursor moves.
        text.append(f"{format_count(len(model) - 1)} shown +1 kept", style="dim")
    else:
        text.append(f"{format_count(len(model))} shown", style="dim")
    arrow = "▼" if model.reverse else "▲"
    text.append(f" · {model.sort_key} {arrow}", style="dim")
    if index_busy:
        text.append(" · ⧗ index busy, waiting…", style="italic")
    elif not model.loaded:
        text.append(" · loading…", style="italic")
    return text
