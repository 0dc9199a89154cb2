"""How the ``hadrosaur`` command prints things for people: times, durations, tables.

Kept apart from the commands so that they read as what they do. Machine
output (``--json``) does not come through here: it keeps epoch milliseconds
and raw values. :class:`Output` decides, per stream, whether user text is
shown with its control characters made visible (a terminal) or as it is (a
pipe or a file).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal, TextIO

from ..display import json_safe, visible
from ..resource import COUNT_KEYS

__all__ = (
    "DisplayMode",
    "Output",
    "counts_table",
    "format_json",
    "format_json_line",
    "format_time",
    "table",
)

#: ``auto``: visible forms on a terminal, the exact text elsewhere; ``raw``:
#: always the exact text (``--raw``); ``visible``: always visible forms (``--visible``).
DisplayMode = Literal["auto", "raw", "visible"]


class Output:
    """A stream the command prints to, and how user text must look on it.

    User text (logs, tracebacks, results, reasons, names read from the base
    directory) may hold escape sequences that a terminal would act on: retitle
    it, clear it, write the clipboard. On a terminal they are shown in the
    visible forms of :func:`hadrosaur.display.visible`, dimmed unless
    ``NO_COLOR`` is set or ``TERM`` is ``dumb``; into a pipe or a file the text
    goes byte-exact, so ``hadrosaur log ... > copy`` is a copy.

    Example:
        >>> out = Output(io.StringIO(), "visible")  # doctest: +SKIP
        >>> out.write("a\x1b[2J")  # writes 'a^[[2J'
    """

    def __init__(self, stream: TextIO, mode: DisplayMode = "auto") -> None:
        self.stream = stream
        terminal = _isatty(stream)
        self.escapes = mode == "visible" or (mode == "auto" and terminal)
        # Dim is an escape sequence of our own: only for a terminal that takes it.
        self.dims = (
            self.escapes
            and terminal
            and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb"
        )

    def text(self, text: str) -> str:
        """``text`` as this stream must get it (several lines)."""
        return visible(text, dim=self.dims) if self.escapes else text

    def cell(self, text: str) -> str:
        """``text`` as one line of a table or message on this stream (never dimmed:
        the width of a cell must be the width of its text)."""
        return visible(text, line=True) if self.escapes else text

    def write(self, text: str) -> None:
        """Write ``text`` (see :meth:`text`)."""
        self.stream.write(self.text(text))

    def flush(self) -> None:
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream: not a terminal
        return False


def format_json(value: Any) -> str:
    """``value`` as indented JSON that keeps non-ASCII text readable but no raw control.

    json.dumps escapes C0 controls; DEL, C1 and bidi characters are escaped
    too (:func:`hadrosaur.display.json_safe`), so the output is safe on a
    terminal and ``json.loads`` reads back the same value.
    """
    return json_safe(json.dumps(value, indent=2, ensure_ascii=False))


def format_json_line(value: Any) -> str:
    """``value`` as one line of JSON (for ``--jsonl``), as safe as :func:`format_json`."""
    return json_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def format_time(ms: int | None) -> str:
    """Epoch milliseconds as local time, ``-`` when unknown.

    Example:
        >>> format_time(None)
        '-'
    """
    if ms is None:
        return "-"
    return _local_second(ms // 1000)


@lru_cache(maxsize=4096)
def _local_second(seconds: int) -> str:
    # Cached: a listing has many resources that started within the same second.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: int = 0) -> str:
    """Columns padded to their widest cell; the last ``right`` columns right-aligned.

    The last column is not padded, so long reasons do not drag trailing spaces.

    Example:
        >>> print(table(["NAME", "N"], [["a", "10"]], right=1))
        NAME   N
        a     10
    """
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    first_right = len(headers) - right
    # One format template for every row: far faster than padding cell by cell
    # (ls prints hundreds of thousands of rows).
    specs = []
    for i, width in enumerate(widths):
        if i >= first_right:
            specs.append(f"{{{i}:>{width}}}")
        elif i == len(widths) - 1:
            specs.append(f"{{{i}}}")
        else:
            specs.append(f"{{{i}:<{width}}}")
    template = "  ".join(specs)
    return "\n".join(template.format(*row).rstrip() for row in [headers, *rows])


def counts_table(stats: Mapping[str, Mapping[str, int]]) -> str:
    """One row of counts per collection, from ``{name: counts}``."""
    rows = [[name, *(str(counts[k]) for k in COUNT_KEYS)] for name, counts in stats.items()]
    headers = ["COLLECTION", *(k.upper() for k in COUNT_KEYS)]
    return table(headers, rows, right=len(COUNT_KEYS))
