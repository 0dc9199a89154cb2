"""Error signatures: the same cause gives the same signature, different types never do."""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hadrosaur import Project, signature
from hadrosaur.signature import (
    TEMPLATE_MAX,
    error_headline,
    normalise_message,
    parse_error,
    signature_of,
    signature_of_raised,
)


def _load_sample(ident: str) -> None:
    """A user function failing deep inside the standard library (json)."""
    import json

    json.loads("{" + ident)


def _traceback_of(func: object, *args: object) -> str:
    try:
        func(*args)  # type: ignore[operator]
    except Exception:
        return traceback.format_exc()
    raise AssertionError("expected an exception")


def _missing_key(ident: str) -> None:
    table = {"weight": 1}
    table[f"sample_{ident}"]


def _chained(ident: str) -> None:
    try:
        _missing_key(ident)
    except KeyError as exc:
        raise ValueError(f"cannot load {ident}: 3 retries") from exc


def test_a_real_traceback_gives_the_type_the_whole_message_and_the_users_frame() -> None:
    text = _traceback_of(_load_sample, "x17")
    raised = parse_error(text)
    assert raised.exception == "json.decoder.JSONDecodeError"
    assert raised.message.startswith("Expecting property name enclosed in double quotes")
    # json's own frames are library code: the innermost frame of ours is the caller.
    assert raised.frame == "test_signature.py:_load_sample"


def test_with_chained_exceptions_the_last_raised_is_the_one_read() -> None:
    raised = parse_error(_traceback_of(_chained, "r-001"))
    assert raised.exception == "ValueError"
    assert raised.message == "cannot load r-001: 3 retries"
    assert raised.frame == "test_signature.py:_chained"


def test_a_multi_line_message_is_kept_whole_and_the_headline_is_its_first_line() -> None:
    def fails() -> None:
        raise RuntimeError("bad row 12\n  column: weight\n  value: -3")

    text = _traceback_of(fails)
    assert parse_error(text).message == "bad row 12\n  column: weight\n  value: -3"
    assert error_headline(text) == "RuntimeError: bad row 12"
    assert normalise_message(parse_error(text).message) == (
        "bad row <n> column: weight value: -<n>"
    )


def test_texts_that_are_not_tracebacks() -> None:
    died = (
        "hadrosaur: the worker process (pid 4242) computing this resource died: "
        "killed by signal SIGKILL (9): the kernel's out-of-memory killer sends it.\n"
    )
    raised = parse_error(died)
    assert raised.exception == "" and raised.message.startswith("hadrosaur: the worker")
    assert signature_of(died).signature == signature_of(died.replace("4242", "77")).signature
    assert parse_error("KeyError: 'weight'\n").exception == "KeyError"
    assert parse_error("").exception == "" and error_headline("") == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("timeout after 30.5 s on node017", "timeout after 12 s on node203"),
        (
            "no such file: /scratch/tmpk3j2x9a/part-00042.csv",
            "no such file: /scratch/tmp8q7w1zz/part-00917.csv",
        ),
        ("object at 0x7f3a2c1b9d00 is closed", "object at 0x7f3a2c1b0e40 is closed"),
        (
            "run 1b4e28ba-2fa1-11d2-883f-0016d3cca427 failed",
            "run 6fa459ea-ee8a-3ca4-894e-db77e160355e failed",
        ),
        ("checksum d41d8cd98f00b204 differs", "checksum 9e107d9d372bb682 differs"),
    ],
)
def test_the_same_cause_with_other_numbers_ids_and_hashes_shares_a_signature(
    a: str, b: str
) -> None:
    assert normalise_message(a) == normalise_message(b)
    sig_a = signature_of(f"OSError: {a}\n")
    assert sig_a == signature_of(f"OSError: {b}\n")
    assert len(sig_a.signature) == 10 and int(sig_a.signature, 16) >= 0


