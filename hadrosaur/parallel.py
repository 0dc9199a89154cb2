"""fetch_many: compute many resources at once on processes, threads or a Dask cluster.

Correctness comes from the per-resource lifecycle (see _compute.py): every
worker runs the same ``compute_resource`` as ``fetch``, so a resource is never
computed twice at once and a killed worker leaves it ``interrupted``, never
torn. This module only decides what to send where:

- the planned ident set is recorded first, so readers count the not yet
  started as ``unavailable`` and can show progress and an ETA;
- idents already completed are answered from their status file without
  submitting anything;
- the rest go out in chunks (one pickle round-trip per chunk, not per
  resource), with a bounded number of chunks in flight, so Ctrl-C has little
  queued work to cancel and the progress bar advances steadily.

A resource's end is its own problem, not the run's: a SystemExit or other
BaseException from its function is recorded as its error, in any executor.
On the default pool (``executor=None``, a :class:`~hadrosaur._pool.WorkerPool`,
not a ProcessPoolExecutor), a worker that dies (segfault, ``os._exit``, the
out-of-memory killer) is replaced, the resource it was computing is recorded as
an error naming the exit status or signal, and every other resource is still
computed; its workers also die with the parent, even on SIGKILL. An executor
the caller passes is theirs: if it breaks, WorkerDied names what was in flight.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import Any

from ._casualties import describe_exit, sort_out
from ._fetch_task import FetchJob, check_picklable, fetch_chunk
from ._load import completed_resource
from ._names import check_ident
from ._pool import Died, Done, Failed, WorkerPool
from ._progress import ProgressBar, wants_progress
from .errors import DamagedResource, InvalidArgs, WorkerDied
from .resource import Resource
from .status import ERROR

__all__ = ("FetchJob", "fetch_many")

#: The most resources sent in one task: beyond this, the progress bar and the
#: balance between workers suffer more than the pickling cost gains.
MAX_CHUNK = 64
#: Aim for at least this many chunks per worker, so the last ones finish together.
CHUNKS_PER_WORKER = 20
#: Chunks in flight per worker: enough to keep every worker busy between two
#: submissions, few enough that Ctrl-C has almost nothing queued to cancel.
IN_FLIGHT_PER_WORKER = 4
#: A chunk whose worker died this many times in a row before it started any of
#: its resources ends the run (WorkerDied): something kills every worker.
MAX_BARREN_DEATHS = 3

_log = logging.getLogger("hadrosaur")


def fetch_many(
    job: FetchJob,
    idents: Iterable[str],
    plan: Callable[[list[str]], object],
    args: Any = None,
    executor: Any = None,
    progress: bool | None = None,
    *,
    on_result: Callable[[Resource], object] | None = None,
    max_chunk: int = 0,
    workers: int = 0,
) -> list[Resource]:
    """Compute every ident not already completed, in parallel; return them in input order.

    See :meth:`hadrosaur.Project.fetch_many`, which calls this with the job of
    one of its collections and its own :meth:`~hadrosaur.Project.plan` as
    ``plan``: called with the unique idents once they and the args are
    checked, before anything is submitted, so readers see the whole plan.
    This module never sees the Project, so the two do not import each other.

    ``on_result`` is called in this process with each computed Resource as
    its chunk comes back (those already completed are not computed, so not
    reported), for callers that report progress their own way
    (:func:`hadrosaur.runner.recompute`). ``max_chunk`` (> 0) caps the idents
    per task below :data:`MAX_CHUNK`: 1 reports every resource as soon as it
    ends, at the price of one round-trip to a worker per resource.
    ``workers`` (> 0) sizes the default pool instead of one per CPU.

    Example:
        >>> job = FetchJob(coll_dir, "squares", square, False, False, 2**20, 3)  # doctest: +SKIP
        >>> fetch_many(job, ["1", "2", "2"], print, progress=False)  # doctest: +SKIP
        ['1', '2']
        [Resource(collection='squares', ident='1', ...), ..., ...]
    """
    order = [check_ident(ident) for ident in idents]
    unique = list(dict.fromkeys(order))  # computed once, returned at every position
    if not unique:
        return []
    pool, usable = _resolve_executor(executor)
    workers = workers if pool is None and workers > 0 else usable
    if not isinstance(pool, ThreadPoolExecutor):
        check_picklable(job)
    found = {} if job.recompute else _completed(job, unique)
    todo = [ident for ident in unique if ident not in found]
    todo_args = _args_of(todo, args)
    plan(unique)
    with ProgressBar(job.collection, len(unique), len(found), wants_progress(progress)) as bar:
        if todo:
            if pool is None:
                workers = min(workers, len(todo))
            chunks = _chunks(todo, todo_args, workers, max_chunk or MAX_CHUNK)
            take = _Taker(bar, on_result)
            if pool is None:
                found.update(_run_own_pool(workers, job, chunks, take))
            else:
                found.update(_run(pool, workers, job, chunks, take))
    return [found[ident] for ident in order]


def _resolve_executor(executor: Any) -> tuple[Executor | None, int]:
    """(executor or None for "create the default pool", worker count)."""
    cpus = os.cpu_count() or 1
    if executor is None:
        return None, cpus
    if _is_dask_client(executor):
        # pure=False: a chunk submitted again (a second call) must run again,
        # not be answered from a result the cluster still holds.
        executor = executor.get_executor(pure=False)
    if not isinstance(executor, Executor):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor or a dask.distributed.Client, "
            f"not {type(executor).__name__}"
        )
    return executor, _worker_count(executor, cpus)


def _death(exc: Exception) -> str | None:
    """What to say when ``exc`` means workers died under a task; None for any other error.

    A ProcessPoolExecutor breaks (BrokenExecutor). Dask instead runs a task
    whose worker died again on another worker, and gives up with its
    ``KilledWorker`` once the task's workers died more than
    ``distributed.scheduler.allowed-failures`` times (default 3). Both mean the
    same here, so both are WorkerDied: the caller calls fetch_many again.
    """
    if isinstance(exc, BrokenExecutor):
        return str(exc)
    kind = type(exc)
    if kind.__name__ == "KilledWorker" and kind.__module__.startswith("distributed."):
        failures = getattr(exc, "allowed_failures", None)
        if not isinstance(failures, int):
            times = "too often"
        else:
            times = "once" if failures == 0 else f"{failures + 1} times"
        last = getattr(getattr(exc, "last_worker", None), "address", "unknown")
        return (
            f"dask gave up on the task: its worker died {times} "
            f"(distributed.scheduler.allowed-failures), the last one {last}"
        )
    return None


def _is_dask_client(obj: Any) -> bool:
    # Duck typing by module, so dask is imported only by those who use it.
    return type(obj).__module__.startswith("distributed.") and hasattr(obj, "get_executor")


def _worker_count(executor: Executor, default: int) -> int:
    count = getattr(executor, "_max_workers", None)  # ProcessPool and ThreadPool executors
    client = getattr(executor, "_client", None)  # a Dask ClientExecutor
    if client is not None and hasattr(client, "nthreads"):
        count = sum(client.nthreads().values())
    return count if isinstance(count, int) and count > 0 else default


def _completed(job: FetchJob, idents: list[str]) -> dict[str, Resource]:
    """The idents already completed, read from their files (no index, no lock)."""
    found = {}
    for ident in idents:
        try:
            res = completed_resource(job.coll_dir, job.collection, ident)
        except DamagedResource:
            continue  # the worker's fetch logs it and computes it again
        if res is not None:
            found[ident] = res
    return found


def _args_of(idents: list[str], args: Any) -> list[Any]:
    """The args of each ident, checked as fetch() checks them (JSON, saved in meta.json)."""
    if callable(args):
        values = [args(ident) for ident in idents]
    else:
        shared = {} if args is None else args
        values = [shared] * len(idents)  # one object: pickled once per chunk
    checked: set[int] = set()
    for value in values:
        if id(value) in checked:
            continue
        checked.add(id(value))
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:  # as fetch() checks them
            raise InvalidArgs(value, exc) from None
    return values


@dataclass(frozen=True)
class _Chunk:
    """Idents sent as one task, their args, and how often their worker died fruitlessly."""

    idents: list[str]
    args: list[Any]
    barren_deaths: int = 0

    def rest(self, start: int, barren_deaths: int = 0) -> _Chunk:
        return _Chunk(self.idents[start:], self.args[start:], barren_deaths)


def _chunks(idents: list[str], args: list[Any], workers: int, max_chunk: int) -> deque[_Chunk]:
    size = max(1, min(max_chunk, len(idents) // (workers * CHUNKS_PER_WORKER)))
    return deque(
        _Chunk(idents[start : start + size], args[start : start + size])
        for start in range(0, len(idents), size)
    )


@dataclass(frozen=True)
class _Taker:
    """Where the computed Resources go as they come back: the result, the bar, the caller."""

    bar: ProgressBar
    on_result: Callable[[Resource], object] | None

    def __call__(self, found: dict[str, Resource], results: list[Resource]) -> None:
        found.update((res.ident, res) for res in results)
        self.bar.advance(len(results), sum(res.status == ERROR for res in results))
        if self.on_result is not None:
            for res in results:
                self.on_result(res)


def _run_own_pool(
    workers: int, job: FetchJob, chunks: deque[_Chunk], take: _Taker
) -> dict[str, Resource]:
    """Run the chunks on a pool of our own, which outlives the death of any worker.

    A worker's death costs only the resource it was computing, recorded as an
    error naming the exit status or signal (see _casualties.py); the rest of its
    chunk goes out again. A chunk whose worker dies again and again before it
    starts any resource ends the run with WorkerDied, so a run always ends.
    Ctrl-C stops every worker at once (their resources read interrupted).
    """
    found: dict[str, Resource] = {}
    with WorkerPool(workers) as pool:
        while chunks or pool.busy:
            while chunks and pool.has_idle():
                chunk = chunks.popleft()
                pool.submit(fetch_chunk, (job, chunk.idents, chunk.args), chunk)
            for event in pool.wait():
                chunk = event.tag
                if isinstance(event, Done):
                    take(found, event.value)
                    if len(event.value) < len(chunk.idents):  # a KeyboardInterrupt in a function
                        chunks.appendleft(chunk.rest(len(event.value)))
                elif isinstance(event, Failed):
                    raise event.error  # a StorageError, an import error of the function...
                else:
                    _after_death(job, chunk, event, found, chunks, take)
    return found


def _after_death(
    job: FetchJob,
    chunk: _Chunk,
    death: Died,
    found: dict[str, Resource],
    chunks: deque[_Chunk],
    take: _Taker,
) -> None:
    """Account for a dead worker's chunk; queue what it did not reach, first."""
    out = sort_out(
        job.coll_dir,
        job.collection,
        chunk.idents,
        death.pid,
        death.started_ms,
        death.exitcode,
        job.durable,
    )
    take(found, list(out.found.values()))
    if out.died_on is not None:
        _log.info(
            "%s/%s: its worker died (%s); recorded as an error",
            job.collection,
            out.died_on,
            describe_exit(death.exitcode),
        )
    if not out.again:
        return
    barren = 0 if out.found else chunk.barren_deaths + 1
    idents = [chunk.idents[i] for i in out.again]
    if barren >= MAX_BARREN_DEATHS:
        raise WorkerDied(
            job.collection,
            tuple(idents),
            f"{describe_exit(death.exitcode)}; {barren} workers in a row died before "
            "starting any of them",
        )
    chunks.appendleft(_Chunk(idents, [chunk.args[i] for i in out.again], barren))


