"""fetch_many survives its workers: a resource that ends its process is that resource's problem.

A function may kill the process computing it (``os._exit``, a segfault, the
out-of-memory killer's SIGKILL), call ``sys.exit`` or raise a BaseException.
None of that may end the run: the resource is recorded, every other resource
is computed once, and fetch_many returns. The other way round, a fetch_many
process killed with SIGKILL must not leave its workers computing or idling.

The runs happen in child processes, as a user's would: a child's exit status
and stderr are what a user sees.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from hadrosaur import Project, StorageError, WorkerDied

from .. import pipelines
from ..helpers import child_env, scan_counts, wait_for
from .test_disk import big_result, mounted

pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")

#: Enough resources for many chunks per worker, so a death lands amid others' work.
HEALTHY = [f"ok-{i}" for i in range(200)]


def runs(base: Path, ident: str) -> int:
    path = base / "items" / ident / "storage" / "runs"
    return len(path.read_text().split()) if path.exists() else 0


def run_many(tmp_path: Path, base: Path, idents: list[str], executor: str = "None") -> str:
    """Run fetch_many of ``pipelines.die`` in a child; return its stdout (statuses as JSON).

    The child must exit with status 0 and write nothing to stderr: no
    traceback, no "Process ..." line from a dying worker.
    """
    code = f"""
        import json
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
        from hadrosaur import Project
        from tests.pipelines import die
        if __name__ == "__main__":
            proj = Project({str(base)!r})
            proj.resource("items")(die)
            got = proj.fetch_many("items", {idents!r}, executor={executor}, progress=False)
            print(json.dumps({{r.ident: r.status for r in got}}))
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"fetch_many's process ended with {done.returncode}:\n{done.stderr}"
    )
    assert done.stderr == "", done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("exit", "it exited with status 3"),
        ("kill", "killed by signal SIGKILL (9)"),
        ("segv", "killed by signal SIGSEGV (11)"),
    ],
)
def test_a_function_that_kills_its_worker_costs_only_its_own_resource(
    tmp_path: Path, base: Path, kind: str, says: str
) -> None:
    culprits = [f"{kind}-a", f"{kind}-b"]
    idents = [*HEALTHY[:5], culprits[0], *HEALTHY[5:150], culprits[1], *HEALTHY[150:]]
    statuses = json.loads(run_many(tmp_path, base, idents))

    assert list(statuses) == idents
    assert {statuses[ident] for ident in HEALTHY} == {"completed"}
    assert all(runs(base, ident) == 1 for ident in HEALTHY), "each computed exactly once"
    proj = Project(base)
    for culprit in culprits:
        assert statuses[culprit] == "error"
        assert proj.status("items", culprit) == "error"
        assert runs(base, culprit) == 1, "not retried: it would die again"
        reason = proj.fetch_error("items", culprit)
        assert "worker process" in reason and says in reason, reason
    assert proj.stats("items")["counts"]["completed"] == len(HEALTHY)
    assert scan_counts(base / "items") == {"completed": len(HEALTHY), "error": 2}


@pytest.mark.parametrize("executor", ["None", "ThreadPoolExecutor(2)", "ProcessPoolExecutor(2)"])
def test_sys_exit_and_base_exceptions_are_recorded_and_the_run_goes_on(
    tmp_path: Path, base: Path, executor: str
) -> None:
    idents = ["sysexit-1", *HEALTHY[:60], "boom-1", *HEALTHY[60:120], "kbint-1", *HEALTHY[120:]]
    statuses = json.loads(run_many(tmp_path, base, idents, executor))

    assert {statuses[ident] for ident in HEALTHY} == {"completed"}
    assert all(runs(base, ident) == 1 for ident in HEALTHY)
    proj = Project(base)
    assert (statuses["sysexit-1"], proj.status("items", "sysexit-1")) == ("error", "error")
    assert "the function raised SystemExit(4)" in proj.fetch_error("items", "sysexit-1")
    assert (statuses["boom-1"], proj.status("items", "boom-1")) == ("error", "error")
    assert "Boom: boom from boom-1" in proj.fetch_error("items", "boom-1")
    # A KeyboardInterrupt means Ctrl-C: interrupted, as a Ctrl-C leaves it.
    assert (statuses["kbint-1"], proj.status("items", "kbint-1")) == (
        "interrupted",
        "interrupted",
    )
    assert all(runs(base, ident) == 1 for ident in ("sysexit-1", "boom-1", "kbint-1"))


