"""hadrosaur: track the status, results, errors and logs of very many computed resources.

Example:
    >>> from hadrosaur import Project  # doctest: +SKIP
    >>> proj = Project("./base_directory")
    >>> @proj.resource("squares")
    ... def square(ident, args, ctx):
    ...     ctx.logger.info("squaring %s", ident)
    ...     return int(ident) ** 2
    >>> proj.fetch("squares", "7").result
    49
    >>> proj.stats("squares")["counts"]["completed"]
    1
"""

from __future__ import annotations

from ._collections import SkippedDirectory
from .context import Context
from .entries import Change, ChangeBatch, Cursor, Entry, ErrorGroup
from .errors import (
    BaseDirectoryNotFound,
    CollectionAlreadyDefined,
    CollectionNotDefined,
    DamagedResource,
    HadrosaurError,
    IndexBusy,
    IndexUnavailable,
    InvalidArgs,
    InvalidLeaseInterval,
    InvalidName,
    InvalidStatus,
    NotPicklable,
    RefusedPath,
    StorageError,
    UnknownCollection,
    UnknownErrorGroup,
    UnreadableCollection,
    WorkerDied,
)
from .project import Project
from .resource import (
    COMPLETED,
    COUNT_KEYS,
    ERROR,
    INTERRUPTED,
    PENDING,
    STATUSES,
    UNAVAILABLE,
    Resource,
)
from .view import CollectionView

__version__ = "0.5.0"

__all__ = (
    "COMPLETED",
    "COUNT_KEYS",
    "ERROR",
    "INTERRUPTED",
    "PENDING",
    "STATUSES",
    "UNAVAILABLE",
    "BaseDirectoryNotFound",
    "Change",
    "ChangeBatch",
    "CollectionAlreadyDefined",
    "CollectionNotDefined",
    "CollectionView",
    "Context",
    "Cursor",
    "DamagedResource",
    "Entry",
    "ErrorGroup",
    "HadrosaurError",
    "IndexBusy",
    "IndexUnavailable",
    "InvalidArgs",
    "InvalidLeaseInterval",
    "InvalidName",
    "InvalidStatus",
    "NotPicklable",
    "Project",
    "RefusedPath",
    "Resource",
    "SkippedDirectory",
    "StorageError",
    "UnknownCollection",
    "UnknownErrorGroup",
    "UnreadableCollection",
    "WorkerDied",
    "__version__",
)
