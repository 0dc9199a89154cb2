"""The heartbeat: leases renewed while computing, by one thread per process, across forks."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Context, InvalidLeaseInterval, Project, _heartbeat
from hadrosaur._lease import LEASE_FILE, MAX_INTERVAL, lease_interval, read_lease, remote_lease
from hadrosaur._liveness import local_host

from .helpers import run_child, wait_for

INTERVAL = 0.05


def _heartbeat_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hadrosaur-heartbeat"]


def _leases_while_computing(res_dir: Path, n: int) -> list[bytes | None]:
    """The lease's successive values, watched from inside the function."""
    seen: list[bytes | None] = []
    deadline = time.monotonic() + 30
    while len(set(seen)) < n and time.monotonic() < deadline:
        value = read_lease(str(res_dir))
        if not seen or value != seen[-1]:
            seen.append(value)
        time.sleep(INTERVAL / 5)
    return seen


def test_a_long_compute_renews_its_lease_and_a_trivial_one_writes_none(base: Path) -> None:
    proj = Project(base, lease_interval=INTERVAL)
    seen: list[bytes | None] = []

    @proj.resource("items")
    def compute(ident: str, args: Any, ctx: Context) -> int:
        if ident == "long":
            seen.extend(_leases_while_computing(ctx.subdir.parent, 4))
        return 1

    res = proj.fetch("items", "long")
    assert res.status == "completed"
    assert len({v for v in seen if v is not None}) >= 3, seen  # renewed, each time anew
    assert b'"beat": ' in (seen[-1] or b"")
    proj.fetch("items", "short")
    assert not (base / "items" / "short" / LEASE_FILE).exists()
    meta = (base / "items" / "long" / "meta.json").read_text()
    assert '"lease": 0.05' in meta


def test_one_thread_renews_every_compute_and_ends_when_nothing_computes(base: Path) -> None:
    proj = Project(base, lease_interval=INTERVAL)
    threads: list[int] = []

    @proj.resource("items")
    def compute(ident: str, args: Any, ctx: Context) -> int:
        _leases_while_computing(ctx.subdir.parent, 3)
        threads.append(len(_heartbeat_threads()))
        return 1

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda i: proj.fetch("items", str(i)), range(8)))
    assert {r.status for r in done} == {"completed"}
    assert set(threads) == {1}
    wait_for(lambda: _heartbeat.active() == (False, 0), timeout=10)
    assert _heartbeat_threads() == []


def test_leases_off_write_nothing_and_start_no_thread(base: Path) -> None:
    proj = Project(base, lease_interval=0)

    @proj.resource("items")
    def compute(ident: str, args: Any, ctx: Context) -> int:
        time.sleep(0.2)
        assert _heartbeat.active() == (False, 0)
        return 1

    assert proj.fetch("items", "x").status == "completed"
    assert "lease" not in (base / "items" / "x" / "meta.json").read_text()
    assert not (base / "items" / "x" / LEASE_FILE).exists()


def test_a_forked_child_renews_its_own_leases(tmp_path: Path, pipeline: Path, base: Path) -> None:
    """The parent's thread does not survive fork; the child's first compute starts its own."""
    out = run_child(
        pipeline,
        f"""
        import os, threading, time
        from hadrosaur import Project
        from hadrosaur._lease import read_lease

        proj = Project({str(base)!r}, lease_interval={INTERVAL})

        def values(res_dir, n):
            seen = []
            while len(set(seen)) < n:
                v = read_lease(res_dir)
                if v is not None and v not in seen:
                    seen.append(v)
                time.sleep(0.01)
            return seen

        @proj.resource("items")
        def compute(ident, args, ctx):
            if ident == "parent":
                values(str(ctx.subdir.parent), 2)
                pid = os.fork()
                if pid == 0:
                    child = proj.fetch("items", "child")
                    os._exit(0 if child.status == "completed" else 1)
                _, status = os.waitpid(pid, 0)
                return os.waitstatus_to_exitcode(status)
            values(str(ctx.subdir.parent), 3)
            return [t.name for t in threading.enumerate()].count("hadrosaur-heartbeat")

        print(proj.fetch("items", "parent").result)
        print(proj.load("items", "child").result)
        """,
    )
    assert out.split() == ["0", "1"]


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [(None, None, 5.0), (None, "0.5", 0.5), (2, "0.5", 2.0), (0, None, 0.0)],
)
def test_the_interval_comes_from_the_project_else_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: float | None, env: str | None, expected: float
) -> None:
    if env is None:
        monkeypatch.delenv("HADROSAUR_LEASE_INTERVAL", raising=False)
    else:
        monkeypatch.setenv("HADROSAUR_LEASE_INTERVAL", env)
    assert lease_interval(value) == expected


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "5", True, 1e-6, 5e-324])
def test_a_bad_interval_is_refused_with_what_to_do(base: Path, bad: object) -> None:
    with pytest.raises(InvalidLeaseInterval, match="lease_interval must be a number of seconds"):
        Project(base, lease_interval=bad)  # type: ignore[arg-type]


def test_a_tiny_interval_is_refused_rather_than_renewed_thousands_of_times_a_second(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1e-6 s made the heartbeat rewrite the lease ~2,600 times a second, a core's work."""
    monkeypatch.setenv("HADROSAUR_LEASE_INTERVAL", "1e-6")
    with pytest.raises(InvalidLeaseInterval, match=r"0 \(off\) or from 0.01 to 600"):
        Project(base)
    assert lease_interval(0.01) == 0.01


def test_a_lease_interval_is_at_most_ten_minutes_and_a_recorded_one_is_believed_no_further(
    base: Path,
) -> None:
    """A planted meta.json ("lease": 1e9, another host) must not make fetch wait for years."""
    with pytest.raises(InvalidLeaseInterval, match=r"from 0\.01 to 600"):
        Project(base, lease_interval=601)
    assert lease_interval(600) == MAX_INTERVAL == 600
    planted = {"host": "not-" + local_host(), "lease": 1e9}
    assert remote_lease(planted) == MAX_INTERVAL
    assert remote_lease({**planted, "lease": 2.5}) == 2.5


def test_a_bad_variable_is_named(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HADROSAUR_LEASE_INTERVAL", "soon")
    with pytest.raises(ValueError, match=r"\$HADROSAUR_LEASE_INTERVAL must be .* not 'soon'"):
        Project(base)


def test_a_symlink_at_the_lease_is_replaced_never_written_through(
    tmp_path: Path, base: Path
) -> None:
    outside = tmp_path / "outside"
    outside.write_text("keep me")
    proj = Project(base, lease_interval=INTERVAL)
    seen: list[bytes | None] = []

    @proj.resource("items")
    def compute(ident: str, args: Any, ctx: Context) -> int:
        lease = ctx.subdir.parent / LEASE_FILE
        while not lease.exists():  # the first renewal
            time.sleep(INTERVAL / 5)
        lease.unlink()
        lease.symlink_to(outside)
        seen.append(read_lease(str(ctx.subdir.parent)))  # never the target's bytes
        wait_for(lambda: not lease.is_symlink(), timeout=10)
        return 1

    assert proj.fetch("items", "x").status == "completed"
    assert outside.read_text() == "keep me"
    assert seen == [b"\0refused"]
    assert os.path.isfile(base / "items" / "x" / LEASE_FILE)
