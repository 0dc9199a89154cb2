"""A full disk and a read-only directory, for real: a small tmpfs and a read-only bind mount.

Both need mount(2), so they run as root (CI containers, sandboxes) and are
skipped with the reason otherwise; permission bits are no substitute, since
root ignores them. What must hold: fetch fails with a StorageError that names
the resource directory, no status says completed without a valid result,
readers keep answering truthfully (from a scan when the index cannot be
written), and once space or write access is back, a fetch finishes the job
and the index agrees with the directories again.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import HadrosaurError, Project, StorageError

from ..helpers import REPO, wait_for
from .checks import survey


def _mount(*args: str) -> None:
    for _ in range(100):
        done = subprocess.run(["mount", *args], capture_output=True, text=True)
        if done.returncode == 0:
            return
        # A read-only remount fails while a file is open for writing on the new
        # mount (the worker writes all the time): retry briefly.
        if "busy" not in done.stderr:
            break
        time.sleep(0.02)
    pytest.skip(f"cannot mount here ({' '.join(args)}): {done.stderr.strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True)
    if os.path.ismount(path):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextmanager
def mounted(path: Path, *args: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs or a read-only bind mount needs root")
    path.mkdir(parents=True, exist_ok=True)
    try:
        # Inside the try: a bind mount made read-only in two steps stays
        # mounted when the second step fails, and _mount then skips the test.
        _mount(*args, str(path))
        yield path
    finally:
        _umount(path)


def big_result(ident: str, args: Any, ctx: Any) -> Any:
    ctx.logger.info("computing %s", ident)
    if ident.startswith("fail"):
        raise ValueError(f"failing on purpose: {ident}")
    return {"ident": ident, "payload": "x" * 90_000}


def _expected(ident: str) -> Any:
    return {"ident": ident, "payload": "x" * 90_000}


def _reads_truthfully(proj: Project, coll_dir: Path) -> None:
    found = survey(coll_dir, quiescent=True, expected=_expected)
    assert found.violations == []
    truth = Counter(found.states.values())
    counts = proj.stats("c")["counts"]
    for status in ("completed", "error", "interrupted"):
        assert counts[status] == truth[status], (status, counts, dict(truth))
    assert len(proj.fetch_by_status("c", "completed")) == truth["completed"]
    assert {e.ident for e in proj.entries("c")} >= {
        i for i, s in found.states.items() if s != "none"
    }
    for ident, state in found.states.items():
        assert proj.status("c", ident) == ("unavailable" if state == "none" else state)
        res = proj.load("c", ident)
        if res.status == "completed":
            assert res.result == _expected(ident)


def test_a_full_disk_fails_fetch_clearly_and_loses_nothing(tmp_path: Path) -> None:
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=2m", "tmpfs") as disk:
        proj = Project(disk / "base")
        proj.resource("c")(big_result)
        failures: list[StorageError] = []
        idents = [f"{'fail' if n % 4 == 3 else 'ok'}-{n:02d}" for n in range(40)]
        for ident in idents:
            try:
                proj.fetch("c", ident)
            except StorageError as exc:
                failures.append(exc)
            if len(failures) >= 3:
                break
        # Fill whatever is left, so that even the index cannot grow.
        with open(disk / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        for ident in idents[-5:]:
            try:
                proj.fetch("c", ident)
            except StorageError as exc:
                failures.append(exc)
        assert failures, "the disk never filled up"
        for exc in failures:
            assert exc.errno == errno.ENOSPC
            assert str(disk / "base" / "c") in str(exc) and "nothing was marked" in str(exc)
        _reads_truthfully(proj, disk / "base" / "c")  # the index cannot be written now

        (disk / "filler").unlink()
        _mount("-o", "remount,size=8m", str(disk))  # space is back
        for ident in idents:
            res = proj.fetch("c", ident)
            assert res.status == ("error" if ident.startswith("fail") else "completed")
        assert proj.check("c") == []
        _reads_truthfully(proj, disk / "base" / "c")


WORKER = """
import sys, time
from hadrosaur import Project, StorageError
from tests.reliability.test_disk import big_result

proj = Project(sys.argv[1])
proj.resource("c")(big_result)
failed = done = 0
n = 0
while True:
    try:
        proj.fetch("c", f"ok-{n:04d}")
        done += 1
        n += 1
        if done == 5:
            print("started", flush=True)
    except StorageError as exc:
        if failed == 0:
            print("failed", exc, flush=True)
        failed += 1
        time.sleep(0.01)
    if len(sys.argv) > 2 and failed and done > int(sys.argv[2]) and n > 40:
        break
    time.sleep(0.002)
print("done", done, failed, flush=True)
"""


def test_a_directory_made_read_only_mid_run(tmp_path: Path) -> None:
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(big_result)
    proj.fetch("c", "before")
    proj.stats("c")  # an index exists, with a lock file: both now unwritable
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(base), "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    try:
        assert worker.stdout.readline().strip() == "started"
        with mounted(base, "-o", "bind,ro", str(base)):
            line = worker.stdout.readline()
            assert line.startswith("failed"), line
            assert "Read-only file system" in line and str(base / "c") in line
            # Readers keep working: the index cannot be opened, so they scan.
            _reads_truthfully(proj, base / "c")
            with proj.view("c") as v:
                assert v.fallback, "a read-only index must be read from a scan"
            assert proj.fetch("c", "before").result == _expected("before")  # cached: no write
            with pytest.raises(StorageError) as caught:
                proj.fetch("c", "new")
            assert caught.value.errno == errno.EROFS
            assert isinstance(caught.value, HadrosaurError) and isinstance(caught.value, OSError)
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.strip().splitlines()[-1].startswith("done")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert proj.check("c") == []
    _reads_truthfully(proj, base / "c")
    assert proj.fetch("c", "new").status == "completed"


def test_stats_reads_a_read_only_collection_without_an_index(tmp_path: Path) -> None:
    """A base copied from elsewhere, read-only, never indexed: stats scans it."""
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(big_result)
    for ident in ("ok-1", "ok-2", "fail-1"):
        proj.fetch("c", ident)
    reader = Project(base, create=False)
    with mounted(base, "-o", "bind,ro", str(base)):
        counts = reader.stats("c")["counts"]
        assert (counts["completed"], counts["error"], counts["total"]) == (2, 1, 3)
        assert reader.fetch_by_status("c", "error") == ["fail-1"]
        assert reader.check("c") == []
        assert reader.reindex("c")["c"]["completed"] == 2
        assert not (base / "c" / ".index").exists()
    wait_for(lambda: not os.path.ismount(base))
    assert reader.stats("c")["counts"]["completed"] == 2
    assert (base / "c" / ".index").is_dir()


def test_cli_reindex_of_a_read_only_base_says_it_could_not(tmp_path: Path) -> None:
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(big_result)
    proj.fetch("c", "ok-1")
    assert not (base / "c" / ".index").exists()  # workers never make one; readers do
    with mounted(base, "-o", "bind,ro", str(base)):
        done = subprocess.run(
            [sys.executable, "-m", "hadrosaur", "reindex", str(base)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1, done
    assert "rebuilt" not in done.stdout
    assert "cannot write the index of 'c'" in done.stderr
    assert "Read-only file system" in done.stderr
    assert "c " in done.stdout  # the counts, from a scan
