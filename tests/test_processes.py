"""Several real processes on one base directory: readers, writers, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur._collections import is_collection_dir

from .helpers import run_child, spawn, wait_for


def test_readers_never_fail_while_another_process_computes(
    pipeline: Path, base: Path, proj: Project
) -> None:
    writer = spawn(
        pipeline,
        """
        from pipeline import proj
        for i in range(300):
            proj.fetch("items", f"r{i}" if i % 10 else f"fail-{i}")
        """,
    )
    other_reader = spawn(
        pipeline,
        """
        import time
        from hadrosaur import Project
        from pipeline import proj
        for _ in range(100):
            proj.fetch_by_status("items", "error")
            proj.stats()
        """,
    )
    wait_for(lambda: is_collection_dir(base / "items"))
    seen = [proj.stats("items")["counts"] for _ in range(100)]
    for child in (writer, other_reader):
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    done = [c["completed"] + c["error"] for c in seen]
    assert done == sorted(done), "finished counts must never go down"
    assert all(c["total"] == sum(v for k, v in c.items() if k != "total") for c in seen)
    final = proj.stats("items")["counts"]
    assert (final["completed"], final["error"], final["pending"]) == (270, 30, 0)


def test_three_processes_fetching_one_ident_compute_it_once(pipeline: Path, base: Path) -> None:
    code = """
        from pipeline import proj
        print(proj.fetch("items", "slow-1", {"sleep": 1.0}).result["pid"])
        """
    children = [spawn(pipeline, code) for _ in range(3)]
    pids = set()
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        pids.add(out.strip())
    assert len(pids) == 1, "all three must get the one computed result"
    runs = (base / "items" / "slow-1" / "storage" / "runs").read_text().split()
    assert runs == list(pids)


def test_a_killed_worker_leaves_interrupted_and_fetch_recomputes(
    pipeline: Path, base: Path, proj: Project
) -> None:
    worker = spawn(
        pipeline, 'from pipeline import proj\nproj.fetch("items", "slow-1", {"sleep": 60})'
    )
    status = base / "items" / "slow-1" / "status"
    wait_for(lambda: status.exists() and status.read_text() == "pending")
    assert proj.status("items", "slow-1") == "pending"
    assert proj.stats("items")["counts"]["pending"] == 1
    worker.send_signal(signal.SIGKILL)
    worker.communicate()
    assert proj.status("items", "slow-1") == "interrupted"
    counts = proj.stats("items")["counts"]
    assert (counts["pending"], counts["interrupted"], counts["total"]) == (0, 1, 1)
    assert proj.fetch_by_status("items", "interrupted") == ["slow-1"]
    out = run_child(
        pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "slow-1", {"sleep": 0})
        print(res.status, res.attempt)
        """,
    )
    assert out.split() == ["completed", "2"]
    assert proj.stats("items")["counts"]["completed"] == 1
    assert len((base / "items" / "slow-1" / "storage" / "runs").read_text().split()) == 2


def test_a_waiting_fetch_blocks_on_a_live_pending_resource(pipeline: Path, base: Path) -> None:
    first = spawn(
        pipeline, 'from pipeline import proj\nproj.fetch("items", "slow-1", {"sleep": 1.5})'
    )
    status = base / "items" / "slow-1" / "status"
    wait_for(lambda: status.exists() and status.read_text() == "pending")
    out = run_child(
        pipeline,
        """
        from pipeline import proj
        print(proj.fetch("items", "slow-1", {"sleep": 0}).attempt)
        """,
    )
    first.communicate(timeout=60)
    assert out.strip() == "1", "the second fetch must wait and reuse the first result"


STALLING_DRAINER = """
import sys, time
from pathlib import Path
from hadrosaur import _markers
from hadrosaur._index import CollectionIndex
from hadrosaur._index.writes import IndexWriter

def stall(*args, **kwargs):
    print("stalled", flush=True)
    time.sleep(120)

if sys.argv[2] == "before-apply":
    IndexWriter.apply_resources = stall
else:
    _markers.release_claimed = stall
with CollectionIndex(Path(sys.argv[1])):
    pass
"""


@pytest.mark.parametrize("stage", ["before-apply", "after-apply"])
def test_a_drainer_killed_between_claim_and_unlink_loses_nothing(base: Path, stage: str) -> None:
    proj = Project(base)

    @proj.resource("c")
    def f(ident: str, args: Any, ctx: Any) -> str:
        if ident.startswith("bad"):
            raise ValueError(ident)
        return ident

    proj.fetch("c", "early")
    cursor = proj.changes("c").cursor
    idents = ["a", "b", "bad-1", "d"]
    for ident in idents:
        proj.fetch("c", ident)
    with subprocess.Popen(
        [sys.executable, "-c", STALLING_DRAINER, str(base / "c"), stage],
        stdout=subprocess.PIPE,
        text=True,
    ) as drainer:
        assert drainer.stdout is not None and drainer.stdout.readline().strip() == "stalled"
        claimed = base / "c" / ".updates" / ".claimed"
        assert sorted(os.listdir(claimed)) == sorted(idents)
        drainer.send_signal(signal.SIGKILL)
    batch = proj.changes("c", cursor)
    assert sorted(c.ident for c in batch.changes) == sorted(idents), "each applied exactly once"
    assert proj.stats("c")["counts"] == {
        "total": 5,
        "completed": 4,
        "pending": 0,
        "interrupted": 0,
        "error": 1,
        "unavailable": 0,
    }
    assert os.listdir(base / "c" / ".updates" / ".claimed") == []


def _fast_tmp(tmp_path: Path) -> Path:
    """A directory on tmpfs when the machine has one: the test is about fds, not the disk."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        import tempfile

        return Path(tempfile.mkdtemp(prefix="hadrosaur-fd-", dir=shm))
    return tmp_path


FD_CHILD = """
import os, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
from hadrosaur import Project
proj = Project(sys.argv[1])

@proj.resource("many")
def compute(ident, args, ctx):
    ctx.logger.info("computing %s", ident)
    if ident.endswith("7"):
        raise ValueError("every tenth fails")
    return int(ident)

n = int(sys.argv[2])
for i in range(n):
    res = proj.fetch("many", str(i))
print(len(os.listdir("/proc/self/fd")), proj.stats("many")["counts"]["completed"])
"""


@pytest.mark.slow
def test_100k_fetches_fit_in_256_file_descriptors(tmp_path: Path) -> None:
    base = _fast_tmp(tmp_path) / "base"
    n = 100_000
    try:
        child = subprocess.run(
            [sys.executable, "-c", FD_CHILD, str(base), str(n)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert child.returncode == 0, child.stderr[-2000:]
        open_fds, completed = map(int, child.stdout.split())
        assert open_fds < 20, "no descriptors may accumulate"
        assert completed == n - n // 10
    finally:
        import shutil

        shutil.rmtree(base.parent, ignore_errors=True)
