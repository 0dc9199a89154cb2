"""fetch_many on process pools, thread pools and a Dask cluster: results, plan, progress, Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import HadrosaurError, InvalidArgs, NotPicklable, Project
from hadrosaur._layout import PLANS_DIR

from . import pipelines
from .helpers import child_env, scan_counts, spawn, wait_for

# On Python 3.12+, forking a process that has threads warns; the warning says
# nothing about fetch_many, and the pools here start their workers first.
pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")


def runs(base: Path, ident: str, coll: str = "items") -> int:
    """How many times the function ran for ``ident`` (see tests/pipelines.py)."""
    path = base / coll / ident / "storage" / "runs"
    return len(path.read_text().split()) if path.exists() else 0


def counts(proj: Project, coll: str = "items") -> dict[str, int]:
    return dict(proj.stats(coll)["counts"])


def spawn_gated_run(
    tmp_path: Path,
    base: Path,
    gates: Path,
    idents: list[str],
    executor: str = "None",
    **popen: Any,
) -> subprocess.Popen[str]:
    """Start a child running fetch_many of ``pipelines.gated`` (``executor``: Python source)."""
    code = f"""
        from concurrent.futures import ProcessPoolExecutor
        from hadrosaur import Project
        from tests.pipelines import gated
        if __name__ == "__main__":
            proj = Project({str(base)!r})
            proj.resource("items")(gated)
            gates = {{"gates": {str(gates)!r}}}
            executor = {executor}
            try:
                proj.fetch_many("items", {idents!r}, gates, executor=executor)
            finally:
                # An executor left to the interpreter's exit can print "Bad file
                # descriptor" from concurrent.futures' atexit hook (CPython 3.11).
                if executor is not None:
                    executor.shutdown()
        """
    return spawn(tmp_path, code, **popen)


# -- results ---------------------------------------------------------------------------


def test_default_pool_returns_input_order_computes_duplicates_once_and_records_errors(
    proj: Project, base: Path
) -> None:
    proj.resource("items")(pipelines.record)
    idents = ["b", "fail-1", "a", "b", "c", "a"]
    got = proj.fetch_many("items", idents, {"k": 1}, progress=False)
    assert [r.ident for r in got] == idents
    assert [r.status for r in got] == [
        "completed",
        "error",
        "completed",
        "completed",
        "completed",
        "completed",
    ]
    assert got[0] == got[3] and got[2] == got[5]
    assert got[0].result == {"ident": "b", "args": {"k": 1}, "pid": got[0].pid}
    assert got[0].pid != os.getpid(), "computed in a worker process"
    assert {ident: runs(base, ident) for ident in set(idents)} == dict.fromkeys(set(idents), 1)
    assert "RuntimeError: failing on purpose: fail-1" in proj.fetch_error("items", "fail-1")
    assert counts(proj) == {
        "total": 4,
        "completed": 3,
        "pending": 0,
        "interrupted": 0,
        "error": 1,
        "unavailable": 0,
    }


def test_completed_are_skipped_errors_retried_and_recompute_runs_all(
    proj: Project, base: Path
) -> None:
    proj.resource("items")(pipelines.record)
    first = proj.fetch_many("items", ["a", "fail-1"], progress=False)
    again = proj.fetch_many("items", ["a", "fail-1", "new"], progress=False)
    assert again[0] == first[0], "a completed resource is read back, not computed"
    assert (runs(base, "a"), runs(base, "fail-1"), runs(base, "new")) == (1, 2, 1)
    assert again[1].attempt == 2
    proj.fetch_many("items", ["a", "new"], recompute=True, progress=False)
    assert (runs(base, "a"), runs(base, "new")) == (2, 2)


def test_thread_pool_is_used_and_not_shut_down_and_args_may_be_per_ident(proj: Project) -> None:
    proj.resource("items")(pipelines.record)
    with ThreadPoolExecutor(3) as pool:
        got = proj.fetch_many(
            "items", ["1", "2", "3"], args=lambda i: {"n": int(i)}, executor=pool, progress=False
        )
        assert pool.submit(sum, [1, 2]).result() == 3, "a caller's executor stays usable"
    assert [r.result["args"] for r in got] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert {r.pid for r in got} == {os.getpid()}


def test_a_threads_executor_accepts_a_lambda(proj: Project) -> None:
    proj.resource("squares")(lambda ident, args, ctx: int(ident) ** 2)
    with ThreadPoolExecutor(2) as pool:
        got = proj.fetch_many("squares", ["2", "3"], executor=pool, progress=False)
    assert [r.result for r in got] == [4, 9]


def test_a_given_process_pool_computes_in_its_workers(proj: Project) -> None:
    proj.resource("items")(pipelines.record)
    with ProcessPoolExecutor(2) as pool:
        got = proj.fetch_many("items", [f"r{i}" for i in range(20)], executor=pool, progress=False)
        assert pool.submit(sum, [1, 2]).result() == 3, "a caller's executor stays usable"
    assert {r.status for r in got} == {"completed"}
    pids = {r.pid for r in got}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


# -- refusing before anything runs -------------------------------------------------------


def test_a_lambda_fails_fast_and_says_what_to_do(proj: Project, base: Path) -> None:
    proj.resource("squares")(lambda ident, args, ctx: int(ident) ** 2)
    with pytest.raises(NotPicklable) as caught:
        proj.fetch_many("squares", ["1", "2"], progress=False)
    message = str(caught.value)
    assert "lambda" in message and "top level of an importable module" in message
    assert 'if __name__ == "__main__":' in message
    assert isinstance(caught.value, HadrosaurError) and isinstance(caught.value, TypeError)
    assert not (base / "squares" / PLANS_DIR).exists(), "nothing is planned when it cannot run"
    assert not (base / "squares" / "1").exists()


def test_a_function_defined_inside_a_function_fails_fast(proj: Project) -> None:
    def local_square(ident: str, args: Any, ctx: Any) -> int:
        return int(ident) ** 2

    proj.resource("squares")(local_square)
    with ProcessPoolExecutor(1) as pool, pytest.raises(NotPicklable) as caught:
        proj.fetch_many("squares", ["1"], executor=pool, progress=False)
    assert "test_a_function_defined_inside_a_function_fails_fast()" in str(caught.value)
    assert "local_square" in str(caught.value)


def test_bad_args_and_bad_executors_are_refused(proj: Project, base: Path) -> None:
    proj.resource("items")(pipelines.record)
    with pytest.raises(InvalidArgs):
        proj.fetch_many("items", ["1"], {"x": float("nan")}, progress=False)
    with pytest.raises(InvalidArgs):
        proj.fetch_many("items", ["1"], lambda ident: {"path": base}, progress=False)
    with pytest.raises(TypeError, match=r"concurrent\.futures\.Executor"):
        proj.fetch_many("items", ["1"], executor="processes", progress=False)
    assert not (base / "items" / "1").exists()
    assert not (base / "items" / PLANS_DIR).exists(), "nothing is planned when it cannot run"


# -- many resources ----------------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_trivial_resources_finish_and_stats_match(proj: Project, base: Path) -> None:
    proj.resource("numbers")(pipelines.trivial)
    idents = [str(i) for i in range(10_000)]
    got = proj.fetch_many("numbers", idents, progress=False)
    assert [r.ident for r in got] == idents
    failed = {i for i in idents if i.endswith("00")}
    assert [r.result for r in got] == [None if i in failed else int(i) for i in idents]
    assert counts(proj, "numbers") == {
        "total": 10_000,
        "completed": 10_000 - len(failed),
        "pending": 0,
        "interrupted": 0,
        "error": len(failed),
        "unavailable": 0,
    }
    assert scan_counts(base / "numbers") == {"completed": 9901, "error": 99}


def test_unavailable_falls_as_work_completes_seen_from_another_process(
    tmp_path: Path, base: Path, proj: Project
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    idents = [f"gate-{i}" for i in range(8)]
    runner = spawn_gated_run(tmp_path, base, gates, idents, "ProcessPoolExecutor(2)")
    try:
        # This process only reads: it never defines the collection's function.
        wait_for(lambda: (base / "items").is_dir() and counts(proj)["total"] == 8)
        wait_for(lambda: counts(proj)["pending"] == 2)
        seen = [counts(proj)["unavailable"]]
        for number, ident in enumerate(idents, start=1):
            (gates / ident).touch()
            wait_for(lambda n=number: counts(proj)["completed"] == n)
            seen.append(counts(proj)["unavailable"])
    finally:
        _, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert err == "", "no progress bar when stderr is not a terminal"
    assert seen[0] == 6 and seen[-1] == 0
    assert seen == sorted(seen, reverse=True), f"unavailable must only fall: {seen}"
    # Each completion lets one more start, so it falls by one or two per step, never at once.
    assert len(set(seen)) >= 4, f"it falls as each one completes: {seen}"


# -- Ctrl-C ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["parent", "process group"])
def test_ctrl_c_cancels_queued_work_and_the_next_call_completes_the_rest(
    tmp_path: Path, base: Path, proj: Project, target: str
) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    idents = [f"fast-{i}" for i in range(4)] + [f"gate-{i}" for i in range(20)]
    # In its own process group, as a shell job is: Ctrl-C in a terminal signals the group.
    runner = spawn_gated_run(tmp_path, base, gates, idents, start_new_session=True)
    coll = base / "items"
    try:
        fast_done = [coll / f"fast-{i}" / "status" for i in range(4)]
        wait_for(
            lambda: (
                runs(base, "gate-0") == 1
                and all(p.exists() and p.read_text() == "completed" for p in fast_done)
            )
        )
        if target == "parent":
            runner.send_signal(signal.SIGINT)
        else:  # what a terminal does on Ctrl-C: the parent and its workers
            os.killpg(runner.pid, signal.SIGINT)
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.returncode is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.communicate()
    assert runner.returncode != 0 and "KeyboardInterrupt" in err, err

    # No torn resource: every status is a word, every completed result is JSON.
    for res_dir in (p for p in coll.iterdir() if p.is_dir() and not p.name.startswith(".")):
        status = res_dir / "status"
        if status.exists():
            assert status.read_text() in ("completed", "pending", "error"), res_dir
        if status.exists() and status.read_text() == "completed":
            json.loads((res_dir / "result.json").read_text())
    statuses = {ident: proj.status("items", ident) for ident in idents}
    assert all(statuses[f"fast-{i}"] == "completed" for i in range(4))
    assert statuses["gate-0"] == "interrupted", "a running one is interrupted, not left pending"
    assert "pending" not in statuses.values(), "no worker outlives the interrupted parent"
    assert list(statuses.values()).count("unavailable") >= 15, "queued work was cancelled"
    after = counts(proj)
    assert after["total"] == 24 and after["completed"] == 4

    for ident in idents:
        (gates / ident).touch()
    proj.resource("items")(pipelines.gated)
    got = proj.fetch_many("items", idents, {"gates": str(gates)}, progress=False)
    assert {r.status for r in got} == {"completed"}
    assert counts(proj)["completed"] == 24
    assert all(runs(base, f"fast-{i}") == 1 for i in range(4)), "nothing completed is redone"


# -- Dask --------------------------------------------------------------------------------


def test_a_dask_cluster_computes_records_errors_and_stats_follow(
    tmp_path: Path, base: Path, proj: Project
) -> None:
    script = f"""
        import json, os
        from dask.distributed import Client, LocalCluster
        from hadrosaur import Project
        from tests.pipelines import record
        if __name__ == "__main__":
            proj = Project({str(base)!r})
            proj.resource("items")(record)
            out = {{}}
            with LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
            ) as cluster, Client(cluster) as client:
                idents = [f"d{{i}}" for i in range(30)] + ["fail-1", "d0"]
                got = proj.fetch_many("items", idents, executor=client, progress=False)
                out["client"] = [[r.ident, r.status, r.pid] for r in got]
                out["stats"] = proj.stats("items")["counts"]
                got = proj.fetch_many(
                    "items", ["e1", "d1"], executor=client.get_executor(), progress=False
                )
                out["executor"] = [[r.ident, r.status, r.pid] for r in got]
                out["workers"] = sorted(client.run(os.getpid).values())
            print(json.dumps(out))
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=child_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    by_client = out["client"]
    assert [ident for ident, _, _ in by_client] == [f"d{i}" for i in range(30)] + ["fail-1", "d0"]
    assert {status for ident, status, _ in by_client if ident != "fail-1"} == {"completed"}
    assert [status for ident, status, _ in by_client if ident == "fail-1"] == ["error"]
    assert {pid for _, _, pid in by_client} <= set(out["workers"])
    assert out["stats"] == {
        "total": 31,
        "completed": 30,
        "pending": 0,
        "interrupted": 0,
        "error": 1,
        "unavailable": 0,
    }
    assert [status for _, status, _ in out["executor"]] == ["completed", "completed"]
    assert runs(base, "d1") == 1
    assert "failing on purpose" in proj.fetch_error("items", "fail-1")
    assert counts(proj)["completed"] == 31


