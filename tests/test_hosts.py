"""Liveness across hosts, with real processes that have another host name.

``unshare --uts`` gives a child process its own UTS namespace, in which
``hostname nodeb`` changes the host name it sees (and writes to meta.json)
and nothing else: it shares this machine's filesystem, clocks and flocks.
So this host's readers must decide by the host name, as they would for a
real other machine, and watch the lease (hadrosaur/_lease.py). Where a
flock of another host would not be visible (a shared filesystem without
working locks), the tests remove the ``.lock`` file under the writer: the
next fetch here then locks a new file at once, as it would there.

Skipped where unshare is not permitted (not root, or a container without
CAP_SYS_ADMIN).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hadrosaur import Project

from .helpers import REPO, child_env, on_host, run_child, spawn, unshare_works, wait_for

#: The lease interval of the pipeline below, and how long until a lease expires.
INTERVAL = 0.25
BOUND = 4 * INTERVAL

#: A pipeline whose function records each run (O_APPEND) and sleeps args["sleep"] s.
PIPELINE = """
import os, time
from hadrosaur import Project

BASE = os.environ["HADROSAUR_TEST_BASE"]
RUNS = os.path.join(os.path.dirname(BASE), "runs")
proj = Project(BASE, index_timeout=60)


@proj.resource("items")
def compute(ident, args, ctx):
    fd = os.open(RUNS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{ident} {os.uname().nodename} start\\n".encode())
    finally:
        os.close(fd)
    time.sleep(args.get("sleep", 0))
    fd = os.open(RUNS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{ident} {os.uname().nodename} end\\n".encode())
    finally:
        os.close(fd)
    return {"host": os.uname().nodename}
"""


pytestmark = pytest.mark.skipif(
    not unshare_works(), reason="unshare --uts is not permitted here (needs CAP_SYS_ADMIN)"
)


@pytest.fixture
def hosts_pipeline(tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    monkeypatch.setenv("HADROSAUR_TEST_BASE", str(base))
    monkeypatch.setenv("HADROSAUR_LEASE_INTERVAL", str(INTERVAL))
    return tmp_path


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.send_signal(signal.SIGCONT)
            child.kill()
        child.communicate()


def fetch_on(host: str, pipeline_dir: Path, ident: str, sleep: float) -> subprocess.Popen[str]:
    return on_host(
        host,
        pipeline_dir,
        f"""
        from pipeline import proj
        res = proj.fetch("items", {ident!r}, {{"sleep": {sleep}}})
        print(res.status, res.attempt, res.result)
        """,
    )


def runs(tmp_path: Path) -> list[str]:
    path = tmp_path / "runs"
    return path.read_text().splitlines() if path.exists() else []


def started(tmp_path: Path, ident: str, host: str) -> bool:
    return f"{ident} {host} start" in runs(tmp_path)


def meta(base: Path, ident: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((base / "items" / ident / "meta.json").read_text())
    return loaded


def _cli(pipeline_dir: Path, *args: str) -> str:
    """What ``hadrosaur ARGS`` prints, run as a user would (another reader process)."""
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur", *args],
        capture_output=True,
        text=True,
        env=child_env(pipeline_dir),
        cwd=REPO,
        check=True,
    ).stdout


def _dead_and_live(
    tmp_path: Path, pipeline_dir: Path, children: list[subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    """Two workers on nodeb computing "dead" and "live" (for 120 s), both started; the first."""
    dead = fetch_on("nodeb", pipeline_dir, "dead", 120)
    live = fetch_on("nodeb", pipeline_dir, "live", 120)
    children += [dead, live]
    wait_for(lambda: started(tmp_path, "dead", "nodeb") and started(tmp_path, "live", "nodeb"))
    return dead


def test_a_killed_worker_of_another_host_turns_interrupted_and_a_live_one_stays_pending(
    tmp_path: Path, base: Path, hosts_pipeline: Path, children: list[subprocess.Popen[str]]
) -> None:
    dead = _dead_and_live(tmp_path, hosts_pipeline, children)
    proj = Project(base, index_timeout=60)
    assert meta(base, "dead")["host"] == "nodeb"
    assert meta(base, "dead")["lease"] == INTERVAL
    # Both renew their leases: watched for several bounds, both stay pending.
    until = time.monotonic() + 3 * BOUND
    while time.monotonic() < until:
        assert proj.stats("items")["counts"]["pending"] == 2
        time.sleep(INTERVAL / 2)
    dead.kill()
    dead.communicate()
    wait_for(lambda: proj.stats("items")["counts"]["interrupted"] == 1, timeout=60)
    assert proj.fetch_by_status("items", "interrupted") == ["dead"]
    assert proj.fetch_by_status("items", "pending") == ["live"]
    # The command line, a reader of its own, reads the same.
    out = _cli(hosts_pipeline, "stats", str(base), "items", "--json")
    assert json.loads(out)["items"]["counts"]["interrupted"] == 1, out
    # The live one goes on being renewed, and goes on being pending.
    until = time.monotonic() + 2 * BOUND
    while time.monotonic() < until:
        assert proj.fetch_by_status("items", "pending") == ["live"]
        time.sleep(INTERVAL / 2)
    # A fetch here computes the dead one again (its lock is free, its lease expired).
    out = run_child(
        hosts_pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "dead")
        print(res.status, res.attempt, res.host)
        """,
    )
    assert out.split() == ["completed", "2", os.uname().nodename]
    assert proj.stats("items")["counts"]["interrupted"] == 0


def test_short_lived_readers_continue_each_others_watch(
    tmp_path: Path, base: Path, hosts_pipeline: Path, children: list[subprocess.Popen[str]]
) -> None:
    """Each `hadrosaur stats` lives far less than the bound; together they find the death."""
    interval = 1.0  # a bound of 4 s: longer than any one `stats` process lives
    worker = on_host(
        "nodeb",
        hosts_pipeline,
        f"""
        import os
        os.environ["HADROSAUR_LEASE_INTERVAL"] = "{interval}"
        from pipeline import proj
        proj.fetch("items", "x", {{"sleep": 120}})
        """,
    )
    children.append(worker)
    wait_for(lambda: started(tmp_path, "x", "nodeb"))
    worker.kill()
    worker.communicate()
    killed = time.monotonic()
    longest = 0.0
    seen = []
    while True:
        began = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "hadrosaur", "stats", str(base), "items", "--json"],
            capture_output=True,
            text=True,
            env=child_env(hosts_pipeline),
            check=True,
        ).stdout
        longest = max(longest, time.monotonic() - began)
        counts = json.loads(out)["items"]["counts"]
        seen.append(counts["interrupted"])
        if counts["interrupted"] == 1:
            break
        assert time.monotonic() - killed < 120, seen
    assert seen[0] == 0  # the first reader only began the watch
    if longest >= 4 * interval:
        pytest.skip(f"a stats process lived {longest:.1f} s: this machine is too busy to tell")