def test_real_errors_of_real_resources_group_by_cause(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")

    @proj.resource("items")
    def compute(ident: str, args: dict[str, object], ctx: object) -> None:
        if ident.startswith("k"):
            _missing_key(ident)
        raise ValueError(f"cannot parse {ident}.csv at line {len(ident) * 7}")

    texts = {}
    for ident in ("k1", "k22", "kappa", "p1", "p-300"):
        res = proj.fetch("items", ident)
        assert res.status == "error"
        texts[ident] = Path(res.paths["error"]).read_text()
    sigs = {ident: signature_of(text, ident) for ident, text in texts.items()}
    assert len({sigs[i].signature for i in ("k1", "k22", "kappa")}) == 1
    assert len({sigs[i].signature for i in ("p1", "p-300")}) == 1
    assert sigs["k1"].signature != sigs["p1"].signature
    assert sigs["k1"].exception == "KeyError" and sigs["k1"].message == "'sample_<ident>'"
    assert sigs["p1"].message == "cannot parse <ident>.csv at line <n>"
    assert sigs["p1"].frame == "test_signature.py:compute"


def test_a_signature_is_the_same_in_another_process() -> None:
    text = _traceback_of(_chained, "r-001")
    code = (
        "import sys; from hadrosaur.signature import signature_of; "
        "print(signature_of(sys.stdin.read(), 'r-001').signature)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert out.stdout.strip() == signature_of(text, "r-001").signature


# -- properties ----------------------------------------------------------------

_IDENT_CHARS = string.ascii_letters + string.digits + "_-."
_long_idents = st.text(_IDENT_CHARS, min_size=3, max_size=24).filter(lambda s: s[0] not in ".-")
#: Idents of one or two characters: inside other words of almost every message.
_short_idents = st.text(_IDENT_CHARS, min_size=1, max_size=2).filter(lambda s: s[0] not in ".-")
_idents = st.one_of(_short_idents, _long_idents)
_words = st.text(string.ascii_letters + " :,'/()=", min_size=0, max_size=40)
_exception_types = st.sampled_from(
    ["KeyError", "ValueError", "OSError", "mymodule.BadInput", "RuntimeError", "TypeError"]
)


_separators = st.sampled_from([" ", ": ", "/", "'", "(", " = "])
_PLACEHOLDER = re.compile(r"<(?:ident|uuid|hex|id|n)>")


def _has_token(text: str, ident: str) -> bool:
    """Whether ``ident`` is in ``text`` as a whole token (no letter or digit either side)."""
    return re.search(rf"(?<![^\W_]){re.escape(ident)}(?![^\W_])", text) is not None


@given(_words, _separators, _separators, _words, _idents, _idents, _exception_types)
def test_one_cause_with_other_idents_shares_a_signature(
    words_before: str,
    left: str,
    right: str,
    words_after: str,
    one: str,
    other: str,
    exception: str,
) -> None:
    # Separated from the words around it, so that it cannot read as part of a longer word;
    # the words are free to hold it inside them ("a" in "bad").
    before, after = words_before + left, right + words_after
    for ident in (one, other):
        assume(not _has_token(before + after, ident))
    first = signature_of(f"{exception}: {before}{one}{after}\n", one)
    second = signature_of(f"{exception}: {before}{other}{after}\n", other)
    assert first == second
    assert not _has_token(_PLACEHOLDER.sub(" ", first.message), one)


@given(_words, _separators, _separators, _words, _short_idents, _short_idents)
def test_short_idents_of_one_cause_share_a_signature(
    words_before: str, left: str, right: str, words_after: str, one: str, other: str
) -> None:
    before, after = words_before + left, right + words_after
    for ident in (one, other):
        assume(not _has_token(before + after, ident))
    for template in ("{before}{ident}{after}", "'{ident}'", "no file {ident}.csv: {before}"):
        texts = [template.format(before=before, ident=i, after=after) for i in (one, other)]
        first = signature_of(f"KeyError: {texts[0]}\n", one)
        assert first == signature_of(f"KeyError: {texts[1]}\n", other)


@given(_idents, st.data())
def test_the_ident_never_reaches_the_template_as_a_word(ident: str, data: st.DataObject) -> None:
    # Pieces that sit next to an ident in real messages: numbers, hashes, names, separators.
    pieces = st.one_of(
        st.sampled_from([ident, ident, "7", "42", "3.5", "0x1f", "d41d8cd98f", "a", "b1"]),
        st.sampled_from([" ", "_", "'", ".", "/", "-", ": ", "\n"]),
        st.text(max_size=6),
    )
    text = "".join(data.draw(st.lists(pieces, max_size=40)))
    template = normalise_message(text, ident)
    assert not _has_token(_PLACEHOLDER.sub(" ", template), ident)
    raised = parse_error(f'  File "/src/{text[:20]}.py", line 3, in {ident}_step\nOSError: x\n')
    frame = signature_of_raised(raised, ident).frame
    assert not _has_token(_PLACEHOLDER.sub(" ", frame), ident)


def test_a_short_ident_inside_other_words_is_left_there() -> None:
    assert normalise_message("bad value for a", "a") == "bad value for <ident>"
    assert normalise_message("bad value for b", "b") == "bad value for <ident>"
    assert normalise_message("KeyError 'k1' in sample_k1/k1.csv", "k1") == (
        "KeyError '<ident>' in sample_<ident>/<ident>.csv"
    )
    assert normalise_message("n = 3 after a17 tries", "a") == "n = <n> after <ident><n> tries"
    assert normalise_message("n = 3", "n") == "<ident> = <n>"


def test_a_template_is_cut_before_a_word_or_placeholder_it_would_split() -> None:
    assert normalise_message("i " * 300, "i") == " ".join(["<ident>"] * 62)
    long = "x" * (TEMPLATE_MAX - 2) + " abcdef"
    assert normalise_message(long, "ab") == "x" * (TEMPLATE_MAX - 2)
    assert len(normalise_message("w" * 2000)) == TEMPLATE_MAX


def test_real_errors_of_one_and_two_character_idents_group_by_cause(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")

    @proj.resource("items")
    def compute(ident: str, args: dict[str, object], ctx: object) -> None:
        if ident.startswith("k"):
            _missing_key(ident)
        raise ValueError(f"bad value for {ident}")

    idents = ("a", "b", "e", "t", "ab", "k", "k2", "kv")
    for ident in idents:
        assert proj.fetch("items", ident).status == "error"
    groups = proj.error_groups("items")
    assert [(g.exception, g.message, g.count) for g in groups] == [
        ("ValueError", "bad value for <ident>", 5),
        ("KeyError", "'sample_<ident>'", 3),
    ]
    assert [g.frame for g in groups] == [
        "test_signature.py:compute",
        "test_signature.py:_missing_key",
    ]


@given(st.text(max_size=300), st.text(_IDENT_CHARS, max_size=10))
def test_the_same_text_always_gives_the_same_signature(text: str, ident: str) -> None:
    first = signature_of(text, ident)
    assert first == signature_of(text, ident)
    assert len(first.message) <= TEMPLATE_MAX and "\n" not in first.message


@given(_words, _exception_types, _exception_types)
def test_different_exception_types_never_share_a_signature(
    message: str, one: str, other: str
) -> None:
    assume(one != other)
    assert (
        signature_of(f"{one}: {message}\n").signature
        != signature_of(f"{other}: {message}\n").signature
    )


@given(_words, _separators, st.lists(st.integers(0, 10**12), min_size=2, max_size=2))
def test_messages_that_differ_only_in_numbers_share_a_template(
    words: str, separator: str, numbers: list[int]
) -> None:
    a, b = numbers
    before = words + separator  # a number after a letter could read as part of a token
    assert normalise_message(f"{before}{a} items") == normalise_message(f"{before}{b} items")


def test_the_index_lists_an_error_by_its_type_and_the_first_line_of_its_message(
    tmp_path: Path,
) -> None:
    proj = Project(tmp_path / "base")

    @proj.resource("items")
    def compute(ident: str, args: dict[str, object], ctx: object) -> None:
        raise RuntimeError(f"bad row in {ident}\n  column: weight\n  value: -3")

    assert proj.fetch("items", "r1").status == "error"
    [entry] = proj.entries("items")
    assert entry.reason == "RuntimeError: bad row in r1"


def test_a_chain_of_the_ident_is_marked_in_a_few_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """'0.0.0.…' of the ident '0.' took one pass per link: quadratic, 11 s for 16 KB."""
    passes = []
    once, chain = signature._mark_ident_once, signature._mark_chain

    def counted_once(text: str, ident: str) -> str:
        passes.append(1)
        return once(text, ident)

    def counted_chain(text: str, ident: str, backwards: bool) -> str:
        passes.append(1)
        return chain(text, ident, backwards)

    monkeypatch.setattr(signature, "_mark_ident_once", counted_once)
    monkeypatch.setattr(signature, "_mark_chain", counted_chain)
    assert normalise_message("0." * 8000, "0.").startswith("<ident>" * 20)
    assert len(passes) <= 10


def _marked_by_plain_passes(text: str, ident: str) -> str:
    """The rule as first written: plain passes until nothing changes (the reference)."""
    while ident in text:
        marked = signature._mark_ident_once(text, ident)
        if marked is text:
            break
        text = marked
    return text


@settings(max_examples=500, deadline=None)
@given(
    ident=st.text(alphabet="a0._ x", min_size=1, max_size=3).filter(str.strip),
    head=st.integers(0, 12),
    middle=st.text(alphabet="a0._ x", max_size=30),
    tail=st.integers(0, 12),
)
def test_chains_are_marked_as_the_plain_passes_mark_them(
    ident: str, head: int, middle: str, tail: int
) -> None:
    """Signatures of existing errors stay as they were: the quicker passes end where they did."""
    text = ident * head + middle + ident * tail
    assert signature._mark_ident(text, ident) == _marked_by_plain_passes(text, ident)
