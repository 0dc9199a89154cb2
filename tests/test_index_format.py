"""The index's bytes: key layout and codec, pinned so that a refactoring cannot change them.

An index written by one version is read by the next (the schema version says
when it must be rebuilt instead), so these bytes are a format, not a detail.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hadrosaur._index import IndexCorrupt
from hadrosaur._index.codec import (
    RELOAD_CHANGE,
    decode_change,
    decode_group_header,
    decode_record,
    decode_rows,
    encode_change,
    encode_group_header,
    encode_record,
    encode_removal,
    number,
    text,
)
from hadrosaur._index.keys import (
    SCHEMA_VERSION,
    count_key,
    group_count_key,
    group_header_key,
    group_member_key,
    group_members_prefix,
    group_minute_key,
    group_minutes_prefix,
    group_time_key,
    group_times_prefix,
    log_key,
    minute_key,
    plan_applied_key,
    planned_key,
    record_key,
    status_key,
    status_prefix,
)
from hadrosaur._index.kv import ClosedStore, KeyValueStore, MemoryDB, open_leveldb
from hadrosaur.entries import Entry
from hadrosaur.signature import ErrorSignature


def test_keys_are_laid_out_as_the_table_says() -> None:
    assert record_key("é") == b"r/\xc3\xa9"
    assert status_key("error", "r1") == b"s/error/r1"
    assert status_key("error", "r1").startswith(status_prefix("error"))
    assert count_key("completed") == b"c/completed"
    assert log_key(26) == b"l/000000000000001a"
    assert minute_key(28_000_000) == b"m/0028000000"
    assert planned_key("p1") == b"p/p1"
    assert plan_applied_key("abc") == b"P/abc"
    assert SCHEMA_VERSION == b"6"
    assert group_header_key("0123456789") == b"g/0123456789"
    assert group_count_key("0123456789") == b"n/0123456789"
    assert group_member_key("0123456789", "r1") == b"G/0123456789/r1"
    assert group_member_key("0123456789", "r1").startswith(group_members_prefix("0123456789"))
    assert group_time_key("0123456789", 1_700_000_000_123, "r1") == (
        b"t/0123456789/001700000000123/r1"
    )
    assert group_time_key("0123456789", 5, "r1").startswith(group_times_prefix("0123456789"))
    assert group_minute_key("0123456789", 28_000_000) == b"h/0123456789/0028000000"
    assert group_minute_key("0123456789", 1).startswith(group_minutes_prefix("0123456789"))


def test_a_record_encodes_to_its_fixed_bytes_and_back() -> None:
    rec = Entry("r", "error", 1000, 61_000_000, "ValueError: a\x1fb\nc", "", "0a1b2c3d4e")
    raw = encode_record(rec)
    # Control characters in the reason become spaces: they would break the fields.
    assert raw == b"error\x1f1000\x1f61000000\x1fValueError: a b c\x1f\x1f0a1b2c3d4e"
    assert decode_rows([(b"r/r", raw)], ident_at=2) == [
        ("r", "error", 1000, 61_000_000, "ValueError: a b c", "", "0a1b2c3d4e")
    ]
    pending = Entry("q", "pending", 7, None, "", "node\x1f7")
    assert encode_record(pending) == b"pending\x1f7\x1f\x1f\x1fnode 7\x1f"
    assert decode_record("q", encode_record(pending)) == pending._replace(host="node 7")
    assert decode_record("r", raw) == Entry(
        "r", "error", 1000, 61_000_000, "ValueError: a b c", "", "0a1b2c3d4e"
    )
    assert encode_record(Entry("p", "unavailable")) == b"unavailable\x1f\x1f\x1f\x1f\x1f"
    unavailable = (b"p", b"unavailable\x1f\x1f\x1f\x1f\x1f")
    assert (
        decode_rows([unavailable] * 3, limit=2)
        == [("p", "unavailable", None, None, "", "", "")] * 2
    )


def test_a_group_header_encodes_to_its_fixed_bytes_and_back() -> None:
    cause = ErrorSignature("0a1b2c3d4e", "KeyError", "'a\x1fb' <n>", "p.py:f")
    raw = encode_group_header(cause)
    assert raw == b"KeyError\x1f'a b' <n>\x1fp.py:f"
    assert decode_group_header("0a1b2c3d4e", raw) == replace(cause, message="'a b' <n>")
    for damaged in (None, b"KeyError\x1fx", b"\xff\x1f\x1f"):
        with pytest.raises(IndexCorrupt):
            decode_group_header("0a1b2c3d4e", damaged)


def test_change_log_entries_are_the_ident_and_the_record_bytes() -> None:
    raw = encode_record(Entry("é-ü", "completed", 1, 2))
    assert encode_change("é-ü", raw) == "é-ü".encode() + b"\x1f" + raw
    assert decode_change(encode_change("é-ü", raw)) == (
        "é-ü",
        ("é-ü", "completed", 1, 2, "", "", ""),
    )
    assert encode_removal("z") == b"z\x1f-"
    assert decode_change(b"z\x1f-") == ("z", None)
    assert RELOAD_CHANGE == b"\x1f*"
    assert decode_change(RELOAD_CHANGE) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"done\x1f1\x1f2\x1f\x1f\x1f",  # a status the index never stores
        b"completed\x1fx\x1f2\x1f\x1f\x1f",  # not a number
        b"completed\x1f1\x1f2\x1f\x1f",  # a field missing (schema 4's records had five)
        b"\xff\x1f1\x1f2\x1f\x1f\x1f",  # not UTF-8
    ],
)
def test_an_undecodable_record_is_corruption(raw: bytes) -> None:
    with pytest.raises(IndexCorrupt):
        decode_record("r", raw)
    with pytest.raises(IndexCorrupt):
        decode_change(b"r\x1f" + raw)
    with pytest.raises(IndexCorrupt):
        decode_rows([(b"r/a", b"completed\x1f\x1f\x1f\x1f\x1f"), (b"r/b", raw)], ident_at=2)


@pytest.mark.parametrize(
    "raw", [b"no separator", b"\xff\x1f*", b"\xff\x1f-", b"\xff\x1fcompleted\x1f1\x1f2\x1f"]
)
def test_an_undecodable_change_is_corruption(raw: bytes) -> None:
    with pytest.raises(IndexCorrupt):
        decode_change(raw)


def test_numbers_and_texts_that_do_not_decode_are_corruption() -> None:
    assert number(None) == 0 and number(b"12") == 12 and number(b"1a", 16) == 26
    with pytest.raises(IndexCorrupt):
        number(b"")
    with pytest.raises(IndexCorrupt):
        text(b"\xff")


def _fill(store: KeyValueStore) -> None:
    with store.write_batch() as wb:
        for key in (b"a/v", b"r/a", b"r/b", b"r/c", b"s/x/a", b"m/1", b"r\xff"):
            wb.put(key, key.upper())
    with store.write_batch() as wb:
        wb.delete(b"r/b")


def _queries(store: KeyValueStore) -> list[object]:
    return [
        store.get(b"r/a"),
        store.get(b"r/b"),
        list(store.iterator(prefix=b"r/")),
        list(store.iterator(prefix=b"r/", include_value=False)),
        list(store.iterator(start=b"r/a", stop=b"r0", include_start=False)),
        list(store.iterator(start=b"m/", stop=b"m0")),
        list(store.iterator(include_value=False)),
        list(store.iterator(prefix=b"r/", include_value=False, reverse=True)),
        list(store.iterator(start=b"m/", stop=b"r0", reverse=True)),
    ]


def test_the_memory_store_answers_as_the_leveldb_does(tmp_path: Path) -> None:
    """The read-only fallback serves from memory what a rebuild would write on disk."""
    leveldb = open_leveldb(str(tmp_path / "db"), create_if_missing=True)
    memory = MemoryDB()
    try:
        _fill(leveldb)
        _fill(memory)
        assert _queries(memory) == _queries(leveldb)
        assert _queries(memory)[2] == [(b"r/a", b"R/A"), (b"r/c", b"R/C")]
    finally:
        leveldb.close()


def test_a_transaction_that_raises_writes_nothing_in_either_store(tmp_path: Path) -> None:
    leveldb = open_leveldb(str(tmp_path / "db"), create_if_missing=True)
    try:
        for store in (leveldb, MemoryDB()):
            with pytest.raises(RuntimeError), store.write_batch(transaction=True) as wb:
                wb.put(b"k", b"v")
                raise RuntimeError("half-way")
            assert store.get(b"k") is None
    finally:
        leveldb.close()


def test_a_closed_index_says_so_instead_of_reading() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        ClosedStore().get(b"c/completed")
