"""Recomputing resources outside the process that defined their collection (DESIGN.md section 7).

The TUI and the CLI recompute a resource in a fresh process, ``python -m
hadrosaur recompute BASE COLL IDENT``, which has to find the collection's
function again (_function_loader.py) and compute each resource again with
the args its ``meta.json`` recorded, optionally with what the function prints
captured into its log (_output_capture.py).

With ``jobs`` above 1 the resources are computed by ``fetch_many`` on its own
pool of worker processes. The loaded function is not what travels to them: a
script's function lives under a private module name that a spawned or
forkserver worker could not import. A :class:`RecordedFunction` travels
instead, naming the collection, and each worker loads the function from the
same reference (with the same sys.path and working directory) when it runs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _store
from ._compute import ComputeFunction
from ._function_loader import loaded_function
from ._names import check_collection, check_ident
from ._output_capture import output_to_log
from ._reference import recording_suspended
from .context import Context
from .errors import UnknownCollection
from .project import Project
from .resource import Resource

__all__ = ("RecordedFunction", "recompute")


def recompute(
    base: str | os.PathLike[str],
    collection: str,
    idents: Sequence[str],
    *,
    app: str | None = None,
    log_output: bool = False,
    on_result: Callable[[Resource], None] | None = None,
    jobs: int = 1,
) -> list[Resource]:
    """Compute resources of ``base`` again, with the function recorded for their collection.

    Args:
        base: the base directory (it must exist).
        collection: the collection name.
        idents: the resources to compute again; each runs with the args of its meta.json.
        app: ``"module:project"`` (or ``"path/to/script.py:project"``): load the
            function from that Project instead of the recorded reference;
            ``"module:function"`` names the function itself.
        log_output: append what the function prints (stdout and stderr, from
            Python or from child processes) to each resource's run.log.
        on_result: called with each Resource as soon as it is done (with
            ``jobs`` above 1: in the order they end, in this process).
        jobs: how many resources to compute at once. 1 computes them one
            after the other in this process; more runs them on that many
            worker processes (``fetch_many``), each ident once.

    Returns:
        The Resources in the order of ``idents`` (failures have status error).

    Raises:
        FunctionNotLoadable: the function cannot be imported; nothing was computed.
        KeyboardInterrupt: Ctrl-C; with ``jobs`` above 1 the workers are
            stopped at once, and what they computed reads ``interrupted``.

    Example:
        >>> for res in recompute("./base", "genomes", ["GCF_0003"]):  # doctest: +SKIP
        ...     print(res.ident, res.status)
    """
    proj = Project(base, create=False)
    collection = check_collection(collection)
    if collection not in proj.collections():
        raise UnknownCollection(collection, proj.base)
    coll_dir = proj.base / collection
    todo = [(ident, _recorded_args(coll_dir / ident)) for ident in map(check_ident, idents)]
    if jobs > 1:
        return _recompute_in_parallel(proj, collection, todo, app, log_output, on_result, jobs)
    results = []
    with loaded_function(coll_dir, collection, app) as func:
        if log_output:
            func = _printing_to_log(func, str(coll_dir))
        with recording_suspended():  # the reference on disk stays the user's, not ours
            proj.resource(collection)(func)
        for ident, args in todo:
            res = proj.fetch(collection, ident, args, recompute=True)
            results.append(res)
            if on_result is not None:
                on_result(res)
    return results


def _recompute_in_parallel(
    proj: Project,
    collection: str,
    todo: list[tuple[str, Any]],
    app: str | None,
    log_output: bool,
    on_result: Callable[[Resource], None] | None,
    jobs: int,
) -> list[Resource]:
    """``fetch_many(..., recompute=True)`` on ``jobs`` processes, with the recorded function."""
    from .parallel import FetchJob, fetch_many  # as Project.fetch_many: no pools at import

    coll_dir = proj.base / collection
    with loaded_function(coll_dir, collection, app):
        pass  # FunctionNotLoadable now, before any worker starts (forked ones inherit it)
    job = FetchJob(
        coll_dir=str(coll_dir),
        collection=collection,
        func=RecordedFunction(str(coll_dir), collection, app, log_output),
        recompute=True,
        durable=proj.durable,
        log_max_bytes=proj.log_max_bytes,
        log_backups=proj.log_backups,
        lease_interval=proj.lease_interval,
    )
    recorded = dict(todo)
    return fetch_many(
        job,
        [ident for ident, _ in todo],
        _no_plan,
        args=recorded.__getitem__,
        executor=None,
        progress=False,
        on_result=on_result,
        max_chunk=1,  # one resource per task: each is reported (and lost to Ctrl-C) alone
        workers=jobs,
    )


def _no_plan(idents: list[str]) -> None:
    """Recomputing plans nothing: the resources exist, and a plan file per retry would pile up."""


@dataclass(frozen=True)
class RecordedFunction:
    """A collection's function named by its recorded reference, loaded where it is called.

    Picklable by value (four strings), so that a worker process of any start
    method can receive it and load the function itself, with the sys.path
    and working directory the reference records, as the sequential
    recompute does. Loading again is cheap: the module stays imported.
    """

    coll_dir: str
    collection: str
    app: str | None = None
    log_output: bool = False

    def __call__(self, ident: str, args: Any, ctx: Context) -> Any:
        with loaded_function(Path(self.coll_dir), self.collection, self.app) as func:
            if self.log_output:
                func = _printing_to_log(func, self.coll_dir)
            return func(ident, args, ctx)


def _recorded_args(res_dir: Path) -> Any:
    args = _store.read_meta(res_dir).get("args")
    return {} if args is None else args


def _printing_to_log(func: ComputeFunction, coll_dir: str) -> ComputeFunction:
    """Wrap ``func`` so its output goes to its resource's run.log.

    The redirection starts inside the compute, after the previous attempt's
    run.log has been cleared, so it appends to this attempt's log.
    """

    def printing_to_log(ident: str, args: Any, ctx: Context) -> Any:
        with output_to_log(Path(coll_dir, ident, _store.LOG_FILE)):
            return func(ident, args, ctx)

    return printing_to_log
