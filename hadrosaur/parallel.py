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
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _store
from ._compute import ComputeFunction, compute_resource, load_resource
from ._names import check_ident
from ._progress import ProgressBar, wants_progress
from .errors import DamagedResource, InvalidArgs, NotPicklable
from .resource import COMPLETED, ERROR, Resource

if TYPE_CHECKING:
    from .project import Project

__all__ = ("fetch_many",)

#: The most resources sent in one task: beyond this, the progress bar and the
#: balance between workers suffer more than the pickling cost gains.
MAX_CHUNK = 64
#: Aim for at least this many chunks per worker, so the last ones finish together.
CHUNKS_PER_WORKER = 20
#: Chunks in flight per worker: enough to keep every worker busy between two
#: submissions, few enough that Ctrl-C has almost nothing queued to cancel.
IN_FLIGHT_PER_WORKER = 4


@dataclass(frozen=True)
class _Job:
    """What a worker needs to compute resources of one collection, pickled with each chunk.

    Only the collection's own function travels, so the other collections of
    the project need not be picklable.
    """

    coll_dir: str
    collection: str
    func: ComputeFunction
    recompute: bool
    durable: bool
    log_max_bytes: int
    log_backups: int


def _fetch_chunk(job: _Job, idents: list[str], args: list[Any]) -> list[Resource]:
    """The task run by workers: compute each ident of a chunk in turn (module level, picklable)."""
    return [
        compute_resource(
            job.coll_dir,
            job.collection,
            ident,
            job.func,
            one_args,
            recompute=job.recompute,
            durable=job.durable,
            log_max_bytes=job.log_max_bytes,
            log_backups=job.log_backups,
        )
        for ident, one_args in zip(idents, args, strict=True)
    ]


def fetch_many(
    project: Project,
    collection: str,
    idents: Iterable[str],
    args: Any = None,
    executor: Any = None,
    recompute: bool = False,
    progress: bool | None = None,
) -> list[Resource]:
    """Compute every ident not already completed, in parallel; return them in input order.

    See :meth:`hadrosaur.Project.fetch_many`, which calls this.

    Example:
        >>> fetch_many(proj, "squares", ["1", "2", "2"], progress=False)  # doctest: +SKIP
        [Resource(collection='squares', ident='1', ...), ..., ...]
    """
    func = project.function(collection)
    order = [check_ident(ident) for ident in idents]
    unique = list(dict.fromkeys(order))  # computed once, returned at every position
    if not unique:
        return []
    pool, owned, workers = _resolve_executor(executor)
    job = _Job(
        coll_dir=os.path.join(project.base, collection),
        collection=collection,
        func=func,
        recompute=recompute,
        durable=project.durable,
        log_max_bytes=project.log_max_bytes,
        log_backups=project.log_backups,
    )
    if not isinstance(pool, ThreadPoolExecutor):
        _check_picklable(job)
    found = {} if recompute else _completed(job, unique)
    todo = [ident for ident in unique if ident not in found]
    todo_args = _args_of(todo, args)
    project.plan(collection, unique)  # before submitting, so readers see the whole plan
    try:
        with ProgressBar(collection, len(unique), len(found), wants_progress(progress)) as bar:
            if todo:
                if pool is None:
                    workers = min(workers, len(todo))
                    pool = ProcessPoolExecutor(workers)
                found.update(_run(pool, owned, workers, job, todo, todo_args, bar))
    finally:
        if owned and pool is not None:
            pool.shutdown(wait=True)  # a no-op after an interrupt: _abandon shut it already
    return [found[ident] for ident in order]


def _resolve_executor(executor: Any) -> tuple[Executor | None, bool, int]:
    """(executor or None for "create the default pool", owned by us, worker count)."""
    cpus = os.cpu_count() or 1
    if executor is None:
        return None, True, cpus
    if _is_dask_client(executor):
        # pure=False: a chunk submitted again (a second call) must run again,
        # not be answered from a result the cluster still holds.
        executor = executor.get_executor(pure=False)
    if not isinstance(executor, Executor):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor or a dask.distributed.Client, "
            f"not {type(executor).__name__}"
        )
    return executor, False, _worker_count(executor, cpus)


