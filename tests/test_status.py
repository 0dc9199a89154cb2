"""The status vocabulary: the words, the 0.4.1 alias, and what counts as a damaged status file."""

from __future__ import annotations

import pytest

from hadrosaur import COMPLETED, ERROR, INTERRUPTED, PENDING, STATUSES, UNAVAILABLE, resource
from hadrosaur.status import WRITTEN, canonical, is_damaged, status_word


def test_resource_re_exports_the_same_words() -> None:
    assert (resource.COMPLETED, resource.STATUSES) == (COMPLETED, STATUSES)
    assert ("total", *STATUSES) == resource.COUNT_KEYS


@pytest.mark.parametrize(
    ("raw", "word"),
    [
        (b"completed", COMPLETED),
        (b"complete", COMPLETED),  # hadrosaur 0.4.1
        (b"  pending\n", PENDING),
        (b"error\r\n", ERROR),
        (b"\xff\xfe", "\ufffd\ufffd"),
        (b"", ""),
    ],
)
def test_a_status_file_is_read_stripped_with_aliases_resolved(raw: bytes, word: str) -> None:
    assert status_word(raw) == word


def test_only_the_words_a_writer_writes_are_sound() -> None:
    assert {w for w in STATUSES if not is_damaged(w)} == WRITTEN == {COMPLETED, PENDING, ERROR}
    # Derived by readers, never written: in a status file they are damage.
    assert is_damaged(INTERRUPTED) and is_damaged(UNAVAILABLE)
    assert is_damaged("complete")  # only the decoded file is aliased, not any word
    assert is_damaged(status_word(b"gar\x00bage")) and is_damaged("")


def test_canonical_resolves_only_aliases() -> None:
    assert canonical("complete") == COMPLETED
    assert canonical("bogus") == "bogus"
    assert [canonical(s) for s in STATUSES] == list(STATUSES)
