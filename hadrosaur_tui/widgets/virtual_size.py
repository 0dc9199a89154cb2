"""Growing a scrolling widget without a layout of the whole screen.

Textual's ``virtual_size`` is a reactive that asks for a layout when set: the
compositor then arranges and draws every widget of the screen again, about
30 to 60 ms on a loaded 2-core machine. A log that gains a line or a table
that gains a row changes only its own scroll range, so a tailed log cost the
monitor 40% of a core (20 appends a second). :func:`set_virtual_size`
updates the scroll bars in place (Textual's own ``_scroll_update``, which
layout would call) and repaints the widget; a scroll bar that must appear or
disappear still asks for the layout, through its own reactive.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget

__all__ = ("set_virtual_size",)


def set_virtual_size(widget: ScrollView, size: Size) -> None:
    """Give ``widget`` the scroll range ``size``, laying out the screen only if it must."""
    if size == widget.virtual_size:
        return
    if not widget.is_mounted or not widget.container_size:
        widget.virtual_size = size  # not arranged yet: the first layout sizes it
        return
    widget.set_reactive(Widget.virtual_size, size)
    widget._scroll_update(size)
    widget.refresh()
