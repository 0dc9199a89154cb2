"""What a worker of fetch_many runs: one chunk of one collection's resources.

Everything here crosses a process boundary. A :class:`FetchJob` travels
pickled with each chunk, by reference for the function, so
:func:`check_picklable` refuses before anything runs a function that workers
could not import (a lambda, a function defined inside another), with the
reason. :func:`fetch_chunk` runs in the worker (or in a thread of the
caller's process for a ThreadPoolExecutor) and is the same
``compute_resource`` as ``fetch``, one resource after another.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from typing import Any

from ._compute import ComputeFunction, compute_resource
from ._lease import DEFAULT_INTERVAL
from ._load import load_resource
from ._reference import qualified_name
from .errors import NotPicklable
from .resource import Resource

__all__ = ("FetchJob", "check_picklable", "fetch_chunk", "reopen_standard_streams")


@dataclass(frozen=True)
class FetchJob:
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
    lease_interval: float = DEFAULT_INTERVAL


def fetch_chunk(job: FetchJob, idents: list[str], args: list[Any]) -> list[Resource]:
    """The task run by workers: compute each ident of a chunk in turn (module level, picklable).

    One resource's end is confined to it (``contain``): a SystemExit or other
    BaseException from its function is its error, and the chunk goes on. A
    KeyboardInterrupt leaves it interrupted and ends the chunk early, as a
    Ctrl-C should: the result is then shorter than ``idents``, and the caller
    submits the rest again unless it is being interrupted itself.
    """
    done: list[Resource] = []
    for ident, one_args in zip(idents, args, strict=True):
        try:
            res = compute_resource(
                job.coll_dir,
                job.collection,
                ident,
                job.func,
                one_args,
                recompute=job.recompute,
                durable=job.durable,
                log_max_bytes=job.log_max_bytes,
                log_backups=job.log_backups,
                contain=True,
                lease_interval=job.lease_interval,
            )
        except KeyboardInterrupt:
            done.append(load_resource(job.coll_dir, job.collection, ident, strict=False))
            break
        finally:
            reopen_standard_streams()
        done.append(res)
    return done


def reopen_standard_streams() -> None:
    """Point fds 0-2 at /dev/null again if the last function closed them (as daemons do).

    Else the next resource's compute lock would be opened as fd 1, and the
    next function that closes its stdout would release that lock mid-compute.
    Three fstat calls per resource, in whatever process runs the chunk (a pool
    worker, or the caller's process for a ThreadPoolExecutor).
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def check_picklable(job: FetchJob) -> None:
    """Fail before anything runs if workers could not receive the function by reference."""
    func = job.func
    name = qualified_name(func)
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
