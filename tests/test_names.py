"""Names become directories: bad ones are refused before anything touches the disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hadrosaur import InvalidName, Project
from hadrosaur._names import MAX_NAME_BYTES, check_name
from hadrosaur.display import visible

BAD = [
    "",
    ".",
    "..",
    ".hidden",
    "a/b",
    "/abs",
    "a\0b",
    "line\nbreak",
    "tab\there",
    "esc\x1b]0;title\x07",
    "del\x7f",
    "c1\x9b2J",
    "nel\x85",
    "rlo\u202eexe.txt",
    "alm\u061c",
    "lrm\u200e",
    "isolate\u2066x\u2069",
    "x" * 256,
    "é" * 128,  # 256 UTF-8 bytes
    "\ud800",
    3,
    None,
    b"bytes",
]


@pytest.mark.parametrize("bad", BAD)
def test_bad_names_are_refused_with_the_value_in_the_message(bad: object) -> None:
    with pytest.raises(InvalidName) as info:
        check_name("ident", bad)
    assert isinstance(info.value, ValueError)
    assert repr(bad)[:40] in str(info.value)


@pytest.mark.parametrize("good", ["a", "GCF_0001", "x" * 255, "é" * 127, "with space", "a.b"])
def test_good_names_pass(good: str) -> None:
    assert check_name("ident", good) == good


@pytest.mark.parametrize("bad", BAD)
def test_project_refuses_bad_names_before_touching_the_disk(tmp_path: Path, bad: object) -> None:
    base = tmp_path / "base"
    proj = Project(base)

    @proj.resource("ok")
    def f(ident, args, ctx):  # type: ignore[no-untyped-def]
        return 1

    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidName):
        proj.fetch("ok", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidName):
        proj.status("ok", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidName):
        proj.fetch_log("ok", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidName):
        proj.resource(bad)  # type: ignore[arg-type]
    if bad is not None:  # stats(None) means "every collection"
        with pytest.raises(InvalidName):
            proj.stats(bad)  # type: ignore[arg-type]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@given(st.text(min_size=0, max_size=300))
def test_any_accepted_name_stays_one_level_below_its_parent(name: str) -> None:
    try:
        check_name("ident", name)
    except InvalidName:
        return
    parent = Path("/base/coll")
    joined = Path(os.path.normpath(parent / name))
    assert joined.parent == parent
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert not name.startswith(".")


#: Every character a name must not hold because a terminal would act on it or
#: show the name as something else: C0, DEL, C1 (category Cc) and bidi formatting.
DISPLAY_CONTROLS = [
    *map(chr, range(0x20)),
    "\x7f",
    *map(chr, range(0x80, 0xA0)),
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]


@pytest.mark.parametrize("char", DISPLAY_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_and_bidi_characters_are_refused_with_their_code(char: str) -> None:
    for kind in ("collection", "ident"):
        with pytest.raises(InvalidName) as info:
            check_name(kind, f"ok{char}name")
        assert info.value.kind == kind and info.value.value == f"ok{char}name"
        assert f"U+{ord(char):04X}" in info.value.reason


SEPARATORS_AND_NONCHARACTERS = [
    "\u2028",
    "\u2029",
    "\ufdd0",
    "\ufdef",
    "\ufffe",
    "\uffff",
    "\U0001fffe",
    "\U0001ffff",
    "\U0010fffe",
    "\U0010ffff",
]


@pytest.mark.parametrize("char", SEPARATORS_AND_NONCHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_line_separators_and_noncharacters_are_refused_with_their_code(
    tmp_path: Path, char: str
) -> None:
    for kind in ("collection", "ident"):
        with pytest.raises(InvalidName) as info:
            check_name(kind, f"ok{char}name")
        assert info.value.kind == kind
        assert f"U+{ord(char):04X}" in info.value.reason
        what = {"\u2028": "line separator", "\u2029": "paragraph separator"}
        assert what.get(char, "noncharacter") in info.value.reason
    proj = Project(tmp_path / "base")
    proj.resource("c")(lambda ident, args, ctx: 1)
    with pytest.raises(InvalidName):
        proj.fetch("c", f"x{char}")
    with pytest.raises(InvalidName):
        proj.resource(f"c{char}")
    assert sorted(os.listdir(tmp_path / "base")) == ["c"]
    assert not [n for n in os.listdir(tmp_path / "base" / "c") if not n.startswith(".")]


@pytest.mark.parametrize("good", ["\ufdcf", "\ufdf0", "\ufffd", "\U0001fffd", "\u2027"])
def test_the_neighbours_of_noncharacters_pass(good: str) -> None:
    assert check_name("ident", f"a{good}") == f"a{good}"


@given(st.text(min_size=1, max_size=40))
def test_an_accepted_name_is_shown_as_it_is(name: str) -> None:
    """A name that passes validation has nothing for hadrosaur.display to make visible."""
    try:
        check_name("ident", name)
    except InvalidName:
        return
    assert visible(name, line=True) == name
