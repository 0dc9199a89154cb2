"""Pending resources whose worker died are found once, recorded interrupted, and never probed again.

Real processes hold and drop the compute locks (a helper that flocks the
``.lock`` files, workers killed with SIGKILL); the index is the real LevelDB.
``CollectionIndex.probed`` counts the lock probes of one opening, which is how
"never probed again" is observed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur._index import CollectionIndex
from hadrosaur._index.sweep import FEW_KEPT, reset_sweeps
from hadrosaur._liveness import local_host
from hadrosaur._markers import KEPT_DIR
from hadrosaur.entries import Entry

from .helpers import REPO, child_env, spawn

# Holds the compute locks of the idents given, prints "holding", and waits to be killed.
HOLDER = """
import fcntl, os, sys, time
fds = []
for ident in sys.argv[2:]:
    fd = os.open(os.path.join(sys.argv[1], ident, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    fds.append(fd)
print("holding", flush=True)
time.sleep(600)
"""


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    return ident


@pytest.fixture
def coll(base: Path) -> Path:
    Project(base).resource("c")(_compute)
    return base / "c"


def _started(coll: Path, ident: str) -> None:
    """A resource as a worker leaves it once started (marker, meta.json, pending)."""
    res = coll / ident
    res.mkdir()
    (coll / ".updates" / ident).touch()
    meta: dict[str, Any] = {"start_time": 1, "end_time": None, "pid": 1, "host": local_host()}
    (res / "meta.json").write_text(json.dumps(meta))
    (res / "status").write_text("pending")
    (res / ".lock").touch()


def _hold(coll: Path, idents: list[str]) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(coll), *idents], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def _kill(holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.communicate()


def _opening(coll: Path, **options: Any) -> tuple[dict[str, int], int]:
    """(stored counts, locks probed) of one opening of the index."""
    with CollectionIndex(coll, **options) as index:
        return index.counts(), index.probed


def test_a_dead_pending_resource_is_recorded_once_and_never_probed_again(coll: Path) -> None:
    proj = Project(coll.parent, create=False)
    for i in range(5):
        _started(coll, f"r{i}")
    counts = proj.stats("c")["counts"]
    assert (counts["interrupted"], counts["pending"], counts["total"]) == (5, 0, 5)
    assert proj.fetch_by_status("c", "interrupted") == [f"r{i}" for i in range(5)]
    assert proj.fetch_by_status("c", "pending") == []
    stored, probed = _opening(coll)
    assert stored["interrupted"] == 5 and probed == 0, "recorded: nothing left to probe"
    # A process takes r0's lock without a marker (as no hadrosaur writer would):
    # the index is not probed again, so r0 stays interrupted there...
    holder = _hold(coll, ["r0"])
    try:
        assert proj.stats("c")["counts"]["interrupted"] == 5
        assert _opening(coll)[1] == 0
        assert proj.status("c", "r0") == "pending", "the files, read directly, say live"
        # ...until its next change marker, which re-reads it: live, so pending.
        (coll / ".updates" / "r0").touch()
        counts = proj.stats("c")["counts"]
        assert (counts["interrupted"], counts["pending"]) == (4, 1)
    finally:
        _kill(holder)
    # Its marker was kept while the lock was held, so the drain notices the death.
    counts = proj.stats("c")["counts"]
    assert (counts["interrupted"], counts["pending"]) == (5, 0)
    assert os.listdir(coll / ".updates" / KEPT_DIR) == []


def test_the_change_log_tells_live_readers_of_a_death(coll: Path) -> None:
    proj = Project(coll.parent, create=False)
    _started(coll, "r")
    holder = _hold(coll, ["r"])
    try:
        cursor = proj.changes("c").cursor
        assert [e.status for e in proj.entries("c")] == ["pending"]
    finally:
        _kill(holder)
    batch = proj.changes("c", cursor)
    assert [(c.ident, c.entry and c.entry.status) for c in batch.changes] == [("r", "interrupted")]


SLOW_PIPELINE = """
import os, time
from pathlib import Path
from hadrosaur import Project

proj = Project(os.environ["HADROSAUR_TEST_BASE"])


@proj.resource("c")
def compute(ident, args, ctx):
    print("computing", flush=True)
    while not Path(args["go"]).exists():  # a deterministic pause, ended by the test
        time.sleep(0.01)
    return ident
"""


@pytest.fixture
def slow(tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pipeline.py").write_text(SLOW_PIPELINE)
    monkeypatch.setenv("HADROSAUR_TEST_BASE", str(base))
    return tmp_path


def _worker(slow: Path, go: Path) -> subprocess.Popen[str]:
    worker = spawn(slow, f'from pipeline import proj\nproj.fetch("c", "r", {{"go": "{go}"}})')
    assert worker.stdout is not None and worker.stdout.readline().strip() == "computing"
    return worker


def test_a_killed_worker_is_interrupted_and_a_recompute_goes_pending_then_completed(
    slow: Path, base: Path, tmp_path: Path
) -> None:
    proj = Project(base)
    worker = _worker(slow, tmp_path / "never")
    assert proj.stats("c")["counts"]["pending"] == 1
    worker.send_signal(signal.SIGKILL)
    worker.communicate()
    counts = proj.stats("c")["counts"]
    assert (counts["pending"], counts["interrupted"]) == (0, 1)
    assert _opening(base / "c")[1] == 0, "recorded once, not probed again"
    go = tmp_path / "go"
    again = _worker(slow, go)
    counts = proj.stats("c")["counts"]
    assert (counts["pending"], counts["interrupted"]) == (1, 0)
    go.touch()
    again.communicate(timeout=60)
    assert again.returncode == 0
    counts = proj.stats("c")["counts"]
    assert (counts["completed"], counts["pending"], counts["interrupted"]) == (1, 0, 0)
    assert proj.check("c") == []


# A reader that stops right after probing the locks of the markers it claimed,
# before reading their files, until told to go on; then prints what it recorded.
PAUSED_READER = """
import sys
from pathlib import Path
from hadrosaur import _markers
from hadrosaur._index import CollectionIndex

real_probe = _markers.probe

def probe(coll_dir, idents):
    found = real_probe(coll_dir, idents)
    print("probed", sorted(found.busy), flush=True)
    sys.stdin.readline()
    return found

_markers.probe = probe
with CollectionIndex(Path(sys.argv[1])) as index:
    print(index.get("r").status, flush=True)
"""


def test_a_reader_deciding_dead_never_hides_a_recompute_that_began_meanwhile(
    slow: Path, base: Path, tmp_path: Path
) -> None:
    """The race of _index/sweep.py's proof, made to happen: probe, recompute, read, write."""
    proj = Project(base)
    worker = _worker(slow, tmp_path / "never")
    worker.send_signal(signal.SIGKILL)
    worker.communicate()
    with proj.view("c") as v:
        assert v.rebuilt
        assert v.counts()["interrupted"] == 1
    (base / "c" / ".updates" / "r").touch()  # something for the reader to claim and probe
    with subprocess.Popen(
        [sys.executable, "-c", PAUSED_READER, str(base / "c")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(REPO),
    ) as reader:
        assert reader.stdin is not None and reader.stdout is not None
        assert reader.stdout.readline().strip() == "probed []", "r's lock was free"
        go = tmp_path / "go"
        again = _worker(slow, go)  # lock, marker, pending: all after the reader's probe
        assert (base / "c" / ".updates" / "r").exists()
        reader.stdin.write("\n")
        reader.stdin.flush()
        # It read the new pending after a free probe: it records interrupted...
        assert reader.stdout.readline().strip() == "interrupted"
        assert reader.wait(timeout=60) == 0
    # ...but the recompute's marker, made after the probe, was not its to claim:
    # the next reader applies it, and the live recompute shows as pending.
    counts = proj.stats("c")["counts"]
    assert (counts["pending"], counts["interrupted"]) == (1, 0)
    go.touch()
    again.communicate(timeout=60)
    assert proj.stats("c")["counts"]["completed"] == 1
    assert proj.check("c") == []


def test_many_live_pending_are_probed_at_most_once_per_interval_and_a_bounded_time(
    coll: Path,
) -> None:
    idents = [f"r{i:04d}" for i in range(FEW_KEPT + 600)]
    for ident in idents:
        _started(coll, ident)
    holder = _hold(coll, idents)
    try:
        stored, probed = _opening(coll)  # applies every marker: kept, their locks held
        assert stored["pending"] == len(idents) and probed == len(idents)
        assert len(os.listdir(coll / ".updates" / KEPT_DIR)) == len(idents)
        # Within the interval, a process does not examine them again.
        assert _opening(coll, sweep_interval=3600)[1] == 0
        # Once due, an opening spends a bounded time on live ones (here: one share),
        # and the next due opening resumes with the rest, so every one is examined in turn.
        reset_sweeps(coll)
        with CollectionIndex(coll, sweep_budget=0) as index:
            first = index.probed
            assert not index.sweep_unfinished, "nothing urgent: all of them are live"
        assert 0 < first < len(idents)
        assert _opening(coll, sweep_interval=3600)[1] == 0
        assert _opening(coll, sweep_interval=0)[1] == len(idents) - first
    finally:
        _kill(holder)
    reset_sweeps(coll)
    stored, probed = _opening(coll)
    assert (stored["interrupted"], stored["pending"]) == (len(idents), 0)
    assert probed == len(idents)
    assert _opening(coll)[1] == 0 and os.listdir(coll / ".updates" / KEPT_DIR) == []


def test_a_mass_death_found_half_way_through_a_pass_is_recorded_whole(coll: Path) -> None:
    """The sweep goes on past the last name and round to where it began while it finds deaths.

    It used to stop at the end of the names and leave the first ones (examined
    just before the deaths) for a sweep an interval later. However many
    openings the time bounds split it into (more under load), none waits.
    """
    idents = [f"r{i:04d}" for i in range(FEW_KEPT + 1200)]
    for ident in idents:
        _started(coll, ident)
    holder = _hold(coll, idents)
    try:
        _opening(coll)  # every marker kept, their locks held
        reset_sweeps(coll)
        with CollectionIndex(coll, sweep_budget=0) as index:  # one share of live ones
            first = index.probed
        assert 0 < first < len(idents)
    finally:
        _kill(holder)
    # The next due opening resumes after that share; the openings that go on with
    # the deaths are due at once, whatever the interval, until the pass is done.
    interval, probed, openings = 0, 0, 0
    while True:
        with CollectionIndex(coll, sweep_interval=interval) as index:
            stored, unfinished = index.counts(), index.sweep_unfinished
            probed += index.probed
        interval, openings = 3600, openings + 1
        if not unfinished or openings > 100:
            break
    assert (stored["interrupted"], stored["pending"]) == (len(idents), 0)
    assert probed == len(idents)
    assert os.listdir(coll / ".updates" / KEPT_DIR) == []


def test_a_sweep_due_a_moment_from_now_runs_now(coll: Path) -> None:
    """A reader polling every sweep_interval must find the sweep due, not just short of it.

    Its pass starts a little before the sweep does, by a time that varies:
    without the tolerance, every other poll found the sweep not yet due and a
    death waited two intervals.
    """
    idents = [f"r{i:04d}" for i in range(FEW_KEPT + 1)]
    for ident in idents:
        _started(coll, ident)
    holder = _hold(coll, idents)
    try:
        reset_sweeps(coll)
        _opening(coll, sweep_interval=0)  # kept; the sweep then probes them all
        time.sleep(2.8)  # (a tenth of the interval early; the openings take a little more)
        assert _opening(coll, sweep_interval=3.0)[1] == len(idents)
    finally:
        _kill(holder)


def test_markers_kept_after_a_sweep_released_some_are_swept(coll: Path) -> None:
    """A sweep that unlinked kept markers keeps its listing; a marker kept later is still seen."""
    first = [f"a{i:04d}" for i in range(FEW_KEPT + 100)]
    for ident in first:
        _started(coll, ident)
    holder = _hold(coll, first)
    _opening(coll)
    _kill(holder)
    reset_sweeps(coll)
    assert _opening(coll, sweep_interval=0)[0]["interrupted"] == len(first)
    second = ["b0000", "b0001"]
    for ident in second:
        _started(coll, ident)
    holder = _hold(coll, second)
    try:
        assert _opening(coll, sweep_interval=0)[0]["pending"] == len(second)
        assert sorted(os.listdir(coll / ".updates" / KEPT_DIR)) == second
    finally:
        _kill(holder)
    stored, probed = _opening(coll, sweep_interval=0)
    assert (stored["interrupted"], stored["pending"]) == (len(first) + len(second), 0)
    assert probed == len(second)


def test_a_rebuild_probes_pending_resources_once(coll: Path) -> None:
    proj = Project(coll.parent, create=False)
    for ident in ("dead", "live"):
        _started(coll, ident)
        (coll / ".updates" / ident).unlink()  # as after a crash that lost the markers
    holder = _hold(coll, ["live"])
    try:
        counts = proj.reindex("c")["c"]
        assert (counts["interrupted"], counts["pending"]) == (1, 1)
        assert os.listdir(coll / ".updates" / KEPT_DIR) == ["live"]
    finally:
        _kill(holder)
    assert proj.fetch_by_status("c", "interrupted") == ["dead", "live"]
    assert proj.check("c") == []


def test_another_hosts_pending_resource_stays_pending(coll: Path) -> None:
    proj = Project(coll.parent, create=False)
    _started(coll, "r")
    meta: dict[str, Any] = {"start_time": 1, "end_time": None, "host": "elsewhere.example"}
    (coll / "r" / "meta.json").write_text(json.dumps(meta))
    assert proj.stats("c")["counts"]["pending"] == 1
    assert proj.reindex("c")["c"]["pending"] == 1
    assert proj.check("c") == []


@pytest.mark.parametrize(("host", "after_death"), [("elsewhere.example", "pending"), ("", "")])
def test_a_kept_marker_whose_lock_comes_free_is_settled_by_its_host(
    coll: Path, host: str, after_death: str
) -> None:
    """The sweep records a death from the index alone only for this host's resources."""
    proj = Project(coll.parent, create=False)
    _started(coll, "r")
    if host:
        meta = {"start_time": 1, "end_time": None, "pid": 1, "host": host}
        (coll / "r" / "meta.json").write_text(json.dumps(meta))
    holder = _hold(coll, ["r"])
    try:
        assert proj.stats("c")["counts"]["pending"] == 1
        assert os.listdir(coll / ".updates" / KEPT_DIR) == ["r"], "held: its marker is kept"
        with proj.view("c") as view:
            entry = view.entry("r")
            assert entry is not None and entry.host == (host or local_host())
    finally:
        _kill(holder)
    with proj.view("c") as view:
        entry = view.entry("r")
        assert entry is not None
        assert entry.status == (after_death or "interrupted")
        assert entry.host == (host or local_host()) and entry.start_time == 1
    assert proj.check("c") == []


def test_a_kept_resource_whose_files_changed_is_read_again_not_taken_from_the_index(
    coll: Path,
) -> None:
    """Completed just before its worker died: the status file wins over the index."""
    proj = Project(coll.parent, create=False)
    _started(coll, "r")
    holder = _hold(coll, ["r"])
    try:
        assert proj.stats("c")["counts"]["pending"] == 1
        (coll / "r" / "status").write_text("completed")  # no marker: the kept one covers it
    finally:
        _kill(holder)
    counts = proj.stats("c")["counts"]
    assert (counts["completed"], counts["pending"], counts["interrupted"]) == (1, 0, 0)


def test_a_worker_killed_between_its_end_time_and_its_status_is_interrupted_alike(
    coll: Path,
) -> None:
    """Its last meta.json (with an end time) came after its pending entry, with no marker.

    The sweep records the death from the pending entry; a scan reads the end
    time: an interrupted entry has none either way, so the two agree (found
    by the kill suite).
    """
    proj = Project(coll.parent, create=False)
    _started(coll, "r")
    holder = _hold(coll, ["r"])
    try:
        assert proj.stats("c")["counts"]["pending"] == 1
        meta = {"start_time": 1, "end_time": 9, "pid": 1, "host": local_host()}
        (coll / "r" / "meta.json").write_text(json.dumps(meta))  # then killed: no status
    finally:
        _kill(holder)
    with proj.view("c") as view:
        assert view.entry("r") == Entry("r", "interrupted", 1, None, "", local_host())
    assert proj.check("c") == []
    proj.reindex("c")
    with proj.view("c") as view:
        assert view.entry("r") == Entry("r", "interrupted", 1, None, "", local_host())


def test_an_index_of_schema_2_is_rebuilt_with_interrupted_stored(coll: Path) -> None:
    from hadrosaur._index.kv import plyvel  # the LevelDB binding installed for this Python

    proj = Project(coll.parent, create=False)
    _started(coll, "r")
    proj.stats("c")
    db = plyvel.DB(str(coll / ".index"))
    try:
        db.put(b"a/v", b"2")  # as the previous release left it: interrupted not stored
        db.delete(b"c/interrupted")
    finally:
        db.close()
    with proj.view("c") as v:
        assert v.rebuilt
        assert v.counts()["interrupted"] == 1
