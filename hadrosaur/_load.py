"""Reading one resource from its directory, without computing anything.

Three questions, one home: what a resource is now (:func:`load_resource`,
``Project.load``), what its status is now (:func:`read_current_status`,
``Project.status``), and whether it is completed, with its result
(:func:`completed_resource`: a fetch's cache hit, fetch_many's skip of the
completed). None of them takes the compute lock: they rely on the order of
the lifecycle (see _compute.py), in which the result is in place before the
status says completed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import _store
from ._liveness import current_status
from ._nofollow import RefusedFile
from .errors import DamagedResource
from .resource import Resource
from .status import COMPLETED, ERROR, UNAVAILABLE, is_damaged

__all__ = (
    "completed_resource",
    "int_or_none",
    "load_resource",
    "read_current_status",
    "resource_from_meta",
)


def int_or_none(value: object) -> int | None:
    """``value`` if it is an int (not a bool), else None: meta.json is read, not trusted."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def load_resource(
    coll_dir: _store.StrPath, collection: str, ident: str, strict: bool = True
) -> Resource:
    """Read a resource as it is on disk, without computing anything.

    A damaged status file reads as an error whose ``problem`` says so; so do a
    status or meta.json that is a symlink (or FIFO, device...), and a resource
    "directory" that is a symlink or a file: nothing behind them is read.

    Raises:
        DamagedResource: the status says completed but result.json is missing,
            unreadable or not valid JSON (with ``strict=False``: returned with
            ``result`` None and ``problem`` set instead).
    """
    res_dir = os.path.join(coll_dir, ident)
    dir_problem = _store.directory_problem(res_dir)
    if dir_problem is None:
        return resource_from_meta(collection, ident, res_dir, UNAVAILABLE, None, {})
    if dir_problem:
        problem = _store.damaged_dir_reason(dir_problem)
        return resource_from_meta(collection, ident, res_dir, ERROR, None, {}, problem)
    damage: DamagedResource | None = None
    # The status and the result are two files: a recompute that begins between
    # the two reads removes the result of a status just read as completed. So a
    # missing result only means damage if the status still says completed after
    # another look (three looks in a row: a recompute cycle takes far longer).
    for _ in range(3):
        word = _store.read_status(res_dir)
        meta, meta_problem = _store.read_meta_checked(res_dir)
        problem = ""
        if word is None:
            status = UNAVAILABLE
        elif is_damaged(word):
            status = ERROR
            problem = _store.damaged_status_reason(word)
        elif meta_problem:
            status, problem = ERROR, meta_problem
        else:
            status = current_status(Path(res_dir), word)
        if status != COMPLETED:
            return resource_from_meta(collection, ident, res_dir, status, None, meta, problem)
        try:
            result = _read_result(res_dir)
        except DamagedResource as exc:
            damage = exc
            continue
        return resource_from_meta(collection, ident, res_dir, status, result, meta)
    assert damage is not None
    if strict:
        raise damage
    return resource_from_meta(collection, ident, res_dir, COMPLETED, None, meta, damage.problem)


def read_current_status(res_dir: Path) -> str:
    """completed, pending, interrupted, error or unavailable, as :func:`load_resource` reads it.

    Without reading the result. A damaged resource (a garbled status; a
    resource directory, status or meta.json that is a symlink) is an error.
    """
    dir_problem = _store.directory_problem(res_dir)
    if dir_problem is None:
        return UNAVAILABLE
    if dir_problem:
        return ERROR  # a symlink or a file where the resource directory should be
    word = _store.read_status(res_dir)
    if word is None:
        return UNAVAILABLE
    if is_damaged(word) or _store.read_meta_checked(res_dir)[1]:
        return ERROR  # a damaged status file, or a meta.json that is a symlink
    return current_status(res_dir, word)


def resource_from_meta(
    collection: str,
    ident: str,
    res_dir: str,
    status: str,
    result: Any,
    meta: dict[str, Any],
    problem: str = "",
) -> Resource:
    """A Resource from what was read; fields of meta.json of the wrong type read as unknown."""
    start = int_or_none(meta.get("start_time"))
    attempt = int_or_none(meta.get("attempt"))
    host = meta.get("host")
    return Resource(
        collection=collection,
        ident=ident,
        status=status,
        result=result,
        start_time=start,
        end_time=int_or_none(meta.get("end_time")),
        directory=res_dir,
        args=meta.get("args"),
        attempt=attempt if attempt is not None else (1 if start is not None else 0),
        pid=int_or_none(meta.get("pid")),
        host=host if isinstance(host, str) else None,
        problem=problem,
    )


def _read_result(res_dir: str) -> Any:
    """The parsed result.json of a resource; DamagedResource when it cannot be."""
    try:
        raw = _store.read_regular(f"{res_dir}/{_store.RESULT_FILE}")
    except RefusedFile as exc:  # a symlink, a directory, a FIFO: not read
        raise DamagedResource(Path(res_dir), f"{_store.RESULT_FILE}: {exc.reason}") from None
    except OSError as exc:  # an I/O error
        raise DamagedResource(
            Path(res_dir), f"result.json cannot be read ({exc.strerror or exc})"
        ) from None
    if raw is None:
        raise DamagedResource(Path(res_dir), "status is completed but result.json is missing")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise DamagedResource(Path(res_dir), f"result.json is not valid JSON ({exc})") from None


def _completed_fast(res_dir: str, collection: str, ident: str) -> Resource | None:
    """A resource whose status was just read as completed, from its result and meta.json.

    The common case, in two reads. Returns None whenever anything is unusual
    (result missing or not JSON, meta.json without an end time because a
    recompute has begun since the status was read): the caller then takes
    the careful path of :func:`load_resource`.
    """
    try:
        result = _read_result(res_dir)
    except DamagedResource:
        return None
    meta, meta_problem = _store.read_meta_checked(res_dir)
    if meta_problem or int_or_none(meta.get("end_time")) is None:
        return None
    return resource_from_meta(collection, ident, res_dir, COMPLETED, result, meta)


def completed_resource(coll_dir: str, collection: str, ident: str) -> Resource | None:
    """The resource if it is completed, with its result; None if it is not (compute it).

    One status read decides the common cases: only a status read as
    completed goes on to the result (completed is only ever written after
    it), first in two reads, then, if anything looked unusual, by the
    careful path of :func:`load_resource`.

    Raises:
        DamagedResource: the status still says completed, but result.json is
            missing, unreadable or not JSON: the caller computes it again.
    """
    res_dir = f"{coll_dir}/{ident}"
    if _store.read_status(res_dir) != COMPLETED:
        return None
    found = _completed_fast(res_dir, collection, ident)
    if found is None:
        found = load_resource(coll_dir, collection, ident)
    return found if found.status == COMPLETED else None