# -- progress ----------------------------------------------------------------------------

PROGRESS_SCRIPT = """
import sys
from concurrent.futures import ThreadPoolExecutor
from hadrosaur import Project
from tests.pipelines import trivial
proj = Project(sys.argv[1])
proj.resource("numbers")(trivial)
progress = {"on": True, "off": False, "auto": None}[sys.argv[2]]
with ThreadPoolExecutor(2) as pool:
    proj.fetch_many("numbers", [str(i) for i in range(1, 201)], executor=pool, progress=progress)
"""


def _run_progress(tmp_path: Path, base: Path, mode: str, tty: bool) -> str:
    """Run the script above with stderr a pipe or a terminal; return what reached stderr."""
    argv = [sys.executable, "-c", PROGRESS_SCRIPT, str(base), mode]
    env = child_env(tmp_path)
    if not tty:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stderr
    controller, terminal = pty.openpty()
    try:
        child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=terminal)
        os.close(terminal)
        chunks = []
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
        assert child.wait(timeout=60) == 0
    finally:
        os.close(controller)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_is_drawn_on_a_terminal_or_when_asked_and_never_when_off(
    tmp_path: Path, base: Path
) -> None:
    on_terminal = _run_progress(tmp_path, base / "a", "auto", tty=True)
    assert "200/200" in on_terminal and "2 errors" in on_terminal and "ETA" in on_terminal
    assert _run_progress(tmp_path, base / "b", "auto", tty=False) == ""
    assert "200/200" in _run_progress(tmp_path, base / "c", "on", tty=False)
    assert _run_progress(tmp_path, base / "d", "off", tty=True) == ""
