"""Status colours taken from the active Textual theme, so they follow the user's theme."""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from textual.app import App
from textual.color import Color

__all__ = ("status_style",)

_THEME_VARIABLE = {
    "completed": "success",
    "pending": "primary",
    "interrupted": "warning",
    "error": "error",
}


def status_style(app: App[object], status: str) -> Style:
    """The Rich style for a status under the app's current theme."""
    return _styles(app.theme, tuple(sorted(app.get_css_variables().items())))[status]


@lru_cache(maxsize=8)
def _styles(theme: str, variables: tuple[tuple[str, str], ...]) -> dict[str, Style]:
    values = dict(variables)
    styles = {"unavailable": Style(dim=True)}
    for status, name in _THEME_VARIABLE.items():
        try:
            color = Color.parse(values[name]).rich_color
        except (KeyError, ValueError):
            styles[status] = Style(bold=status == "error")
            continue
        styles[status] = Style(color=color, bold=status == "error")
    return styles
