"""How hadrosaur shows things to a person, for the command line and the TUI alike.

Two concerns, one home, so that ``hadrosaur ls`` and the monitor never say
the same thing two ways: user text made safe for a terminal (:func:`visible`,
:func:`json_safe`), and the few values both print: a run time
(:func:`format_duration` of :func:`hadrosaur.times.duration_ms`) and the line
of a traceback that names the error (:func:`last_line`).

**Safe text.**

Logs, tracebacks, results, error messages and names come from user code or from
files anyone could have written into the base directory. Sent as they are, an
``ESC ] 0 ;`` sequence retitles the terminal, ``ESC [ 2 J`` wipes it, ``ESC ]
52`` writes the clipboard, and a right-to-left override makes text read
backwards. So everything hadrosaur shows a person (the command line on a
terminal, every pane of the TUI) goes through :func:`visible`, the one place
that decides what is shown and how:

- C0 controls (U+0000 to U+001F) except tab and newline, in caret notation as
  ``cat -v`` and terminals write them: ``ESC`` is ``^[``, ``BEL`` ``^G``, NUL ``^@``;
- DEL (U+007F) is ``^?``;
- C1 controls (U+0080 to U+009F) and the bidi formatting characters (U+061C,
  U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) as ``<U+009B>``, ``<U+202E>``;
- a carriage return is ``^M`` (it would move the cursor back over the line),
  except the CR of a CRLF line ending, which is dropped: it shows nothing, and
  the line ends as it would on a terminal.

Piped output (``hadrosaur log BASE COLL IDENT > file``) is not passed through
here: it stays byte-exact. :func:`json_safe` covers the other way text reaches
a terminal, ``--json``.

Example:
    >>> visible("a\\x1b]0;pwned\\x07b")
    'a^[]0;pwned^Gb'
"""

from __future__ import annotations

import re

__all__ = (
    "BIDI_CONTROLS",
    "DIM",
    "format_duration",
    "json_safe",
    "last_line",
    "needs_escaping",
    "one_line",
    "visible",
)

#: The bidi formatting characters: marks, embeddings, overrides, isolates.
BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])

#: The terminal's "dim" on and "normal intensity" (SGR 2 and 22), to set the
#: visible forms apart from the text around them.
DIM = ("\x1b[2m", "\x1b[22m")


def _form(code: int) -> str:
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


_CONTROLS = [c for c in range(0x20) if c not in (0x09, 0x0A)] + [0x7F, *range(0x80, 0xA0)]
_FORMS: dict[int, str] = {code: _form(code) for code in [*_CONTROLS, *sorted(BIDI_CONTROLS)]}
_TABLE = dict(_FORMS)
_LINE_TABLE = {**_FORMS, 0x09: "^I", 0x0A: "^J"}
_DIM_TABLE = {code: DIM[0] + form + DIM[1] for code, form in _FORMS.items()}
_UNSAFE = re.compile("[" + "".join(re.escape(chr(c)) for c in _FORMS) + "]")
_UNSAFE_IN_LINE = re.compile("[\t\n" + _UNSAFE.pattern[1:])
# Runs of controls, each translated with the precomputed table: the regex
# skips clean text in C, and str.translate over the whole text would look up
# every character in the table (4 times slower on a log with colour codes).
_RUNS = re.compile(_UNSAFE.pattern + "+")
_RUNS_IN_LINE = re.compile(_UNSAFE_IN_LINE.pattern + "+")


def _translate_runs(runs: re.Pattern[str], text: str, table: dict[int, str]) -> str:
    return runs.sub(lambda run: run.group().translate(table), text)


# What JSON may hold unescaped but a terminal must not get (json.dumps
# already writes C0 controls as \\u escapes).
_JSON_TABLE = {code: f"\\u{code:04x}" for code in _FORMS if code >= 0x7F}


def one_line(text: str) -> str:
    """``text`` with every control (C0, DEL, C1), bidi control, tab and newline as a space.

    For what is stored as one line (an error's reason, a host name in the
    index) and shown in columns: nothing there can move the cursor, change
    colours or reorder the text, on a terminal or elsewhere.

    Example:
        >>> one_line("ValueError: a\tb\u009b31m\u202ec")
        'ValueError: a b 31m c'
    """
    return _UNSAFE_IN_LINE.sub(" ", text) if _UNSAFE_IN_LINE.search(text) else text


def needs_escaping(text: str) -> bool:
    """Whether :func:`visible` would change ``text`` (tab and newline aside).

    Example:
        >>> needs_escaping("plain text\\n"), needs_escaping("\\x9b2J")
        (False, True)
    """
    return _UNSAFE.search(text) is not None


def visible(text: str, *, line: bool = False, dim: bool = False) -> str:
    """``text`` with every control character shown in a visible form (see the module).

    Args:
        text: user text, as read.
        line: the text must stay on one line (a table cell, a title): tab and
            newline are shown as ``^I`` and ``^J`` too, and every CR as ``^M``.
        dim: wrap each visible form in the terminal's dim/normal sequences
            (:data:`DIM`), for a terminal that is known to take them.

    Text without control characters is returned as it is, after one regex
    search, so a clean log of 100,000 lines costs next to nothing.

    Example:
        >>> visible("ok\\r\\nbad\\rline\\u202e")
        'ok\\nbad^Mline<U+202E>'
        >>> visible("a\\tb\\nc", line=True)
        'a^Ib^Jc'
    """
    if line:
        if _UNSAFE_IN_LINE.search(text) is None:
            return text
        return _translate_runs(_RUNS_IN_LINE, text, _LINE_TABLE)
    if _UNSAFE.search(text) is None:
        return text
    if "\r\n" in text:
        # The CR of a CRLF line ending moves the cursor to a line that is about
        # to end anyway: dropping it shows exactly what a terminal would.
        text = text.replace("\r\n", "\n")
    return _translate_runs(_RUNS, text, _DIM_TABLE if dim else _TABLE)


def json_safe(text: str) -> str:
    """JSON text from ``json.dumps(..., ensure_ascii=False)`` with DEL, C1 and bidi escaped.

    ``json.dumps`` escapes C0 controls but lets DEL, C1 controls and bidi
    characters through as they are; this writes them as ``\\u`` escapes too
    (four hex digits each), so the output is still the same JSON for
    ``json.loads`` and harmless on a terminal. Other non-ASCII text (``é``,
    ``日本``) stays readable.

    Example:
        >>> json_safe('"\\x9b2J"')
        '"\\\\u009b2J"'
    """
    if _UNSAFE.search(text) is None:
        return text
    return _translate_runs(_RUNS, text, _JSON_TABLE)


def format_duration(ms: int | None, unknown: str = "") -> str:
    """A compact duration: '850ms', '12.3s', '4m05s', '3h12m', '2d04h'; ``unknown`` for None.

    Example:
        >>> format_duration(850), format_duration(245_000), format_duration(None, "-")
        ('850ms', '4m05s', '-')
    """
    if ms is None or ms < 0:
        return unknown
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def last_line(text: str) -> str:
    """The last non-blank line of ``text``, stripped: what a traceback says went wrong.

    Example:
        >>> last_line("Traceback (most recent call last):\\n  ...\\nValueError: bad\\n\\n")
        'ValueError: bad'
    """
    for line in reversed(text.splitlines()):
        stripped = line.strip()
        if stripped:
            return stripped
    return ""
