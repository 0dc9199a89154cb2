"""F6: ``hadrosaur reindex`` goes on past a collection it refuses and ends with the worst code.

Real files and a real read-only bind mount (root only: skipped elsewhere).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hadrosaur import Project

from .helpers import REPO
from .reliability.test_disk import mounted


def _two_collections(base: Path) -> None:
    proj = Project(base)
    for name in ("a", "z"):
        proj.resource(name)(_one)
        for ident in "123":
            proj.fetch(name, ident)


def _one(ident: str, args: object, ctx: object) -> int:
    return 1


def _reindex(base: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur", "reindex", str(base)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_refused_collection_does_not_stop_the_others(tmp_path: Path) -> None:
    base = tmp_path / "base"
    _two_collections(base)
    lock = base / "a" / ".index.lock"
    lock.unlink(missing_ok=True)
    (lock / "keep").mkdir(parents=True)  # not hadrosaur's: refused, never removed
    done = _reindex(base)
    assert done.returncode == 2, done
    assert "skipped 'a': refusing " in done.stderr and "not empty" in done.stderr
    assert (base / "z" / ".index").is_dir()
    assert done.stdout.splitlines()[1].split()[:2] == ["z", "3"]  # the counts of the rest
    assert "rebuilt the index of 1 collection(s)" in done.stdout
    assert (lock / "keep").is_dir()


def test_a_read_only_base_with_a_damaged_layout_gives_the_counts_of_a_scan(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    _two_collections(src)
    updates = src / "a" / ".updates"
    for marker in updates.iterdir():
        marker.unlink()
    updates.rmdir()
    os.mkfifo(updates)  # repair would remove it, but the base is read-only
    ro = tmp_path / "ro"
    ro.mkdir()
    with mounted(ro, "--bind", str(src)), mounted(ro, "-o", "remount,bind,ro"):
        done = _reindex(ro)
    assert done.returncode == 1, done
    assert f"cannot repair {ro}/a/.updates (read-only)" in done.stderr
    assert "Errno" not in done.stderr.splitlines()[0]
    rows = [line.split()[:2] for line in done.stdout.splitlines()[1:]]
    assert rows == [["a", "3"], ["z", "3"]]
