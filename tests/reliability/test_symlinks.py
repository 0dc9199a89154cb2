"""Nothing outside BASE, ever: a symlink found inside BASE is never followed.

A resource's status, meta.json, result.json, run.log or error.log may be a
symlink to a secret file outside the base directory, a resource directory
may be a symlink to another directory, and an ident may be a plain file.
None of it is followed: the secret never appears in anything the library,
the index or the command line (run as a real subprocess) gives back, and a
recompute neither reads, writes nor deletes anything in the link's target.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import HadrosaurError, Project, RefusedPath
from hadrosaur._index.kv import plyvel  # the LevelDB binding installed for this Python

from ..helpers import REPO

SECRET = "SECRET-CONTENT"
LINKED_FILES = ("status", "meta.json", "result.json", "run.log", "error.log")


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    ctx.logger.info("computing %s", ident)
    if ident.startswith("fail"):
        raise ValueError(f"failing on purpose: {ident}")
    return {"ident": ident}


def _outside(tmp_path: Path) -> Path:
    """A directory outside BASE, full of files a recompute must leave alone."""
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in (*LINKED_FILES, "run.log.1", "secret.txt"):
        (outside / name).write_text(f"{SECRET} in {name}\n")
    (outside / "storage").mkdir()
    (outside / "storage" / "data").write_text(f"{SECRET} in storage\n")
    return outside


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """A base whose collection holds one resource linked out in each way; and the outside."""
    outside = _outside(tmp_path)
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(_compute)
    idents = [f"link-{name}" for name in LINKED_FILES] + ["fail-link-error.log", "sound"]
    for ident in idents:
        proj.fetch("c", ident)
    proj.stats("c")
    coll = base / "c"
    for name in LINKED_FILES:
        ident = "fail-link-error.log" if name == "error.log" else f"link-{name}"
        (coll / ident / name).unlink(missing_ok=True)
        (coll / ident / name).symlink_to(outside / "secret.txt")
    (coll / "link-dir").symlink_to(outside)
    (coll / "plain-file").write_text(f"{SECRET} in a plain file\n")
    for marker in (*idents, "link-dir", "plain-file"):
        (coll / ".updates" / marker).touch()  # as a writer would
    return base, outside


def _all_idents(base: Path) -> list[str]:
    return sorted(p.name for p in (base / "c").iterdir() if not p.name.startswith("."))


def _index_bytes(base: Path) -> bytes:
    db = plyvel.DB(str(base / "c" / ".index"))
    try:
        return b"".join(k + b"=" + v for k, v in db)
    finally:
        db.close()


def test_the_library_never_reads_a_linked_file(linked: tuple[Path, Path]) -> None:
    base, _ = linked
    proj = Project(base, create=False)
    shown: list[str] = []
    for ident in _all_idents(base):
        res = proj.load("c", ident, strict=False)
        shown.append(repr(res))
        for read in (proj.fetch_log, proj.fetch_error):
            try:
                shown.append(read("c", ident))
            except HadrosaurError as exc:
                shown.append(str(exc))
        shown.append(proj.status("c", ident))
    shown.append(json.dumps(proj.stats("c")))
    for status in ("completed", "error", "pending", "interrupted", "unavailable"):
        shown.append(" ".join(proj.fetch_by_status("c", status)))
    shown.append(repr(proj.entries("c")))
    assert SECRET not in "\n".join(shown)
    assert SECRET.encode() not in _index_bytes(base)


def test_linked_files_read_as_damaged_with_the_reason(linked: tuple[Path, Path]) -> None:
    base, _ = linked
    proj = Project(base, create=False)
    for ident in ("link-status", "link-meta.json", "link-dir"):
        res = proj.load("c", ident, strict=False)
        assert res.status == "error" and "symlink refused" in res.problem, res
        assert proj.status("c", ident) == "error"
    res = proj.load("c", "link-result.json", strict=False)
    assert res.result is None and "result.json: symlink refused" in res.problem
    plain = proj.load("c", "plain-file", strict=False)
    assert plain.status == "error" and "not a directory (a regular file)" in plain.problem
    with pytest.raises(HadrosaurError, match=r"run\.log: symlink refused"):
        proj.fetch_log("c", "link-run.log")
    with pytest.raises(HadrosaurError, match=r"error\.log: symlink refused"):
        proj.fetch_error("c", "fail-link-error.log")
    with pytest.raises(RefusedPath, match="symbolic link"):
        proj.fetch_log("c", "link-dir")
    reasons = {e.ident: e.reason for e in proj.entries("c")}
    assert "symlink refused" in reasons["link-status"]
    assert "symlink refused" in reasons["link-meta.json"]
    assert "symlink refused" in reasons["link-dir"]
    assert "error.log: symlink refused" in reasons["fail-link-error.log"]
    assert "regular file" in reasons["plain-file"]


def test_a_rebuilt_index_holds_no_secret(linked: tuple[Path, Path]) -> None:
    base, _ = linked
    proj = Project(base, create=False)
    counts = proj.reindex("c")["c"]
    assert counts["total"] == len(_all_idents(base))
    assert SECRET.encode() not in _index_bytes(base)
    assert proj.check("c") == []  # a drain and a scan agree on every odd entry


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # A deadline, not a timing assertion: a reader stuck on a FIFO would never return.
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_command_line_never_prints_a_linked_file(linked: tuple[Path, Path]) -> None:
    base, _ = linked
    outputs = []
    for argv in (["ls"], ["ls", "--json"], ["stats", "--json"], ["reindex", "--json"]):
        done = _cli(argv[0], str(base), *(["c"] if argv[0] == "ls" else []), *argv[1:])
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout + done.stderr)
    for ident in _all_idents(base):
        for command in (["show"], ["show", "--json"], ["log"], ["error"]):
            done = _cli(command[0], str(base), "c", ident, *command[1:])
            text = done.stdout + done.stderr
            assert "Traceback" not in text, text
            outputs.append(text)
    joined = "\n".join(outputs)
    assert SECRET not in joined
    assert "symlink refused" in joined


@pytest.mark.parametrize(
    ("command", "ident"),
    [("log", "link-run.log"), ("error", "fail-link-error.log"), ("log", "link-dir")],
)
def test_log_and_error_of_a_refused_file_fail_clearly(
    linked: tuple[Path, Path], command: str, ident: str
) -> None:
    base, _ = linked
    done = _cli(command, str(base), "c", ident)
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("hadrosaur: error:"), done.stderr
    assert "symbolic link" in done.stderr or "symlink refused" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("ident", ["link-dir", "plain-file"])
def test_show_says_a_linked_or_plain_file_ident_is_damaged(
    linked: tuple[Path, Path], ident: str
) -> None:
    base, _ = linked
    done = _cli("show", str(base), "c", ident, "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["status"] == "error"
    assert "resource directory damaged" in info["problem"]


def test_a_recompute_refuses_a_linked_resource_directory(linked: tuple[Path, Path]) -> None:
    base, outside = linked
    before = _snapshot(outside)
    proj = Project(base)
    proj.resource("c")(_compute)
    for recompute in (True, False):
        with pytest.raises(RefusedPath, match="symbolic link") as caught:
            proj.fetch("c", "link-dir", recompute=recompute)
        assert caught.value.path == base / "c" / "link-dir"
    with pytest.raises(RefusedPath, match="regular file"):
        proj.fetch("c", "plain-file", recompute=True)
    assert _snapshot(outside) == before  # byte-identical, nothing deleted, nothing added
    assert (base / "c" / "link-dir").is_symlink()


def test_a_recompute_replaces_linked_files_and_leaves_their_target(
    linked: tuple[Path, Path],
) -> None:
    base, outside = linked
    before = _snapshot(outside)
    proj = Project(base)
    proj.resource("c")(_compute)
    for name in LINKED_FILES:
        ident = "fail-link-error.log" if name == "error.log" else f"link-{name}"
        res = proj.fetch("c", ident, recompute=True)
        assert res.status == ("error" if ident.startswith("fail") else "completed")
        path = base / "c" / ident / name
        assert not path.is_symlink()  # replaced (status, meta, result) or removed (logs)
        assert SECRET not in proj.fetch_log("c", ident) + proj.fetch_error("c", ident)
    assert _snapshot(outside) == before


def test_a_linked_storage_directory_is_refused_to_the_function(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    before = _snapshot(outside)
    proj = Project(tmp_path / "base")

    @proj.resource("c")
    def compute(ident: str, args: Any, ctx: Any) -> Any:
        (ctx.subdir / "data").write_text("written by the function")
        return 1

    (tmp_path / "base" / "c" / "x").mkdir()
    (tmp_path / "base" / "c" / "x" / "storage").symlink_to(outside / "storage")
    res = proj.fetch("c", "x")
    assert res.status == "error"
    assert "RefusedPath" in proj.fetch_error("c", "x")
    assert "symbolic link, not a storage directory" in proj.fetch_error("c", "x")
    assert _snapshot(outside) == before


def test_a_linked_log_is_not_written_through(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    before = _snapshot(outside)
    proj = Project(tmp_path / "base")

    @proj.resource("c")
    def compute(ident: str, args: Any, ctx: Any) -> Any:
        # A stray tool links run.log out while the function runs.
        os.symlink(outside / "run.log", tmp_path / "base" / "c" / ident / "run.log")
        ctx.logger.info("this line must not reach the link's target")
        return 1

    assert proj.fetch("c", "x").status == "completed"
    assert _snapshot(outside) == before


def test_a_linked_collection_is_skipped_and_refused(tmp_path: Path) -> None:
    elsewhere = Project(tmp_path / "elsewhere")
    elsewhere.resource("c")(_compute)
    elsewhere.fetch("c", "x")
    base = tmp_path / "base"
    base.mkdir()
    (base / "linked").symlink_to(tmp_path / "elsewhere" / "c")
    proj = Project(base, create=False)
    assert proj.collections() == []
    assert proj.stats() == {}
    with pytest.raises(RefusedPath, match="not a collection directory"):
        proj.stats("linked")
    with pytest.raises(RefusedPath):
        proj.resource("linked")(_compute)


def test_a_fifo_in_place_of_a_file_does_not_hang_a_reader(tmp_path: Path) -> None:
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(_compute)
    for ident in ("fifo-status", "fifo-meta", "fifo-result", "fail-fifo-error", "fifo-log"):
        proj.fetch("c", ident)
    coll = base / "c"
    for ident, name in (
        ("fifo-status", "status"),
        ("fifo-meta", "meta.json"),
        ("fifo-result", "result.json"),
        ("fail-fifo-error", "error.log"),
        ("fifo-log", "run.log"),
    ):
        (coll / ident / name).unlink()
        os.mkfifo(coll / ident / name)
        (coll / ".updates" / ident).touch()
    for command in ("ls", "show", "log", "error"):
        for ident in ("fifo-status", "fifo-meta", "fifo-result", "fail-fifo-error", "fifo-log"):
            argv = [command, str(base), "c"] + ([] if command == "ls" else [ident])
            done = _cli(*argv)  # returns at all: nothing waited on a FIFO for a writer
            assert "Traceback" not in done.stderr, done.stderr
    res = proj.load("c", "fifo-status", strict=False)
    assert res.status == "error" and "not a regular file (a FIFO)" in res.problem


def test_a_linked_lock_file_is_refused_and_nothing_is_created_outside(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    proj.fetch("c", "x")
    lock = tmp_path / "base" / "c" / "x" / ".lock"
    lock.unlink()
    lock.symlink_to(tmp_path / "created-outside")  # O_CREAT through it would create this
    with pytest.raises(RefusedPath, match="not a lock file"):
        proj.fetch("c", "x", recompute=True)
    assert not (tmp_path / "created-outside").exists()
    assert proj.load("c", "x").status == "completed"  # the last attempt is left as it was


def test_a_pending_resource_turned_into_a_link_is_not_probed_through_it(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    (outside / "status").write_text("completed")  # what a probe through the link would see
    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    res_dir = tmp_path / "base" / "c" / "x"
    res_dir.mkdir()
    (res_dir / "status").write_text("pending")
    (tmp_path / "base" / "c" / ".updates" / "x").touch()
    assert [e.status for e in proj.entries("c")] == ["interrupted"]  # indexed as pending
    (res_dir / "status").unlink()
    res_dir.rmdir()
    res_dir.symlink_to(outside)  # no marker: the index keeps what it recorded, unprobed
    assert [e.status for e in proj.entries("c")] == ["interrupted"]  # never "completed"
    (tmp_path / "base" / "c" / ".updates" / "x").touch()  # the next change is read, not followed
    entries = proj.entries("c")
    assert [e.status for e in entries] == ["error"] and "symlink refused" in entries[0].reason


def test_a_linked_collection_file_is_not_read(tmp_path: Path) -> None:
    from hadrosaur._reference import read_collection_file

    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    coll = tmp_path / "base" / "c"
    assert read_collection_file(coll)["name"] == "c"
    (tmp_path / "elsewhere.json").write_bytes((coll / ".collection.json").read_bytes())
    (coll / ".collection.json").unlink()
    (coll / ".collection.json").symlink_to(tmp_path / "elsewhere.json")
    assert read_collection_file(coll) == {}  # a function reference is never taken from outside


def test_show_does_not_look_into_a_linked_resource_directory(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    proj.fetch("c", "x")  # makes the collection
    target = tmp_path / "target"
    target.mkdir()
    (target / "status").write_text("completed")
    (tmp_path / "base" / "c" / "linked").symlink_to(target)
    done = _cli("show", str(tmp_path / "base"), "c", "linked")
    assert done.returncode == 0, done.stderr
    assert "resource directory damaged: symlink refused" in done.stdout
    assert "(none)" not in done.stdout  # which files the target has is not told either


def test_a_linked_index_or_plans_directory_is_neither_used_nor_written(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    proj.plan("c", ["a", "b"])
    proj.fetch("c", "a")
    assert proj.stats("c")["counts"]["total"] == 2
    coll = tmp_path / "base" / "c"
    # A sound index and plans, moved out of BASE and linked back in.
    for name in (".index", ".plans"):
        (coll / name).rename(tmp_path / f"outside{name}")
        (coll / name).symlink_to(tmp_path / f"outside{name}")
    before = {name: _snapshot(tmp_path / f"outside{name}") for name in (".index", ".plans")}
    proj.fetch("c", "b")
    counts = proj.stats("c")["counts"]
    assert counts["completed"] == 2
    assert not (coll / ".index").is_symlink()  # rebuilt in place; the link is gone
    with pytest.raises(RefusedPath, match="not a directory of plans"):
        proj.plan("c", ["c"])
    after = {name: _snapshot(tmp_path / f"outside{name}") for name in (".index", ".plans")}
    assert after == before


@pytest.mark.parametrize("linked", [".updates", ".updates/.claimed"])
def test_markers_are_never_moved_through_a_linked_directory(tmp_path: Path, linked: str) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    proj.fetch("c", "a")
    coll = tmp_path / "base" / "c"
    outside = tmp_path / "outside-markers"
    outside.mkdir()
    (outside / "x").touch()
    (outside / ".claimed").mkdir()
    shutil.rmtree(coll / ".updates")
    if linked == ".updates":
        (coll / ".updates").symlink_to(outside)
    else:
        (coll / ".updates").mkdir()
        (coll / ".updates" / "a").touch()
        (coll / ".updates" / ".claimed").symlink_to(outside / ".claimed")
    before = _snapshot(outside)
    assert proj.stats("c")["counts"]["completed"] == 1  # read from a scan instead
    assert _snapshot(outside) == before


FETCH_BESIDE_A_FIFO_MARKER = """
import sys
import time
from hadrosaur import Project
from tests.reliability.test_symlinks import _compute
proj = Project(sys.argv[1])
proj.resource("c")(_compute)
print(proj.fetch("c", "x").status)
"""


def test_a_fifo_in_place_of_a_marker_does_not_hang_a_fetch(tmp_path: Path) -> None:
    """The marker's open for writing must not wait for a reader of the FIFO, for ever."""
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(_compute)
    proj.fetch("c", "first")
    os.mkfifo(base / "c" / ".updates" / "x")
    worker = subprocess.Popen(
        [sys.executable, "-c", FETCH_BESIDE_A_FIFO_MARKER, str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        out, err = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        pytest.fail("fetch hung opening a FIFO at .updates/IDENT")
    assert worker.returncode == 0, err
    assert out.split() == ["completed"]
    assert proj.stats("c")["counts"]["completed"] == 2  # the FIFO's name still said "changed"
    assert proj.check("c") == []


HOLD_THE_LOCK = """
import sys, time
from hadrosaur import Project
proj = Project(sys.argv[1])
proj.resource("c")(lambda ident, args, ctx: time.sleep(120))
proj.fetch("c", "busy")
"""


def test_a_kept_marker_is_never_created_through_a_planted_link(tmp_path: Path) -> None:
    """A reindex gives a computing resource a kept marker: O_CREAT must not follow a link."""
    base = tmp_path / "base"
    outside = tmp_path / "outside"
    outside.mkdir()
    proj = Project(base)
    proj.resource("c")(_compute)
    proj.fetch("c", "first")
    worker = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(base)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while proj.status("c", "busy") != "pending":
            assert time.monotonic() < deadline, "the worker never started computing"
            time.sleep(0.05)
        assert proj.stats("c")["counts"]["pending"] == 1  # its marker drained, now kept
        kept = base / "c" / ".updates" / ".kept"
        (kept / "busy").unlink()
        (kept / "busy").symlink_to(outside / "created")  # dangling: O_CREAT would make it
        proj.reindex("c")
        assert not (outside / "created").exists()
        assert proj.stats("c")["counts"]["pending"] == 1
    finally:
        worker.kill()
        worker.wait()
