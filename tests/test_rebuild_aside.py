"""A rebuild of a sound index is built aside: readers keep reading, and nothing drained is lost.

The build is paused between its scan and its swap (a hook around the
library's own functions, the only thing patched); meanwhile a worker changes
resources and a reader drains their markers into the old index. The new
index must hold those changes. The real-process test runs ``stats`` in a
child while another child's rebuild is paused inside its scan.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project, _store
from hadrosaur._index import CollectionIndex, aside, collection_index
from hadrosaur._index.keys import DRAINED_PREFIX, drained_key

from .helpers import REPO

COLL = "items"
FAILING: set[str] = set()


def compute(ident: str, args: Any, ctx: Any) -> str:
    if ident in FAILING:
        raise RuntimeError(f"failing on purpose: {ident}")
    return ident


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[Project]:
    proj = Project(tmp_path / "base", index_timeout=3)
    proj.resource(COLL)(compute)
    for n in range(30):
        proj.fetch(COLL, f"r{n:02d}")
    proj.stats(COLL)  # a sound index with every resource in it
    FAILING.clear()
    yield proj
    FAILING.clear()


def _pause_after_scan(monkeypatch: pytest.MonkeyPatch, during: Callable[[], None]) -> None:
    """Run ``during`` once the scan of a rebuild aside is done, before its catch-up and swap."""
    original = collection_index.rebuild_index

    def rebuild_index(*args: Any, markers: bool) -> list[str]:
        locked = original(*args, markers=markers)
        if not markers:
            during()
        return locked

    monkeypatch.setattr(collection_index, "rebuild_index", rebuild_index)


def _change_and_drain(proj: Project) -> None:
    """A worker's changes, drained into the old index by a reader, while the build waits."""
    FAILING.add("r03")
    proj.fetch(COLL, "r03", recompute=True)  # completed -> error
    proj.fetch(COLL, "new-1")  # a resource the scan never saw
    proj.fetch(COLL, "r04", recompute=True)  # new times
    # The reader is not blocked by the build, and its drain goes to the old index.
    assert proj.stats(COLL)["counts"]["error"] == 1
    assert not [n for n in os.listdir(proj.base / COLL / _store.UPDATES_DIR) if n[0] != "."]