def test_a_callers_process_pool_that_breaks_raises_worker_died_naming_the_idents(
    proj: Project, base: Path
) -> None:
    proj.resource("items")(pipelines.die)
    with ProcessPoolExecutor(1) as pool, pytest.raises(WorkerDied) as caught:
        proj.fetch_many("items", ["ok-1", "exit-1", "ok-2"], executor=pool, progress=False)
    message = str(caught.value)
    assert "'exit-1'" in message and "call fetch_many again" in message
    assert "exit-1" in caught.value.idents and caught.value.collection == "items"
    assert proj.status("items", "exit-1") == "interrupted"


def test_workers_dying_before_any_resource_end_the_run_with_worker_died(
    proj: Project, base: Path
) -> None:
    # Unpickling these args kills the worker before it starts a resource, every time.
    proj.resource("items")(pipelines.die)
    args = pipelines.ExitOnUnpickle(k=1)
    with pytest.raises(WorkerDied) as caught:
        proj.fetch_many("items", ["ok-1", "ok-2"], args=args, progress=False)
    message = str(caught.value)
    assert "it exited with status 5" in message and "3 workers in a row" in message
    assert set(caught.value.idents) <= {"ok-1", "ok-2"} and caught.value.idents
    assert scan_counts(base / "items") == {}, "nothing was started"


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped by init, is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_killing_fetch_many_stops_its_workers_and_their_resources_read_interrupted(
    tmp_path: Path, base: Path, proj: Project
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()  # never opened: a worker left alive would wait for ever
    idents = [f"gate-{i}" for i in range(12)]
    code = f"""
        from hadrosaur import Project
        from tests.pipelines import gated
        if __name__ == "__main__":
            proj = Project({str(base)!r})
            proj.resource("items")(gated)
            proj.fetch_many("items", {idents!r}, {{"gates": {str(gates)!r}}}, progress=False)
        """
    # No pipes: workers left alive would hold them open, and reading them would never end.
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=child_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = min(os.cpu_count() or 1, len(idents))
    try:
        wait_for(lambda: sum(runs(base, ident) for ident in idents) == workers, timeout=60)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    started = [ident for ident in idents if runs(base, ident)]
    pids = {
        int(pid)
        for ident in started
        for pid in (base / "items" / ident / "storage" / "runs").read_text().split()
    }
    assert len(pids) == workers

    wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=10)
    assert {proj.status("items", ident) for ident in started} == {"interrupted"}
    assert {proj.status("items", ident) for ident in idents if ident not in started} == {
        "unavailable"
    }
    assert sum(runs(base, ident) for ident in idents) == workers, "nothing started after the kill"


def test_a_full_disk_in_a_worker_reaches_the_caller_as_a_storage_error(tmp_path: Path) -> None:
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=2m", "tmpfs") as disk:
        proj = Project(disk / "base")
        proj.resource("c")(big_result)  # 90 kB results: 2 MB hold about 20
        idents = [f"ok-{n:03d}" for n in range(100)]
        with pytest.raises(StorageError) as caught:
            proj.fetch_many("c", idents, progress=False)
        assert caught.value.errno == errno.ENOSPC, caught.value
        assert str(disk / "base" / "c") in str(caught.value)
        statuses = {ident: proj.status("c", ident) for ident in idents}
        assert "pending" not in statuses.values(), "no worker outlives the call"
        assert "completed" in statuses.values()
