"""Other hosts and clocks: what the flock probe may and may not conclude.

``interrupted`` is "pending, and nobody holds the compute lock". On a shared
filesystem (NFS, Lustre...) another host's flock may be invisible here, so a
resource whose meta.json names another host is never called interrupted on
the strength of the probe alone. These tests write such resources by hand.

What is detected: a dead local worker (its lock is free), on this host, at
once and without any timeout. What is not: a dead worker on another host
(its resource stays pending here until that host, or a fetch that takes the
lock, settles it), and two machines that share a host name. Clocks decide
nothing: start and end times are the writer's clock, shown as they are.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur._liveness import local_host


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    return ident


@pytest.fixture
def proj(tmp_path: Path) -> Project:
    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    return proj


def _pending_by_hand(proj: Project, ident: str, meta: dict[str, Any] | None) -> Path:
    res_dir = proj.base / "c" / ident
    res_dir.mkdir(parents=True)
    if meta is not None:
        (res_dir / "meta.json").write_text(json.dumps(meta))
    (res_dir / "status").write_text("pending")
    (res_dir / ".lock").touch()
    (proj.base / "c" / ".updates" / ident).touch()
    return res_dir


def _meta(host: str, start: int = 1_700_000_000_000) -> dict[str, Any]:
    return {"start_time": start, "end_time": None, "args": {}, "pid": 1, "host": host}


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (_meta("another-host.example"), "pending"),
        (_meta(local_host()), "interrupted"),
        (None, "interrupted"),  # no meta: written before meta.json existed (0.4.1) or damaged
        ({"host": 42}, "interrupted"),  # not a host name
    ],
)
def test_the_flock_probe_alone_never_interrupts_another_hosts_resource(
    proj: Project, meta: dict[str, Any] | None, expected: str
) -> None:
    _pending_by_hand(proj, "r", meta)
    assert proj.status("c", "r") == expected
    assert proj.load("c", "r").status == expected
    counts = proj.stats("c")["counts"]
    assert counts[expected] == 1 and counts["total"] == 1
    assert proj.fetch_by_status("c", expected) == ["r"]
    assert [e.status for e in proj.entries("c")] == [expected]
    batch = proj.changes("c")
    with proj.view("c") as v:
        assert [e.status for e in v.entries_of(["r"])] == [expected]
        assert v.changes(batch.cursor).changes == ()


def test_a_held_lock_means_pending_whatever_the_host(proj: Project) -> None:
    res_dir = _pending_by_hand(proj, "r", _meta(local_host()))
    fd = os.open(res_dir / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert proj.status("c", "r") == "pending"
        assert proj.stats("c")["counts"]["pending"] == 1
    finally:
        os.close(fd)
    assert proj.status("c", "r") == "interrupted"


def test_fetch_of_another_hosts_pending_resource_computes_once_it_has_the_lock(
    proj: Project,
) -> None:
    """fetch takes the compute lock before deciding, so it never runs beside a live holder
    that this host can see; on a filesystem whose locks another host cannot see, that is
    the limit of what any lock-based tool can know, and the README says so."""
    _pending_by_hand(proj, "r", _meta("another-host.example"))
    res = proj.fetch("c", "r")
    assert (res.status, res.result, res.host, res.attempt) == ("completed", "r", local_host(), 2)
    assert proj.status("c", "r") == "completed"
    assert proj.check("c") == []


def test_clocks_decide_nothing(proj: Project) -> None:
    """A start time from the future (a fast clock elsewhere) is shown as it is."""
    future = _meta(local_host(), start=4_102_444_800_000)  # the year 2100
    _pending_by_hand(proj, "r", future)
    assert proj.status("c", "r") == "interrupted"
    entry = proj.entries("c")[0]
    assert entry.start_time == future["start_time"] and entry.duration_ms is None
    done = proj.fetch("c", "r")
    assert done.status == "completed" and done.start_time is not None
    assert done.start_time < future["start_time"]
