"""The on-disk layout: atomic writes, status words, records, plans."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hadrosaur import _store
from hadrosaur._store import Record


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


def test_read_record_reports_the_last_traceback_line(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("error")
    (tmp_path / "meta.json").write_text(json.dumps({"start_time": 5, "end_time": 9}))
    (tmp_path / "error.log").write_text("Traceback...\n  File x\nValueError: boom\n\n")
    assert _store.read_record(tmp_path) == Record("error", 5, 9, "ValueError: boom")


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


def test_plans_are_idempotent_and_marked_once(tmp_path: Path) -> None:
    first = _store.write_plan(tmp_path, ["b", "a", "a"])
    assert _store.write_plan(tmp_path, ["a", "b"]) == first
    assert _store.read_plan(tmp_path, first) == ["a", "b"]
    assert _store.plan_ids(tmp_path) == [first]
    assert os.listdir(tmp_path / ".updates") == [f".plan.{first}"]


def test_scan_and_collection_discovery(tmp_path: Path) -> None:
    (tmp_path / "coll" / ".updates").mkdir(parents=True)
    (tmp_path / "coll" / "a").mkdir()
    (tmp_path / "coll" / ".index").mkdir()
    (tmp_path / "coll" / "file").write_text("")
    (tmp_path / "not-a-collection").mkdir()
    (tmp_path / "legacy" / ".status").mkdir(parents=True)
    assert list(_store.scan_idents(tmp_path / "coll")) == ["a"]
    assert _store.list_collections(tmp_path) == ["coll", "legacy"]
    assert _store.list_collections(tmp_path / "missing") == []
