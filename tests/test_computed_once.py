"""Computed once: a fetch never runs the function of a resource another process completed.

The rule holds for every interleaving, so the first test stops a process in
the one gap that a shortcut once relied on (lock file opened, not yet locked)
while another process computes the resource; the second races several
processes over thousands of idents and counts runs through an O_APPEND file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hadrosaur import Project

from .helpers import run_child, spawn, wait_for

#: A pipeline whose function appends one line per run to BASE/../runs with
#: O_APPEND (atomic for short writes), so runs from every process are counted.
COUNTING = """
import os
from hadrosaur import Project

BASE = os.environ["HADROSAUR_TEST_BASE"]
RUNS = os.path.join(os.path.dirname(BASE), "runs")
proj = Project(BASE, index_timeout=60)


@proj.resource("items")
def compute(ident, args, ctx):
    fd = os.open(RUNS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{ident} {os.getpid()}\\n".encode())
    finally:
        os.close(fd)
    return ident
"""


def _runs(tmp_path: Path) -> list[str]:
    path = tmp_path / "runs"
    return path.read_text().split("\n")[:-1] if path.exists() else []


def test_computed_once_when_overtaken_between_open_and_flock(
    tmp_path: Path, pipeline: Path, base: Path
) -> None:
    (pipeline / "pipeline.py").write_text(COUNTING)
    paused, go = tmp_path / "paused", tmp_path / "go"
    # The first process creates the directory and the lock file, then stops
    # before taking the lock, as the scheduler may stop any process there.
    first = spawn(
        pipeline,
        f"""
        import os, time
        from hadrosaur import _locks
        from pipeline import proj

        def pause(path):
            open({str(paused)!r}, "w").close()
            while not os.path.exists({str(go)!r}):
                time.sleep(0.01)

        _locks.before_flock = pause
        res = proj.fetch("items", "x")
        print(res.status, res.attempt)
        """,
    )
    wait_for(paused.exists)
    # Meanwhile another process finds the directory, locks, computes, completes.
    out = run_child(
        pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "x")
        print(res.status, res.attempt)
        """,
    )
    assert out.split() == ["completed", "1"]
    go.touch()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert out.split() == ["completed", "1"], "the first process must read, not recompute"
    assert len(_runs(tmp_path)) == 1


@pytest.mark.slow
def test_many_processes_over_thousands_of_idents_compute_each_once(
    tmp_path: Path, pipeline: Path, base: Path
) -> None:
    (pipeline / "pipeline.py").write_text(COUNTING)
    count, processes = 2000, 4
    code = f"""
        from pipeline import proj
        for i in range({count}):
            res = proj.fetch("items", f"i{{i}}")
            assert res.status == "completed", res
        """
    children = [spawn(pipeline, code) for _ in range(processes)]
    for child in children:
        _, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
    runs = Counter(line.split()[0] for line in _runs(tmp_path))
    twice = sorted(ident for ident, n in runs.items() if n > 1)
    assert not twice, f"computed more than once: {twice[:20]}"
    assert len(runs) == count
    assert Project(base).stats("items")["counts"]["completed"] == count


#: A function that closes every descriptor it did not open, hadrosaur's compute
#: lock among them (os.closerange before exec is a common idiom), then waits for
#: a gate file; another process may compute the resource meanwhile.
CLOSING = """
import os, time
from hadrosaur import Project

BASE = os.environ["HADROSAUR_TEST_BASE"]
TMP = os.path.dirname(BASE)
proj = Project(BASE, index_timeout=60)


@proj.resource("items")
def compute(ident, args, ctx):
    if args.get("close"):
        os.closerange(3, 1024)
        open(os.path.join(TMP, "closed"), "w").close()
        while not os.path.exists(os.path.join(TMP, "go")):
            time.sleep(0.01)
    return args["who"]
"""


def test_a_function_that_closes_the_lock_keeps_its_outcome_when_nobody_else_ran(
    tmp_path: Path, pipeline: Path, base: Path
) -> None:
    (pipeline / "pipeline.py").write_text(CLOSING)
    (tmp_path / "go").touch()
    out = run_child(
        pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "x", {"close": True, "who": "first"})
        print(res.status, res.result, res.attempt)
        """,
    )
    # Once raised StorageError("Bad file descriptor ... free some space"): the lock's
    # descriptor, closed by the function, was closed again.
    assert out.split() == ["completed", "first", "1"]
    res = Project(base, create=False).load("items", "x")
    assert (res.status, res.result, res.attempt) == ("completed", "first", 1)


def test_a_function_that_closes_the_lock_leaves_one_outcome_when_another_computed(
    tmp_path: Path, pipeline: Path, base: Path
) -> None:
    (pipeline / "pipeline.py").write_text(CLOSING)
    first = spawn(
        pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "x", {"close": True, "who": "first"})
        print(res.status, res.result, res.attempt)
        """,
    )
    wait_for((tmp_path / "closed").exists)
    # The lock is free while the first still runs: another process computes it (this
    # cannot be prevented once the function closed the lock; it is told afterwards).
    second = run_child(
        pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "x", {"who": "second"})
        print(res.status, res.result, res.attempt)
        """,
    )
    assert second.split() == ["completed", "second", "2"]
    (tmp_path / "go").touch()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    # The first does not write its outcome over the second's: the one on disk stands.
    assert out.split() == ["completed", "second", "2"]
    assert "closed hadrosaur's lock" in err
    res = Project(base, create=False).load("items", "x")
    assert (res.status, res.result, res.attempt) == ("completed", "second", 2)
