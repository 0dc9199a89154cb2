"""How one line of a log or a traceback is coloured, and its find matches marked.

The text is already safe (made visible by log_document.py); this only adds
styles, through :class:`rich.text.Text` built from plain strings, so nothing
in a log is ever read as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.style import Style
from rich.text import Text

__all__ = ("LINE_KINDS", "Styler", "mark_matches", "style_line")

_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_LEVEL_KIND = {"CRITICAL": "error", "ERROR": "error", "WARNING": "warning", "DEBUG": "debug"}
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line (?P<line>\d+)(?:, in (?P<name>.*))?$')
_TRACEBACK_HEADERS = (
    "Traceback (most recent call last):",
    "During handling of the above exception",
    "The above exception was the direct cause",
)

#: The kinds of span a line may hold; each is a component class ``log-view--KIND``.
LINE_KINDS = ("time", "error", "warning", "debug", "message", "frame", "match", "gutter")

#: Gives the style of a kind of span (the widget's component styles).
Styler = Callable[[str], Style]


def style_line(text: str, traceback: bool, style_of: Styler) -> Text:
    """``text`` coloured as a log line (time stamp, level) or a traceback line."""
    line = Text(text, style=style_of("message"), no_wrap=True, end="")
    if traceback:
        _style_traceback(line, text, style_of)
    else:
        _style_log(line, text, style_of)
    return line


def _style_log(line: Text, text: str, style_of: Styler) -> None:
    # The logging format: "2026-11-29 12:00:00 INFO     message".
    if len(text) < 20 or text[4] != "-" or text[19] != " ":
        return
    level = next((name for name in _LEVELS if text.startswith(name, 20)), None)
    if level is None:
        return
    line.stylize(style_of("time"), 0, 20)
    line.stylize(style_of(_LEVEL_KIND.get(level, "message")), 20, 20 + len(level))


def _style_traceback(line: Text, text: str, style_of: Styler) -> None:
    if text.startswith(_TRACEBACK_HEADERS):
        line.stylize(style_of("debug"))
        return
    frame = _FRAME.match(text)
    if frame is not None:
        line.stylize(style_of("time"))
        line.stylize(style_of("frame"), *frame.span("file"))
        if frame.group("name") is not None:
            line.stylize(style_of("frame"), *frame.span("name"))
        return
    if text and not text[0].isspace():
        line.stylize(style_of("error"))  # the exception raised: "ValueError: ..."


def mark_matches(line: Text, needle: str, style: Style) -> None:
    """Mark every occurrence of ``needle`` (any case when it is in lower case)."""
    if not needle:
        return
    haystack = line.plain.lower() if needle == needle.lower() else line.plain
    start = haystack.find(needle)
    while start != -1:
        line.stylize(style, start, start + len(needle))
        start = haystack.find(needle, start + len(needle))