#: A writer on another host that renews its lease itself, every PERIOD seconds,
#: after the pending status: a heartbeat on a filesystem that slow.
SLOW_WRITER = """
import json, os, time
from hadrosaur import _lease, _markers
from pipeline import proj

res_dir = os.path.join(os.environ["HADROSAUR_TEST_BASE"], "items", "slow")
os.makedirs(res_dir)
meta = {"start_time": 1, "end_time": None, "args": {}, "pid": os.getpid(),
        "host": os.uname().nodename, "attempt": 1, "lease": %(interval)r}
with open(os.path.join(res_dir, "meta.json"), "w") as f:
    json.dump(meta, f)
with open(os.path.join(res_dir, "status"), "w") as f:
    f.write("pending")
_markers.touch_marker(os.path.dirname(res_dir), "slow")
open(os.path.join(os.path.dirname(os.environ["HADROSAUR_TEST_BASE"]), "ready"), "w").close()
beat = 0
while True:
    beat += 1
    _lease.write_lease(res_dir, b"%%d" %% beat)
    time.sleep(%(period)r)
"""


def _watch_slow_writer(
    tmp_path: Path, base: Path, pipeline_dir: Path, period: float, watch_for: float
) -> list[int]:
    interval = 0.5
    writer = on_host("nodeb", pipeline_dir, SLOW_WRITER % {"interval": interval, "period": period})
    try:
        wait_for((tmp_path / "ready").exists)
        proj = Project(base, index_timeout=60)
        seen = []
        until = time.monotonic() + watch_for
        while time.monotonic() < until:
            seen.append(proj.stats("items")["counts"]["interrupted"])
            time.sleep(0.1)
        return seen
    finally:
        writer.kill()
        writer.communicate()


