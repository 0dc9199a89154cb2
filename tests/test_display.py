"""hadrosaur.display: what a terminal is shown instead of user text's control characters."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hadrosaur.display import (
    BIDI_CONTROLS,
    DIM,
    format_duration,
    json_safe,
    last_line,
    needs_escaping,
    visible,
)

HOSTILE = "a\x1b]0;title\x07b\x1b[2Jc\x1b]52;c;aGk=\x07d"


def _acts_on_a_terminal(char: str) -> bool:
    """C0 but tab and newline, DEL, C1 (category Cc), and the bidi formatting characters."""
    if char in "\t\n":
        return False
    return unicodedata.category(char) == "Cc" or ord(char) in BIDI_CONTROLS


def test_escape_sequences_are_shown_in_caret_notation() -> None:
    assert visible(HOSTILE) == "a^[]0;title^Gb^[[2Jc^[]52;c;aGk=^Gd"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x00\x01\x08\x0b\x0c\x1a\x1c\x1f", "^@^A^H^K^L^Z^\\^_"),
        ("del\x7f", "del^?"),
        ("csi\x9b2J nel\x85", "csi<U+009B>2J nel<U+0085>"),
        ("\u202eexe.txt", "<U+202E>exe.txt"),
        ("\u061c\u200e\u200f\u2066\u2069", "<U+061C><U+200E><U+200F><U+2066><U+2069>"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("crlf\r\nline\r\n", "crlf\nline\n"),
        ("progress 10%\rprogress 20%\n", "progress 10%^Mprogress 20%\n"),
        ("é 日本 ✔ \u00a0", "é 日本 ✔ \u00a0"),
    ],
)
def test_visible_forms(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_one_line_forms_show_tab_newline_and_every_cr() -> None:
    assert visible("a\tb\r\nc\x1b", line=True) == "a^Ib^M^Jc^["
    assert visible("plain", line=True) == "plain"


def test_dim_wraps_each_form_and_nothing_else() -> None:
    assert visible("x\x1by\u202e", dim=True) == f"x{DIM[0]}^[{DIM[1]}y{DIM[0]}<U+202E>{DIM[1]}"
    assert visible("clean text", dim=True) == "clean text"


def test_clean_text_is_returned_as_it_is() -> None:
    text = "2026-03-01 11:50:00 INFO     step 1 of 4\n" * 1000
    assert visible(text) is text
    assert not needs_escaping(text)
    assert needs_escaping(text + "\x9b")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_nothing_a_terminal_acts_on_survives(text: str) -> None:
    for shown in (visible(text), visible(text, line=True)):
        assert not [c for c in shown if _acts_on_a_terminal(c)], shown
    assert not [c for c in visible(text, line=True) if c in "\t\n"]
    # Text without controls is untouched; visible forms are ASCII, so no other character changes.
    stripped = "".join(c for c in text if not _acts_on_a_terminal(c))
    assert "".join(c for c in visible(text) if ord(c) > 0x7F) == "".join(
        c for c in stripped if ord(c) > 0x7F
    )


@given(
    st.recursive(st.text() | st.integers(), lambda kids: st.lists(kids, max_size=4), max_leaves=8)
)
def test_json_safe_is_the_same_json_without_raw_controls(value: object) -> None:
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert not [c for c in text if _acts_on_a_terminal(c) and c != "\n"]


def test_json_safe_keeps_other_text_readable() -> None:
    assert json_safe(json.dumps({"k": "é\x9b\u202e\x7f"}, ensure_ascii=False)) == (
        '{"k": "é\\u009b\\u202e\\u007f"}'
    )


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (None, ""),
        (-1, ""),
        (0, "0ms"),
        (850, "850ms"),
        (12_345, "12.3s"),
        (245_000, "4m05s"),
        (3 * 3600_000 + 12 * 60_000, "3h12m"),
        (47 * 3600_000 + 59 * 60_000, "47h59m"),
        (52 * 3600_000, "2d04h"),
    ],
)
def test_format_duration(ms: int | None, shown: str) -> None:
    assert format_duration(ms) == shown


def test_format_duration_says_unknown_as_asked() -> None:
    assert (format_duration(None, "-"), format_duration(5, "-")) == ("-", "5ms")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Traceback (most recent call last):\n  File 'x'\nValueError: bad\n", "ValueError: bad"),
        ("KeyError: 'k'\n\n   \n", "KeyError: 'k'"),
        ("  indented: last  \r\n", "indented: last"),
        ("", ""),
        ("\n \n", ""),
    ],
)
def test_last_line_is_the_last_non_blank_line(text: str, line: str) -> None:
    assert last_line(text) == line
