"""The LevelDB index: drain protocol, rebuild, change log, busy handling."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import IndexBusy, Project
from hadrosaur._index import CollectionIndex
from hadrosaur._index.kv import (
    CheckedLevelDB,
    open_leveldb,
    plyvel,  # the LevelDB binding installed for this Python
)

from .helpers import scan_counts


@pytest.fixture
def items(proj: Project) -> Project:
    @proj.resource("items")
    def compute(ident: str, args: Any, ctx: Any) -> str:
        if ident.startswith("fail"):
            raise RuntimeError("no")
        return ident

    return proj


def test_drain_applies_each_marker_once_and_removes_it(items: Project, base: Path) -> None:
    for ident in ["a", "b", "fail-1"]:
        items.fetch("items", ident)
    updates = base / "items" / ".updates"
    assert sorted(os.listdir(updates)) == ["a", "b", "fail-1"]
    with CollectionIndex(base / "items") as index:
        assert index.counts() == {
            "completed": 2,
            "pending": 0,
            "interrupted": 0,
            "error": 1,
            "unavailable": 0,
        }
    assert os.listdir(updates) == [".claimed"]
    assert os.listdir(updates / ".claimed") == []


def test_a_claimed_leftover_is_applied_exactly_once(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    items.stats("items")  # a is in the index now
    items.fetch("items", "b")
    updates = base / "items" / ".updates"
    # A drainer died after claiming b and a, and after applying a.
    os.rename(updates / "b", updates / ".claimed" / "b")
    (updates / ".claimed" / "a").touch()
    with CollectionIndex(base / "items") as index:
        assert index.counts()["completed"] == 2
        # a was already in the index (the first reader built it by a scan), so
        # re-applying its claimed marker logs nothing; b is logged once.
        assert [c.ident for c in index.changes_after(0, 100)[0]] == ["b"]
    assert os.listdir(updates / ".claimed") == []


def test_deleted_index_is_rebuilt_from_the_directories(items: Project, base: Path) -> None:
    for ident in ["a", "b", "fail-1"]:
        items.fetch("items", ident)
    before = items.stats("items")
    shutil.rmtree(base / "items" / ".index")
    assert items.stats("items") == before
    assert items.fetch_by_status("items", "error") == ["fail-1"]


@pytest.mark.parametrize("damage", ["garbage_files", "empty_dir", "file_instead"])
def test_corrupt_index_is_rebuilt(items: Project, base: Path, damage: str) -> None:
    for ident in ["a", "fail-1"]:
        items.fetch("items", ident)
    before = items.stats("items")
    index_dir = base / "items" / ".index"
    if damage == "garbage_files":
        for f in index_dir.iterdir():
            if f.name != "LOCK":
                f.write_bytes(os.urandom(64))
    elif damage == "empty_dir":
        shutil.rmtree(index_dir)
        index_dir.mkdir()
    else:
        shutil.rmtree(index_dir)
        index_dir.write_text("not a database")
    assert items.stats("items") == before


def test_reindex_and_check_repair_a_stale_index(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    items.stats("items")
    # Someone edits a status behind hadrosaur's back (no marker).
    (base / "items" / "a" / "status").write_text("error")
    problems = items.check("items")
    assert problems == ["a: index has completed, disk has error"]
    assert items.check("items", fix=True) == problems
    assert items.check("items") == []
    assert items.stats("items")["counts"]["error"] == 1
    (base / "items" / "a" / "status").write_text("completed")
    assert items.reindex("items")["items"]["completed"] == 1


def test_removed_resource_directory_leaves_the_index(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    items.fetch("items", "b")
    cursor = items.changes("items").cursor
    shutil.rmtree(base / "items" / "b")
    (base / "items" / ".updates" / "b").touch()
    batch = items.changes("items", cursor)
    assert [(c.ident, c.entry) for c in batch.changes] == [("b", None)]
    assert items.stats("items")["counts"]["total"] == 1


def test_change_log_is_bounded_and_old_cursors_reload(base: Path) -> None:
    proj = Project(base, change_log_limit=3)

    @proj.resource("c")
    def f(ident: str, args: Any, ctx: Any) -> int:
        return 1

    proj.fetch("c", "first")
    cursor = proj.changes("c").cursor
    for i in range(5):
        proj.fetch("c", f"r{i}")
        proj.stats("c")  # drain one at a time: one log entry each
    batch = proj.changes("c", cursor)
    assert batch.reload
    fresh = proj.changes("c", batch.cursor)
    assert not fresh.reload and fresh.changes == ()
    with CollectionIndex(base / "c") as index:
        assert index.changelog.next_seq - index.changelog.first_seq == 3
        bounds = (index.changelog.first_seq, index.changelog.next_seq)
    # The bounds kept under a/l agree with the l/ keys themselves.
    db = plyvel.DB(str(base / "c" / ".index"))
    try:
        seqs = [int(k[2:], 16) for k in db.iterator(prefix=b"l/", include_value=False)]
    finally:
        db.close()
    assert bounds == (min(seqs), max(seqs) + 1)


def test_an_index_of_another_schema_version_is_rebuilt(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    items.fetch("items", "fail-1")
    cursor = items.changes("items").cursor
    db = plyvel.DB(str(base / "items" / ".index"))
    try:
        db.put(b"a/v", b"1")  # as an older hadrosaur would have left it
        db.put(b"c/completed", b"99")
    finally:
        db.close()
    assert items.changes("items", cursor).reload, "a rebuild starts a new epoch"
    assert items.stats("items")["counts"]["completed"] == 1


def test_an_index_without_its_change_log_bounds_is_rebuilt(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    cursor = items.changes("items").cursor
    db = plyvel.DB(str(base / "items" / ".index"))
    try:
        db.delete(b"a/l")
    finally:
        db.close()
    assert items.changes("items", cursor).reload, "damage means a rebuild, a new epoch"
    assert items.stats("items")["counts"]["completed"] == 1


def test_compact_leaves_one_sorted_run(tmp_path: Path) -> None:
    """After a rebuild (which compacts), a lookup opens one table, not every level-0 one."""
    path = str(tmp_path / "db")
    for batch in range(3):  # each reopening turns the last session's log into a table
        db = open_leveldb(path, create_if_missing=True)
        with db.write_batch() as wb:
            for i in range(100):
                wb.put(b"r/%04d" % (i * 3 + batch), b"x")
            wb.put(b"a/v", b"%d" % batch)
        db.close()
    db = open_leveldb(path, create_if_missing=False)
    try:
        assert len(_tables_holding(db, b"r/0150")) > 1  # the case compact() is for
        db.compact()
        for key in (b"a/v", b"r/0000", b"r/0150", b"r/0299"):
            assert len(_tables_holding(db, key)) == 1, key
        assert db.get(b"a/v") == b"2"
    finally:
        db.close()


def _tables_holding(db: CheckedLevelDB, key: bytes) -> list[str]:
    """The tables whose key range includes ``key`` (from leveldb.sstables)."""
    listing = db._db.get_property(b"leveldb.sstables").decode()
    # Lines like " 11:2128797['a/e' @ 5 : 1 .. 's/error/r0099' @ 186 : 1]".
    ranges = re.findall(r"(\d+):\d+\['(.*?)' @ .*? \.\. '(.*?)' @", listing)
    return [n for n, low, high in ranges if low.encode() <= key <= high.encode()]


def test_rebuild_invalidates_cursors(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    cursor = items.changes("items").cursor
    items.reindex("items")
    assert items.changes("items", cursor).reload


def test_changes_are_returned_in_bounded_batches(items: Project) -> None:
    cursor = items.changes("items").cursor
    for i in range(5):
        items.fetch("items", f"r{i}")
    first = items.changes("items", cursor, limit=3)
    assert len(first.changes) == 3 and first.more
    second = items.changes("items", first.cursor, limit=3)
    assert len(second.changes) == 2 and not second.more
    # One drain applies markers in directory order, not in the order written.
    assert sorted(c.ident for c in first.changes + second.changes) == [f"r{i}" for i in range(5)]


HOLD_INDEX = """
import sys, time
from pathlib import Path
from hadrosaur._index import CollectionIndex
from hadrosaur._index.kv import CheckedLevelDB, open_leveldb
with CollectionIndex(Path(sys.argv[1])):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_index_busy_names_the_path_and_the_wait(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_INDEX, str(base / "items"), "30"],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
            impatient = Project(base, index_timeout=0.3)
            started = time.monotonic()
            with pytest.raises(IndexBusy) as info:
                impatient.stats("items")
            assert time.monotonic() - started >= 0.3
            assert isinstance(info.value, TimeoutError)
            assert str(base / "items" / ".index") in str(info.value)
            assert "busy for 0." in str(info.value)
        finally:
            holder.kill()
    # Killed holder: the kernel dropped its flock, so the index opens at once.
    assert items.stats("items")["counts"]["completed"] == 1


def test_readers_wait_for_a_brief_holder_instead_of_failing(items: Project, base: Path) -> None:
    items.fetch("items", "a")
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_INDEX, str(base / "items"), "0.5"],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert items.stats("items")["counts"]["completed"] == 1


def test_counts_agree_with_a_scan(items: Project, base: Path) -> None:
    for i in range(30):
        items.fetch("items", f"fail-{i}" if i % 4 == 0 else f"ok-{i}")
    counts = items.stats("items")["counts"]
    scanned = scan_counts(base / "items")
    assert counts["completed"] == scanned["completed"] and counts["error"] == scanned["error"]