def test_a_writer_renewing_just_within_the_bound_is_never_called_interrupted(
    tmp_path: Path, base: Path, hosts_pipeline: Path
) -> None:
    # Interval 0.5 s, so a bound of 2 s; renewals every 1.4 s, watched for 10 s.
    seen = _watch_slow_writer(tmp_path, base, hosts_pipeline, period=1.4, watch_for=10)
    assert set(seen) == {0}


def test_a_writer_renewing_beyond_the_bound_is_called_interrupted(
    tmp_path: Path, base: Path, hosts_pipeline: Path
) -> None:
    # The same writer renewing every 6 s: readers here find it dead between renewals.
    seen = _watch_slow_writer(tmp_path, base, hosts_pipeline, period=6.0, watch_for=5)
    assert seen[-1] == 1


def test_fetch_waits_for_a_live_lease_of_another_host_then_takes_over_a_frozen_one(
    tmp_path: Path, base: Path, hosts_pipeline: Path, children: list[subprocess.Popen[str]]
) -> None:
    """The lock invisible (removed under the writer), the lease alone keeps two computes apart.

    The writer on nodeb is then frozen (SIGSTOP) for longer than the bound: a
    fetch here takes the resource over; woken, the writer finds its attempt
    superseded and drops its outcome, so the files hold the new attempt whole.
    """
    writer = fetch_on("nodeb", hosts_pipeline, "x", 3 * BOUND + 2)
    children.append(writer)
    wait_for(lambda: started(tmp_path, "x", "nodeb"))
    # What a host that cannot see nodeb's flock would find: no lock held.
    (base / "items" / "x" / ".lock").unlink()
    fetcher = spawn(
        hosts_pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "x", {"sleep": 0})
        print(res.status, res.attempt, res.result["host"])
        """,
    )
    children.append(fetcher)
    # nodeb renews its lease: the fetch here waits rather than compute alongside.
    time.sleep(2 * BOUND)
    assert fetcher.poll() is None
    assert runs(tmp_path) == ["x nodeb start"]
    writer.send_signal(signal.SIGSTOP)
    out, err = fetcher.communicate(timeout=60)
    assert fetcher.returncode == 0, err
    here = os.uname().nodename
    assert out.split() == ["completed", "2", here]
    assert runs(tmp_path) == ["x nodeb start", f"x {here} start", f"x {here} end"]
    writer.send_signal(signal.SIGCONT)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert "another host took this resource over" in err
    # nodeb's function ran to its end, but what it returned is not recorded.
    assert runs(tmp_path)[-1] == "x nodeb end"
    assert out.split()[:2] == ["completed", "2"]
    assert meta(base, "x")["host"] == here
    assert json.loads((base / "items" / "x" / "result.json").read_text()) == {"host": here}
    assert Project(base).status("items", "x") == "completed"


def test_fetch_takes_over_a_killed_worker_of_another_host_once_its_lease_expires(
    tmp_path: Path, base: Path, hosts_pipeline: Path, children: list[subprocess.Popen[str]]
) -> None:
    writer = fetch_on("nodeb", hosts_pipeline, "x", 120)
    children.append(writer)
    wait_for(lambda: started(tmp_path, "x", "nodeb"))
    writer.kill()
    writer.communicate()
    out = run_child(
        hosts_pipeline,
        """
        from pipeline import proj
        res = proj.fetch("items", "x")
        print(res.status, res.attempt)
        """,
    )
    assert out.split() == ["completed", "2"]
    assert [line.split()[1:] for line in runs(tmp_path)][-2:] == [
        [os.uname().nodename, "start"],
        [os.uname().nodename, "end"],
    ]


#: Runs a command in a time namespace whose CLOCK_MONOTONIC is 100,000 s ahead.
OFFSET_CLOCK = ["unshare", "--time", "--monotonic", "100000"]


def _time_namespaces_work() -> bool:
    try:
        out = subprocess.run([*OFFSET_CLOCK, "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


@pytest.mark.skipif(not _time_namespaces_work(), reason="unshare --time is not permitted here")
def test_a_reader_whose_monotonic_clock_is_offset_does_not_continue_the_watch(
    tmp_path: Path, base: Path, hosts_pipeline: Path
) -> None:
    """A time namespace shifts CLOCK_MONOTONIC under the same boot id: not one clock.

    The writer renewed once and its bound (4 x 30 s) is far away; a reader
    whose clock reads 100,000 s ahead must not take the first reader's watch
    as 100,000 s old and call the writer dead.
    """
    writer = on_host("nodeb", hosts_pipeline, SLOW_WRITER % {"interval": 30.0, "period": 600.0})
    try:
        wait_for((tmp_path / "ready").exists)
        proj = Project(base, index_timeout=60)
        assert proj.stats("items")["counts"]["pending"] == 1  # the watch begins here
        out = subprocess.run(
            [
                *OFFSET_CLOCK,
                sys.executable,
                "-m",
                "hadrosaur",
                "stats",
                str(base),
                "items",
                "--json",
            ],
            capture_output=True,
            text=True,
            env=child_env(hosts_pipeline),
            cwd=REPO,
            check=True,
        ).stdout
        assert json.loads(out)["items"]["counts"]["interrupted"] == 0, out
        assert proj.stats("items")["counts"]["pending"] == 1
    finally:
        writer.kill()
        writer.communicate()


def test_status_load_and_the_command_line_read_an_expired_lease_as_interrupted(
    tmp_path: Path, base: Path, hosts_pipeline: Path, children: list[subprocess.Popen[str]]
) -> None:
    """proj.status and proj.load answer as stats does: the watch the index keeps decides."""
    dead = _dead_and_live(tmp_path, hosts_pipeline, children)
    proj = Project(base, index_timeout=60)
    assert proj.status("items", "dead") == "pending"  # the watch begins
    dead.kill()
    dead.communicate()
    # Each call continues the watch: the death shows within the bound (+ the poll).
    wait_for(lambda: proj.status("items", "dead") == "interrupted", timeout=60, interval=0.1)
    assert proj.load("items", "dead").status == "interrupted"
    # A fresh reader (another process) reads what the index recorded.
    out = run_child(
        hosts_pipeline,
        """
        from pipeline import proj
        print(proj.status("items", "dead"), proj.load("items", "dead").status)
        """,
    )
    assert out.split() == ["interrupted", "interrupted"]
    show = _cli(hosts_pipeline, "show", str(base), "items", "dead", "--json")
    assert json.loads(show)["status"] == "interrupted", show
    # The live one, renewed, stays pending however often it is asked.
    until = time.monotonic() + 2 * BOUND
    while time.monotonic() < until:
        assert proj.status("items", "live") == "pending"
        assert proj.load("items", "live").status == "pending"
        time.sleep(INTERVAL / 2)
