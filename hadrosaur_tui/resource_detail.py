"""What the detail tabs show of one resource, read through hadrosaur's public API.

The reader thread (reader.py) calls :func:`read_detail` with the project it
already holds when the selection moves, and posts the result in a
:class:`~hadrosaur_tui.messages.DetailLoaded`; the UI thread only draws it
(widgets/detail.py). Where the resource's files are comes from
:attr:`hadrosaur.Resource.paths`, so the TUI knows no file name of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hadrosaur import COMPLETED, UNAVAILABLE, DamagedResource, HadrosaurError, Project

__all__ = ("DetailData", "read_detail", "unreadable_detail")


@dataclass(frozen=True)
class DetailData:
    """Everything the tabs show of one resource.

    ``paths`` are the resource's files by role, as :attr:`hadrosaur.Resource.paths`
    names them (base, log, error, result, storage, ...); empty when the
    resource could not be read at all. ``problem`` is set when the resource
    could not be read (damaged files); ``reason`` is what the index says of
    an error, shown when there is no traceback.
    """

    collection: str
    ident: str
    status: str
    paths: Mapping[str, Path] = field(default_factory=dict)
    error_text: str = ""
    result_text: str | None = None
    meta: dict[str, Any] | None = None
    problem: str = ""
    reason: str = ""

    @property
    def directory(self) -> Path | None:
        """The resource directory, None when unknown."""
        return self.paths.get("base")


def unreadable_detail(collection: str, ident: str, problem: str) -> DetailData:
    """The detail of a resource that could not be read at all, saying why."""
    return DetailData(collection, ident, UNAVAILABLE, problem=problem)


def read_detail(project: Project, collection: str, ident: str, reason: str = "") -> DetailData:
    """Everything the detail tabs show of ``collection/ident``; never raises for a bad resource.

    ``reason`` is what the index says of an error (shown when there is no
    traceback, e.g. for a damaged status file).
    """
    try:
        resource = project.load(collection, ident, strict=False)
        problem = resource.problem
        # A damaged resource (e.g. its directory is a symlink) has nothing more to read.
        error_text, problem = ("", problem) if problem else _error_text(project, collection, ident)
    except (HadrosaurError, OSError) as exc:
        return unreadable_detail(collection, ident, str(exc))
    result_text = None
    if resource.status == COMPLETED:
        result_text = json.dumps(resource.result, indent=2, ensure_ascii=False)
    meta = {
        "start_time": resource.start_time,
        "end_time": resource.end_time,
        "attempt": resource.attempt,
        "pid": resource.pid,
        "host": resource.host,
        "args": resource.args,
    }
    return DetailData(
        collection,
        ident,
        resource.status,
        resource.paths,
        error_text,
        result_text if not problem else None,
        meta,
        problem=problem,
        reason=reason,
    )


def _error_text(project: Project, collection: str, ident: str) -> tuple[str, str]:
    """(traceback, "") or, when error.log is refused (a symlink, a FIFO...), ("", why)."""
    try:
        return project.fetch_error(collection, ident), ""
    except DamagedResource as exc:
        return "", exc.problem
