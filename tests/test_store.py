"""The on-disk layout: atomic writes, status words, records, collections, markers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hadrosaur import _markers, _records, _store
from hadrosaur._collections import scan_collections
from hadrosaur.entries import Entry
from hadrosaur.signature import signature_of


def test_atomic_write_replaces_whole_and_leaves_no_tmp(tmp_path: Path) -> None:
    target = tmp_path / "status"
    _store.atomic_write(target, b"pending")
    _store.atomic_write(target, b"completed", durable=True)
    assert target.read_bytes() == b"completed"
    assert os.listdir(tmp_path) == ["status"]


def test_a_failed_atomic_write_raises_and_leaves_no_tmp_file(tmp_path: Path) -> None:
    # os.replace onto a non-empty directory fails after the tmp file was written.
    (tmp_path / "result.json").mkdir()
    (tmp_path / "result.json" / "x").write_text("x")
    with pytest.raises(OSError):
        _store.atomic_write(tmp_path / "result.json", b"new")
    assert os.listdir(tmp_path) == ["result.json"]
    assert os.listdir(tmp_path / "result.json") == ["x"]


def test_read_status_maps_legacy_word_and_missing(tmp_path: Path) -> None:
    assert _store.read_status(tmp_path) is None
    (tmp_path / "status").write_text("complete")
    assert _store.read_status(tmp_path) == "completed"
    (tmp_path / "status").write_text("error\n")
    assert _store.read_status(tmp_path) == "error"


def test_read_record_reports_what_was_raised(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("error")
    (tmp_path / "meta.json").write_text(json.dumps({"start_time": 5, "end_time": 9}))
    text = "Traceback...\n  File x\nValueError: boom\n\n"
    (tmp_path / "error.log").write_text(text)
    # The headline and the signature come from one read of the same tail.
    signature = signature_of(text, tmp_path.name).signature
    assert _store.read_record(tmp_path) == Entry(
        tmp_path.name, "error", 5, 9, "ValueError: boom", "", signature
    )
    cause = _records.cause_of(_store.read_record(tmp_path) or Entry("", ""))
    assert cause == signature_of(text, tmp_path.name)
    # Decoded from the index, a signature is a plain string: no cause to carry.
    assert _records.cause_of(Entry("r", "error", signature=signature)) is None


def _damaged(ident: str, reason: str) -> Entry:
    """A damaged resource's entry: its signature is its reason's, so damage groups as damage."""
    return Entry(ident, "error", reason=reason, signature=signature_of(reason, ident).signature)


def test_read_record_marks_a_damaged_status_as_an_error(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("gar\x00bage")
    rec = _store.read_record(tmp_path)
    assert rec is not None and rec.status == "error"
    assert "damaged status" in rec.reason


def test_read_meta_falls_back_to_legacy_time_files(tmp_path: Path) -> None:
    (tmp_path / "start_time").write_text("1580948135917")
    (tmp_path / "end_time").write_text("")
    assert _store.read_meta(tmp_path) == {"start_time": 1580948135917, "end_time": None}
    (tmp_path / "meta.json").write_text("not json")
    assert _store.read_meta(tmp_path) == {}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"start_time": 1, "end_time": 2, "host": "h"}',
        b'{"a": 1} ',
        b' {"a": 1}',
        b'{"a": 1}\n',
        b'{"a": 1}}',
        b'{"a": 1}{"b": 2}',
        b'{"a": 1, "a": 2}',
        b"{",
        b"{}",
        b'{"a": "\xff"}',
        b'{"a": "\\ud800"}',
        b'\xef\xbb\xbf{"a": 1}',
        b"[1]",
    ],
)
def test_read_meta_reads_meta_json_as_json_loads_does(tmp_path: Path, raw: bytes) -> None:
    # The drain decodes meta.json with json's scanner directly: the same answers.
    (tmp_path / "meta.json").write_bytes(raw)
    try:
        expected = json.loads(raw)
    except ValueError:
        expected = {}
    assert _store.read_meta(tmp_path) == (expected if isinstance(expected, dict) else {})


def test_scan_and_collection_discovery(tmp_path: Path) -> None:
    (tmp_path / "coll" / ".updates").mkdir(parents=True)
    (tmp_path / "coll" / "a").mkdir()
    (tmp_path / "coll" / ".index").mkdir()
    (tmp_path / "coll" / "file").write_text("")
    (tmp_path / "not-a-collection").mkdir()
    (tmp_path / "legacy" / ".status").mkdir(parents=True)
    # A file where a resource directory would be is listed, as damaged.
    assert sorted(_store.scan_entries(tmp_path / "coll")) == [
        ("a", ""),
        ("file", "not a directory (a regular file)"),
    ]
    assert scan_collections(tmp_path)[0] == ["coll", "legacy"]
    assert scan_collections(tmp_path / "missing")[0] == []


# -- nothing inside BASE is followed ------------------------------------------------

SECRET = b"SECRET-CONTENT"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret"
    path.parent.mkdir()
    path.write_bytes(SECRET + b"\n")
    return path


def test_a_linked_status_reads_as_damaged_not_as_its_target(tmp_path: Path, secret: Path) -> None:
    res = tmp_path / "res"
    res.mkdir()
    secret.write_bytes(b"completed")  # even a target that looks like a status
    (res / "status").symlink_to(secret)
    word = _store.read_status(res)
    assert word is not None and word != "completed"
    rec = _store.read_record(res)
    assert rec == _damaged("res", "status: symlink refused")


def test_a_linked_meta_or_error_log_makes_the_record_damaged(tmp_path: Path, secret: Path) -> None:
    res = tmp_path / "res"
    res.mkdir()
    (res / "status").write_text("error")
    (res / "error.log").symlink_to(secret)
    assert _store.read_record(res) == _damaged("res", "error.log: symlink refused")
    (res / "meta.json").symlink_to(secret)
    assert _store.read_meta_checked(res) == ({}, "meta.json: symlink refused")
    assert _store.read_record(res) == _damaged("res", "meta.json: symlink refused")


def test_read_file_refuses_links_and_fifos_without_blocking(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "link").symlink_to(secret)
    with pytest.raises(_store.RefusedFile) as caught:
        _store.read_regular(tmp_path / "link")
    assert caught.value.reason == "symlink refused"
    os.mkfifo(tmp_path / "fifo")  # no writer: a blocking open would never return
    with pytest.raises(_store.RefusedFile, match="a FIFO"):
        _store.read_regular(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    with pytest.raises(_store.RefusedFile, match="a directory"):
        _store.read_regular(tmp_path / "dir")
    assert _store.read_regular(tmp_path / "missing") is None
    (tmp_path / "big").write_bytes(b"x" * 200_000)
    assert _store.read_regular(tmp_path / "big") == b"x" * 200_000


def test_a_linked_resource_directory_is_a_damaged_record(tmp_path: Path) -> None:
    target = tmp_path / "outside"
    target.mkdir()
    (target / "status").write_text("completed")
    (tmp_path / "coll").mkdir()
    (tmp_path / "coll" / "linked").symlink_to(target)
    (tmp_path / "coll" / "dangling").symlink_to(tmp_path / "nowhere")
    assert _store.read_record(tmp_path / "coll" / "linked") == _damaged(
        "linked", "resource directory damaged: symlink refused"
    )
    assert sorted(_store.scan_entries(tmp_path / "coll")) == [
        ("dangling", "symlink refused"),
        ("linked", "symlink refused"),
    ]


def test_atomic_write_replaces_a_symlink_itself_not_its_target(
    tmp_path: Path, secret: Path
) -> None:
    (tmp_path / "status").symlink_to(secret)
    _store.atomic_write(tmp_path / "status", b"pending")
    assert not (tmp_path / "status").is_symlink()
    assert (tmp_path / "status").read_bytes() == b"pending"
    assert secret.read_bytes() == SECRET + b"\n"


def test_a_marker_is_never_created_through_a_dangling_link(tmp_path: Path) -> None:
    (tmp_path / ".updates").mkdir()
    (tmp_path / ".updates" / "x").symlink_to(tmp_path / "created-outside")
    _markers.touch_marker(tmp_path, "x")
    assert not (tmp_path / "created-outside").exists()
    assert (tmp_path / ".updates" / "x").is_symlink()  # still says "changed" to a drainer


def test_a_linked_collection_is_not_listed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere" / ".updates").mkdir(parents=True)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "linked").symlink_to(tmp_path / "elsewhere")
    assert scan_collections(tmp_path / "base")[0] == []