def test_changes_drained_during_the_build_reach_the_new_index(
    proj: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    r04_before = proj.load(COLL, "r04").end_time
    epoch = proj.changes(COLL).cursor
    _pause_after_scan(monkeypatch, lambda: _change_and_drain(proj))
    counts = proj.reindex(COLL)[COLL]
    assert counts["error"] == 1 and counts["completed"] == 30 and counts["total"] == 31
    assert proj.fetch_by_status(COLL, "error") == ["r03"]
    with CollectionIndex(proj.base / COLL) as index:
        assert not index.rebuilt  # the swapped-in index is current: opened, not rebuilt again
        assert index.get("r04").end_time != r04_before  # type: ignore[union-attr]
        assert index.get("new-1").status == "completed"  # type: ignore[union-attr]
    assert proj.changes(COLL, epoch).reload  # a new index: live readers reload
    assert proj.check(COLL) == []
    assert not (proj.base / COLL / aside.BUILDING_DIR).exists()


def test_several_catch_up_rounds_lose_nothing(
    proj: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many drained meanwhile: re-read without the lock, then again for what came since."""
    monkeypatch.setattr(collection_index, "CATCH_UP_LOCKED", 1)
    rounds: list[int] = []
    original = collection_index.catch_up

    def catch_up(writer: Any, idents: list[str]) -> set[str]:
        rounds.append(len(idents))
        if len(rounds) < 3:  # a worker goes on changing resources between rounds
            FAILING.add(f"r{10 + len(rounds):02d}")
            proj.fetch(COLL, f"r{10 + len(rounds):02d}", recompute=True)
            proj.fetch(COLL, f"late-{len(rounds)}")
            proj.stats(COLL)
        return original(writer, idents)

    monkeypatch.setattr(collection_index, "catch_up", catch_up)
    _pause_after_scan(monkeypatch, lambda: _change_and_drain(proj))
    counts = proj.reindex(COLL)[COLL]
    assert len(rounds) >= 3
    assert proj.fetch_by_status(COLL, "error") == ["r03", "r11", "r12"]
    assert counts["total"] == 33
    assert proj.check(COLL) == []


def test_a_rebuild_that_lost_its_old_index_keeps_the_one_there(
    proj: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is deleted (and rebuilt by a reader) during the build: no half-caught-up swap."""

    def meanwhile() -> None:
        _change_and_drain(proj)
        shutil.rmtree(proj.base / COLL / _store.INDEX_DIR)
        FAILING.add("r05")
        proj.fetch(COLL, "r05", recompute=True)
        proj.stats(COLL)  # rebuilds it, holding the lock, with a new epoch

    _pause_after_scan(monkeypatch, meanwhile)
    proj.reindex(COLL)
    assert proj.fetch_by_status(COLL, "error") == ["r03", "r05"]
    assert proj.check(COLL) == []


def test_a_killed_builder_leaves_nothing_that_is_believed(proj: Project) -> None:
    """Its directory is removed by the next reader, with the k/ keys no builder needs."""
    coll = proj.base / COLL
    with CollectionIndex(coll) as index, index.store.write_batch() as wb:
        wb.put(drained_key("999999-dead", "r01"), b"")  # as a drain recorded for it
    entry = coll / aside.BUILDING_DIR / "999999-dead"
    (entry / "db").mkdir(parents=True)
    (entry / "lock").touch()  # nobody holds its flock: a killed builder's
    (entry / "db" / "CURRENT").write_text("MANIFEST-000001\n")
    assert proj.stats(COLL)["counts"]["completed"] == 30
    assert not (coll / aside.BUILDING_DIR).exists()
    with CollectionIndex(coll) as index:
        assert list(index.store.iterator(prefix=DRAINED_PREFIX)) == []


def test_links_where_builders_live_are_removed_never_followed(
    proj: Project, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    (outside / "lock").parent.mkdir()
    (outside / "lock").touch()
    (outside / "db").mkdir()
    coll = proj.base / COLL
    (coll / aside.BUILDING_DIR).symlink_to(outside, target_is_directory=True)
    assert proj.stats(COLL)["counts"]["total"] == 30
    assert not os.path.lexists(coll / aside.BUILDING_DIR)
    (coll / aside.BUILDING_DIR).mkdir()
    (coll / aside.BUILDING_DIR / "1-link").symlink_to(outside, target_is_directory=True)
    (coll / aside.BUILDING_DIR / "2-dead").mkdir()
    (coll / aside.BUILDING_DIR / "2-dead" / "lock").symlink_to(outside / "lock")
    (coll / aside.BUILDING_DIR / "2-dead" / "db").symlink_to(outside / "db")
    proj.reindex(COLL)
    assert not os.path.lexists(coll / aside.BUILDING_DIR)
    assert sorted(os.listdir(outside)) == ["db", "lock"]  # the targets are untouched
    assert proj.check(COLL) == []


_PAUSED_REINDEX = """
import os, sys, time
from pathlib import Path
from hadrosaur import Project, _store
from tests.test_rebuild_aside import COLL, compute

base, go = sys.argv[1], Path(sys.argv[2])
original = _store.scan_entries

def scan_entries(coll_dir):
    for n, entry in enumerate(original(coll_dir)):
        if n == 5:
            print("scanning", flush=True)
            while not go.exists():  # a long scan: until the test says go
                time.sleep(0.01)
        yield entry

_store.scan_entries = scan_entries
proj = Project(base)
proj.resource(COLL)(compute)
print(proj.reindex(COLL)[COLL]["total"], flush=True)
"""


def test_stats_answers_while_another_process_rebuilds(proj: Project, tmp_path: Path) -> None:
    """A real reader, with its normal timeout cut to 3 s, answers while the scan is still paused."""
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    builder = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_REINDEX, str(proj.base), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert builder.stdout is not None
        assert builder.stdout.readline() == "scanning\n", builder.stderr.read()  # type: ignore[union-attr]
        proj.fetch(COLL, "during")  # a worker's change, drained by the reader below
        reader = subprocess.run(
            [
                sys.executable,
                "-m",
                "hadrosaur",
                "stats",
                str(proj.base),
                "--json",
                "--index-timeout",
                "3",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert reader.returncode == 0, reader.stderr
        assert '"total": 31' in reader.stdout
        assert builder.poll() is None and not go.exists()  # the scan is still waiting
        go.touch()
        out, err = builder.communicate(timeout=60)
        assert builder.returncode == 0, err
        assert out.strip() == "31"
    finally:
        go.touch()
        if builder.poll() is None:
            builder.kill()
        builder.wait()
    assert proj.check(COLL) == []
    assert proj.status(COLL, "during") == "completed"


def test_a_planted_file_at_the_builders_directory_does_not_stop_readers(proj: Project) -> None:
    coll = proj.base / COLL
    (coll / aside.BUILDING_DIR).write_text("not ours")
    assert proj.stats(COLL)["counts"]["total"] == 30
    assert not os.path.lexists(coll / aside.BUILDING_DIR)


def test_two_rebuilds_at_once_keep_the_one_that_swapped_first(
    proj: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second reindex runs inside the first one's build: the first keeps its result."""
    calls: list[int] = []

    def meanwhile() -> None:
        calls.append(1)
        if len(calls) == 1:
            _change_and_drain(proj)  # recorded for the first builder only
            proj.reindex(COLL)  # the second builder: registers, scans, swaps
            FAILING.add("r06")
            proj.fetch(COLL, "r06", recompute=True)
            proj.stats(COLL)  # drained into the second one's index

    _pause_after_scan(monkeypatch, meanwhile)
    proj.reindex(COLL)
    assert len(calls) == 2
    assert proj.fetch_by_status(COLL, "error") == ["r03", "r06"]
    assert proj.check(COLL) == []
    assert not (proj.base / COLL / aside.BUILDING_DIR).exists()


def test_a_fifo_planted_as_a_builders_lock_does_not_hang_readers(proj: Project) -> None:
    """Its open must not wait for a writer: every reader would hang holding the index lock."""
    coll = proj.base / COLL
    (coll / aside.BUILDING_DIR / "1-fifo").mkdir(parents=True)
    os.mkfifo(coll / aside.BUILDING_DIR / "1-fifo" / "lock")
    reader = subprocess.Popen(
        [sys.executable, "-m", "hadrosaur", "stats", str(proj.base), COLL, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        out, err = reader.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        reader.kill()
        reader.communicate()
        pytest.fail("hadrosaur stats hung on a FIFO at .index.building/TOKEN/lock")
    assert reader.returncode == 0, err
    assert '"total": 30' in out
    assert not os.path.lexists(coll / aside.BUILDING_DIR)
