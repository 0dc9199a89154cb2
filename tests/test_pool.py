"""WorkerPool, the process pool fetch_many creates itself: events, replacement, stopping."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from hadrosaur._pool import Died, Done, Failed, RemoteTraceback, WorkerPool

from .helpers import wait_for

pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")


def _pid_after(path: str) -> int:
    """Wait for the file ``path``, then return this worker's pid (module level: picklable)."""
    while not os.path.exists(path):
        os.sched_yield()
    return os.getpid()


def _big(size: int) -> bytes:
    return b"x" * size


def _fail(message: str) -> None:
    raise LookupError(message)


def test_results_errors_and_a_dead_worker_are_told_apart_and_the_dead_one_replaced(
    tmp_path: Path,
) -> None:
    with WorkerPool(2) as pool:
        pool.submit(os.getpid, (), tag="first")
        [first] = pool.wait()
        assert isinstance(first, Done) and first.tag == "first" and first.value != os.getpid()

        pool.submit(_fail, ("no such thing",), tag="fails")
        [failed] = pool.wait()
        assert isinstance(failed, Failed) and isinstance(failed.error, LookupError)
        assert isinstance(failed.error.__cause__, RemoteTraceback)
        assert "_fail" in str(failed.error.__cause__), "the worker's traceback comes along"

        pool.submit(os.kill, (first.value, signal.SIGKILL), tag="suicide")
        [died] = pool.wait()
        assert died == Died("suicide", first.value, -signal.SIGKILL, died.started_ms)

        gate = tmp_path / "gate"
        pool.submit(_pid_after, (str(gate),), tag="a")
        pool.submit(_pid_after, (str(gate),), tag="b")
        assert not pool.has_idle()
        gate.touch()
        events: list[object] = []
        while len(events) < 2:
            events.extend(pool.wait())
        pids = {event.value for event in events if isinstance(event, Done)}
        assert len(pids) == 2 and first.value not in pids, "a new worker took the dead one's place"


def test_close_lets_a_busy_worker_finish_even_with_a_reply_bigger_than_the_pipe() -> None:
    pool = WorkerPool(1)
    pool.submit(_big, (8 * 1024 * 1024,), tag="big")
    processes = [slot.process for slot in pool._slots]
    # In a thread, so that a close() that waits for ever fails the test instead.
    closing = threading.Thread(target=pool.close, daemon=True)
    closing.start()
    try:
        wait_for(lambda: not closing.is_alive(), timeout=30)
    finally:
        for process in processes:
            process.kill()  # a no-op once it has exited
    assert [process.exitcode for process in processes] == [0]


def test_terminate_stops_a_worker_in_the_middle_of_a_task(tmp_path: Path) -> None:
    pool = WorkerPool(1)
    pool.submit(_pid_after, (str(tmp_path / "never"),), tag="stuck")
    processes = [slot.process for slot in pool._slots]
    pool.terminate()
    assert [process.exitcode for process in processes] == [-signal.SIGTERM]


def test_a_worker_killed_while_idle_is_replaced_at_the_next_task() -> None:
    with WorkerPool(1) as pool:
        pool.submit(os.getpid, (), tag="before")
        [before] = pool.wait()
        os.kill(before.value, signal.SIGKILL)  # the out-of-memory killer, say
        wait_for(lambda: not pool._slots[0].process.is_alive())
        pool.submit(os.getpid, (), tag="after")
        [after] = pool.wait()
    assert isinstance(after, Done) and after.value not in (before.value, os.getpid())


def _close_inherited() -> None:
    os.closerange(3, 1024)


def test_a_task_that_closes_the_workers_pipe_is_a_death_that_says_so() -> None:
    from hadrosaur._casualties import describe_exit

    with WorkerPool(1) as pool:
        pool.submit(_close_inherited, (), tag="closer")
        [died] = pool.wait()
        assert isinstance(died, Died) and died.tag == "closer"
        assert "os.closerange" in describe_exit(died.exitcode)
        pool.submit(os.getpid, (), tag="after")
        [after] = pool.wait()
        assert isinstance(after, Done), "the pool carries on with a new worker"
