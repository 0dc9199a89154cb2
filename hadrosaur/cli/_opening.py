"""What every command does first: open the base directory, find the resource, pick the output.

The commands read only through :class:`~hadrosaur.Project`'s public API and
raise :class:`~hadrosaur.HadrosaurError` for bad input, which ``main`` turns
into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..errors import BaseDirectoryNotFound, HadrosaurError, UnknownResource
from ..project import Project
from ..resource import UNAVAILABLE
from ._base_directory import BASE_ENV
from ._output import Output, format_json

__all__ = (
    "is_planned_only",
    "open_project",
    "print_json",
    "require_resource",
    "stdout_for",
    "warn_skipped",
)


def open_project(args: argparse.Namespace) -> Project:
    """The base directory of the command line (never created), with its --index-timeout.

    Checked first: the current directory still exists. A relative BASE, and
    loading a collection's function even for an absolute one, need it, and
    Python's own error then names no path at all.
    """
    try:
        os.getcwd()
    except FileNotFoundError:
        raise HadrosaurError(
            "the current directory no longer exists (it was deleted or moved); "
            "cd to a directory that exists and run the command again"
        ) from None
    timeout = getattr(args, "index_timeout", None)
    options = {} if timeout is None else {"index_timeout": timeout}
    try:
        return Project(args.base, create=False, **options)
    except BaseDirectoryNotFound as exc:
        if not getattr(args, "base_from_environment", False):
            raise
        raise BaseDirectoryNotFound(exc.path, BASE_ENV) from None


def stdout_for(args: argparse.Namespace) -> Output:
    """Standard output as the command line's --raw / --visible flags want it."""
    return Output(sys.stdout, getattr(args, "display", "auto"))


def print_json(value: Any) -> None:
    print(format_json(value))


def require_resource(proj: Project, collection: str, ident: str) -> str:
    """The resource's status; UnknownResource when it is neither on disk nor planned.

    A planned ident that never started has no directory, but ``ls`` lists it
    (as unavailable) from the index: so it exists for show, log and error too.
    """
    status = proj.status(collection, ident)
    if status == UNAVAILABLE and is_planned_only(proj, collection, ident) is None:
        raise UnknownResource(collection, ident, proj.base)
    return status


def is_planned_only(proj: Project, collection: str, ident: str) -> bool | None:
    """For an unavailable resource: True when it is planned and never started (no directory),
    False when it has a directory, None when it is not known at all."""
    if (proj.base / collection / ident).is_dir():
        return False
    with proj.view(collection) as view:
        return True if view.entry(ident) is not None else None


def warn_skipped(proj: Project) -> None:
    """One line on stderr per directory of the base that cannot be a collection."""
    for skipped in proj.skipped_directories():
        print(
            f"hadrosaur: warning: skipped {skipped.name!r} in {proj.base}: {skipped.reason}",
            file=sys.stderr,
        )
