"""Recomputing resources outside the process that defined their collection (DESIGN.md section 7).

The TUI and the CLI recompute a resource in a fresh process, ``python -m
hadrosaur recompute BASE COLL IDENT``, which has to find the collection's
function again (_function_loader.py) and compute each resource again with
the args its ``meta.json`` recorded, optionally with what the function prints
captured into its log (_output_capture.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
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

__all__ = ("recompute",)


def recompute(
    base: str | os.PathLike[str],
    collection: str,
    idents: Sequence[str],
    *,
    app: str | None = None,
    log_output: bool = False,
    on_result: Callable[[Resource], None] | None = None,
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
        on_result: called with each Resource as soon as it is done.

    Returns:
        The Resources in the order of ``idents`` (failures have status error).

    Raises:
        FunctionNotLoadable: the function cannot be imported; nothing was computed.

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
