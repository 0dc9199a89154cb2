"""F4: a TAB only peeks at an index: never rebuilds, drains or scans (hadrosaur/_index/peek.py).

Those are what made one TAB take seconds (a deleted index rebuilt, 60,000
markers drained, a read-only base scanned); here each case is shown not to
happen, by what is left on disk, not by a clock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur._index.peek import peek_idents
from hadrosaur.cli._completion import _Expired, _time_limit

from .helpers import REPO
from .reliability.test_disk import mounted
from .test_completion import complete


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    return ident


@pytest.fixture
def indexed(base: Path) -> Project:
    """Collection c with a0, a1, b0, read once (so it has an index)."""
    proj = Project(base)
    proj.resource("c")(_compute)
    for ident in ("a0", "a1", "b0"):
        proj.fetch("c", ident)
    proj.stats("c")
    return proj


def test_peek_reads_the_idents_of_a_current_index(indexed: Project) -> None:
    coll = indexed.base / "c"
    assert peek_idents(coll, "", 10, 0.1) == ["a0", "a1", "b0"]
    assert peek_idents(coll, "a", 10, 0.1) == ["a0", "a1"]
    assert peek_idents(coll, "a", 1, 0.1) == ["a0"]
    assert peek_idents(coll, "z", 10, 0.1) == []


def test_a_deleted_index_is_not_rebuilt(indexed: Project, tmp_path: Path) -> None:
    coll = indexed.base / "c"
    subprocess.run(["rm", "-rf", str(coll / ".index")], check=True)
    assert peek_idents(coll, "", 10, 0.1) is None
    assert complete(f"hadrosaur show {indexed.base} c ", tmp_path) == []
    assert not (coll / ".index").exists()


def test_pending_markers_are_not_drained(indexed: Project, tmp_path: Path) -> None:
    indexed.fetch("c", "a2")  # a worker's marker, no reader since
    markers = sorted(os.listdir(indexed.base / "c" / ".updates"))
    assert markers
    assert complete(f"hadrosaur show {indexed.base} c a", tmp_path) == ["a0", "a1"]
    assert sorted(os.listdir(indexed.base / "c" / ".updates")) == markers


def test_a_busy_index_offers_nothing(indexed: Project, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from hadrosaur._index import CollectionIndex\n"
            f"with CollectionIndex(Path({str(indexed.base / 'c')!r})):\n"
            "    print('held', flush=True); sys.stdin.read()",
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert peek_idents(indexed.base / "c", "", 10, 0.05) is None
    finally:
        holder.communicate("")


def test_a_read_only_base_offers_collections_but_no_idents(
    indexed: Project, tmp_path: Path
) -> None:
    base = indexed.base
    with mounted(base, "--bind", str(base)), mounted(base, "-o", "remount,bind,ro"):
        assert complete(f"hadrosaur show {base} ", tmp_path) == ["c"]
        assert complete(f"hadrosaur show {base} c a", tmp_path) == []


def test_the_time_limit_ends_a_completion_that_would_not() -> None:
    with pytest.raises(_Expired), _time_limit(0.01):
        while True:  # ended by the timer alone
            pass