def _is_dask_client(obj: Any) -> bool:
    # Duck typing by module, so dask is imported only by those who use it.
    return type(obj).__module__.startswith("distributed.") and hasattr(obj, "get_executor")


def _worker_count(executor: Executor, default: int) -> int:
    count = getattr(executor, "_max_workers", None)  # ProcessPool and ThreadPool executors
    client = getattr(executor, "_client", None)  # a Dask ClientExecutor
    if client is not None and hasattr(client, "nthreads"):
        count = sum(client.nthreads().values())
    return count if isinstance(count, int) and count > 0 else default


def _describe(func: Any) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _check_picklable(job: _Job) -> None:
    """Fail before anything runs if workers could not receive the function by reference."""
    func = job.func
    name = _describe(func)
    qualname = getattr(func, "__qualname__", "")
    if getattr(func, "__name__", "") == "<lambda>":
        raise NotPicklable(job.collection, name, "it is a lambda, which has no importable name")
    if "<locals>" in qualname:
        outer = qualname.split(".<locals>", 1)[0]
        raise NotPicklable(
            job.collection,
            name,
            f"it is defined inside the function {outer}(), so workers cannot import it",
        )
    try:
        pickle.dumps(job)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise NotPicklable(job.collection, name, f"pickling it failed ({exc})") from exc


def _completed(job: _Job, idents: list[str]) -> dict[str, Resource]:
    """The idents already completed, read from their status files (no index, no lock)."""
    found = {}
    for ident in idents:
        res_dir = os.path.join(job.coll_dir, ident)
        if _store.read_status(res_dir) != COMPLETED:
            continue
        try:
            res = load_resource(job.coll_dir, job.collection, ident)
        except DamagedResource:
            continue  # the worker's fetch logs it and computes it again
        if res.status == COMPLETED:
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


def _chunks(
    idents: list[str], args: list[Any], workers: int
) -> Iterator[tuple[list[str], list[Any]]]:
    size = max(1, min(MAX_CHUNK, len(idents) // (workers * CHUNKS_PER_WORKER)))
    for start in range(0, len(idents), size):
        yield idents[start : start + size], args[start : start + size]


def _run(
    pool: Executor,
    owned: bool,
    workers: int,
    job: _Job,
    idents: list[str],
    args: list[Any],
    bar: ProgressBar,
) -> dict[str, Resource]:
    """Submit the chunks a window at a time and collect their Resources."""
    chunks = _chunks(idents, args, workers)
    window = max(2, workers * IN_FLIGHT_PER_WORKER)
    in_flight: set[Future[list[Resource]]] = set()
    found: dict[str, Resource] = {}
    try:
        while True:
            for chunk in chunks:
                in_flight.add(pool.submit(_fetch_chunk, job, *chunk))
                if len(in_flight) >= window:
                    break
            if not in_flight:
                return found
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                results = future.result()  # a worker's StorageError or a broken pool
                found.update((res.ident, res) for res in results)
                bar.advance(len(results), sum(res.status == ERROR for res in results))
    except KeyboardInterrupt:
        for future in in_flight:
            future.cancel()
        if owned:
            _abandon(pool)
        raise
    except BaseException:
        for future in in_flight:
            future.cancel()  # the running ones finish; the caller's shutdown waits for them
        raise


def _abandon(pool: Executor) -> None:
    """After Ctrl-C, stop our own process pool now, without running what is queued.

    ``shutdown(wait=False, cancel_futures=True)`` alone is not enough: the
    chunks already handed to the workers' call queue would still run, and the
    interpreter waits for them at exit. So the workers are terminated too; the
    kernel drops their compute locks, and readers see what they were computing
    as ``interrupted``. Completed resources are already on disk.
    """
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