def _run(
    pool: Executor,
    workers: int,
    job: FetchJob,
    chunks: deque[_Chunk],
    take: _Taker,
) -> dict[str, Resource]:
    """On the caller's executor: submit the chunks a window at a time and collect them.

    The executor is the caller's, so it is never shut down here. One that
    breaks (a ProcessPoolExecutor whose worker died) cannot be replaced
    either: WorkerDied names the idents that were in its hands.
    """
    window = max(2, workers * IN_FLIGHT_PER_WORKER)
    in_flight: dict[Future[list[Resource]], _Chunk] = {}
    found: dict[str, Resource] = {}
    try:
        while chunks or in_flight:
            while chunks and len(in_flight) < window:
                chunk = chunks.popleft()
                in_flight[pool.submit(fetch_chunk, job, chunk.idents, chunk.args)] = chunk
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                chunk = in_flight.pop(future)
                try:
                    results = future.result()  # a worker's StorageError or a broken pool
                except Exception as exc:
                    detail = _death(exc)
                    if detail is None:
                        raise
                    lost = [ident for lost in (chunk, *in_flight.values()) for ident in lost.idents]
                    raise WorkerDied(job.collection, tuple(lost), detail) from exc
                take(found, results)
                if len(results) < len(chunk.idents):  # a KeyboardInterrupt in a function
                    chunks.appendleft(chunk.rest(len(results)))
    finally:
        for future in in_flight:
            future.cancel()  # the running ones finish; the caller's executor is theirs
    return found
