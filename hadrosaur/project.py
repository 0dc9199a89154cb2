"""Project: the user API of hadrosaur.

A project is a base directory holding collections of resources. Defining a
collection binds a function to a name; fetching computes a resource once and
caches it on disk; the read methods answer from the collection's LevelDB
index, which they keep in step with the directories (see _index/drain.py). Any
number of processes may use one base directory at the same time.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from . import _layout, _store
from ._collection_reads import CollectionReads
from ._collections import (
    SkippedDirectory,
    existing_collection_dir,
    make_updates_dir,
    scan_collections,
)
from ._compute import ComputeFunction, compute_resource
from ._index import DEFAULT_LOG_LIMIT
from ._lease import lease_interval as resolve_lease_interval
from ._lease import remote_lease
from ._load import int_or_none, load_resource, read_current_status
from ._names import check_collection, check_ident
from ._nofollow import require_directory
from ._plans import write_plan
from ._reference import qualified_name, write_collection_file
from .context import LOG_BACKUPS, LOG_MAX_BYTES
from .errors import (
    BaseDirectoryNotFound,
    CollectionAlreadyDefined,
    CollectionNotDefined,
    HadrosaurError,
    InvalidArgs,
)
from .resource import Resource
from .status import INTERRUPTED, PENDING

__all__ = ("Project",)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


#: How long a reader waits, by default, for another process to release an index.
DEFAULT_INDEX_TIMEOUT = 30.0


class Project(CollectionReads):
    """A base directory of collections.

    Args:
        base: the base directory (created unless ``create=False``).
        durable: fsync every file and directory entry hadrosaur writes, so
            that a power cut cannot lose a completed status. Off by default:
            a process crash loses nothing either way.
        index_timeout: how long a reader waits for another process to release
            a collection index before raising :class:`~hadrosaur.IndexBusy`.
        create: create the base directory if missing; readers such as the
            CLI pass False and get :class:`~hadrosaur.BaseDirectoryNotFound`.
        log_max_bytes, log_backups: rotation of each resource's run.log.
        change_log_limit: how many changes the index keeps for live readers.
        lease_interval: seconds between two renewals of a computing resource's
            lease (``IDENT/.lease``), by which readers and fetches on other
            hosts tell a live compute from a dead one; default
            $HADROSAUR_LEASE_INTERVAL, else 5. 0 turns leases off.

    Example:
        >>> proj = Project("./base_directory")  # doctest: +SKIP
        >>> @proj.resource("squares")
        ... def square(ident, args, ctx):
        ...     return int(ident) ** 2
        >>> proj.fetch("squares", "7").result
        49
    """

    def __init__(
        self,
        base: str | os.PathLike[str],
        *,
        durable: bool = False,
        index_timeout: float = DEFAULT_INDEX_TIMEOUT,
        create: bool = True,
        log_max_bytes: int = LOG_MAX_BYTES,
        log_backups: int = LOG_BACKUPS,
        change_log_limit: int = DEFAULT_LOG_LIMIT,
        lease_interval: float | None = None,
    ) -> None:
        # Absolute, so that worker processes with another cwd find the same place.
        self.base = Path(base).expanduser().absolute()
        if create:
            try:
                self.base.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise BaseDirectoryNotFound(self.base) from None
        elif not self.base.is_dir():
            raise BaseDirectoryNotFound(self.base)
        self.durable = durable
        self.index_timeout = index_timeout
        self.log_max_bytes = log_max_bytes
        self.log_backups = log_backups
        self.change_log_limit = change_log_limit
        self.lease_interval = resolve_lease_interval(lease_interval)
        self._functions: dict[str, ComputeFunction] = {}
        # Directory of each defined collection, as str for the fetch hot path.
        self._defined_dirs: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Project({str(self.base)!r})"

    # -- defining collections ------------------------------------------------

    def resource(self, name: str) -> Callable[[F], F]:
        """Decorator: make ``func(ident, args, ctx)`` the function of collection ``name``.

        The function is returned unchanged. Defining the same name again with
        the same function (a re-run notebook cell, a worker importing the
        module) replaces it; with a different function it is an error.
        """
        name = check_collection(name)

        def define(func: F) -> F:
            old = self._functions.get(name)
            if old is not None and qualified_name(old) != qualified_name(func):
                raise CollectionAlreadyDefined(name, qualified_name(old), qualified_name(func))
            coll_dir = self.base / name
            # BASE is the user's and may be a link; COLL and COLL/.updates are
            # inside it: refused if they are links, before anything is written there.
            require_directory(str(coll_dir), "a collection directory")
            make_updates_dir(coll_dir)
            write_collection_file(coll_dir, name, func, self.durable)
            self._functions[name] = func
            self._defined_dirs[name] = str(coll_dir)
            return func

        return define

    #: Alias of :meth:`resource`, the name hadrosaur 0.4.1 used.
    collection = resource

    def function(self, name: str) -> ComputeFunction:
        """The function defined for collection ``name`` in this process."""
        try:
            return self._functions[check_collection(name)]
        except KeyError:
            raise CollectionNotDefined(name) from None

    def collections(self) -> list[str]:
        """Every collection in the base directory or defined here, sorted.

        Directories that cannot be collections are left out: see
        :meth:`skipped_directories`.
        """
        return sorted(set(scan_collections(self.base)[0]) | set(self._functions))

    def skipped_directories(self) -> list[SkippedDirectory]:
        """Directories of the base that look like collections but have invalid names.

        Overviews (``hadrosaur stats``, the TUI) name them in a warning
        rather than fail: such a directory was not made by this library.
        """
        return scan_collections(self.base)[1]

    def marker_directory(self, collection: str) -> Path:
        """Where writers leave a change marker for each resource they change.

        A writer never opens the index: after each status change it creates
        one empty file here, and readers drain these markers into the index.
        So a monitor that watches this one directory per collection learns of
        every change without watching, or scanning, every resource directory.
        It may not exist yet (a collection nothing has been written to).

        Raises:
            InvalidName: ``collection`` cannot be a collection name.

        Example:
            >>> proj.marker_directory("genomes")  # doctest: +SKIP
            PosixPath('/data/base_directory/genomes/.updates')
        """
        return self.base / check_collection(collection) / _layout.UPDATES_DIR

    def is_legacy(self, collection: str) -> bool:
        """Whether ``collection`` was written by hadrosaur 0.4.1 and never by this version.

        Such a collection has 0.4.1's own LevelDB (``.status/``) and no
        ``.collection.json``: it reads like any other, but records no function
        to recompute its resources with, so overviews mark it.

        Raises:
            InvalidName: ``collection`` cannot be a collection name.
        """
        coll_dir = self.base / check_collection(collection)
        return (coll_dir / _layout.LEGACY_INDEX_DIR).is_dir() and not (
            coll_dir / _layout.COLLECTION_FILE
        ).exists()

    def _coll_dir(self, name: str) -> Path:
        """The directory of an existing collection (validated; RefusedPath if it is a link)."""
        return existing_collection_dir(self.base, name, name in self._functions)

    # -- computing -----------------------------------------------------------

    def fetch(
        self, collection: str, ident: str, args: Any = None, recompute: bool = False
    ) -> Resource:
        """Return a resource, computing it first unless it is already completed.

        A resource in error or interrupted is computed again; one that another
        process is computing right now is waited for. An exception raised by
        the function is recorded and returned as a Resource with status
        ``error`` (the traceback is in ``fetch_error``), not raised.

        Args:
            collection: the collection name.
            ident: the resource ident.
            args: a JSON-serializable value passed to the function (default {}).
            recompute: compute again even if completed.
        """
        func = self.function(collection)
        ident = check_ident(ident)
        args = {} if args is None else args
        try:
            json.dumps(args, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidArgs(args, exc) from None
        return compute_resource(
            self._defined_dirs[collection],
            collection,
            ident,
            func,
            args,
            recompute=recompute,
            durable=self.durable,
            log_max_bytes=self.log_max_bytes,
            log_backups=self.log_backups,
            lease_interval=self.lease_interval,
        )

    def plan(self, collection: str, idents: Iterable[str]) -> str:
        """Record that ``idents`` are planned, so readers count the unstarted as unavailable.

        Idempotent: planning the same set again writes nothing. Returns the
        plan id (the name of the file under ``COLL/.plans/``).
        """
        checked = [check_ident(i) for i in idents]
        return write_plan(self._coll_dir(collection), checked, self.durable)

    def fetch_many(
        self,
        collection: str,
        idents: Iterable[str],
        args: Any = None,
        executor: Any = None,
        recompute: bool = False,
        progress: bool | None = None,
    ) -> list[Resource]:
        """Compute many resources in parallel; return them in the order of ``idents``.

        Records the planned set first (see :meth:`plan`), skips the completed
        (unless ``recompute``), and computes the rest like :meth:`fetch` does,
        each duplicate ident once. See README "Running many resources".

        Args:
            collection: the collection name.
            idents: the resource idents.
            args: one JSON-serializable value for all, or a callable ``ident -> args``.
            executor: a ``concurrent.futures.Executor`` or a ``dask.distributed.Client``;
                default a pool of one worker process per CPU, shut down after, which
                replaces a worker that dies (the resource it computed is then an error).
            recompute: compute again even those completed.
            progress: draw a progress bar on stderr; None: only if stderr is a terminal.

        Raises:
            NotPicklable: workers in other processes could not import the function.
            KeyboardInterrupt: after cancelling queued work (see the README).
            WorkerDied: a worker of the given executor died, or the default pool's
                workers keep dying before they start any resource.
        """
        # Imported here so that `import hadrosaur` does not load process pools.
        from .parallel import FetchJob, fetch_many

        func = self.function(collection)  # first: CollectionNotDefined, InvalidName
        job = FetchJob(
            coll_dir=self._defined_dirs[collection],
            collection=collection,
            func=func,
            recompute=recompute,
            durable=self.durable,
            log_max_bytes=self.log_max_bytes,
            log_backups=self.log_backups,
            lease_interval=self.lease_interval,
        )
        return fetch_many(
            job, idents, functools.partial(self.plan, collection), args, executor, progress
        )

    # -- reading one resource (straight from its directory) --------------------

    def load(self, collection: str, ident: str, strict: bool = True) -> Resource:
        """A resource as it is on disk, without computing it (status unavailable if never run).

        ``Resource.problem`` describes damage (e.g. a garbled status file).

        Raises:
            DamagedResource: completed, but its result.json is unreadable;
                with ``strict=False`` the Resource is returned instead, with
                ``result`` None and ``problem`` saying what is wrong.
        """
        coll_dir = self._coll_dir(collection)
        res = load_resource(coll_dir, collection, check_ident(ident), strict)
        if res.status == PENDING and self._lease_expired(collection, ident, res.start_time):
            return dataclasses.replace(res, status=INTERRUPTED)
        return res

    def status(self, collection: str, ident: str) -> str:
        """completed, pending, interrupted, error or unavailable.

        A damaged resource (a garbled status; a resource directory, status or
        meta.json that is a symlink) is an error, as in :meth:`load`.
        """
        res_dir = self._coll_dir(collection) / check_ident(ident)
        status = read_current_status(res_dir)
        if status == PENDING:
            start = int_or_none(_store.read_meta(res_dir).get("start_time"))
            if self._lease_expired(collection, ident, start):
                return INTERRUPTED
        return status

    def _lease_expired(self, collection: str, ident: str, start_time: int | None) -> bool:
        """For a resource read pending: True when readers here watched its lease expire.

        Only another host's attempt with a lease can be (here the lock decided
        already). The index keeps this host's watches (_index/leases.py), and
        opening it continues them, so this is ``stats``'s answer: interrupted
        once it recorded the attempt read (its start time) interrupted. An
        index that cannot be opened now leaves it pending.
        """
        res_dir = f"{self._coll_dir(collection)}/{ident}"
        if not remote_lease(_store.read_meta(res_dir)):
            return False
        try:
            entry = self._read(collection, lambda view: view.entry(ident))
        except (HadrosaurError, OSError):
            return False
        return (
            entry is not None
            and entry.status == INTERRUPTED
            and entry.start_time == start_time
            and _store.read_status(res_dir) == PENDING
        )

    def _res_dir(self, collection: str, ident: str) -> Path:
        """A resource's directory, refused (RefusedPath) if it is a symlink or a file."""
        res_dir = self._coll_dir(collection) / check_ident(ident)
        require_directory(str(res_dir), "a resource directory")
        return res_dir

    def fetch_error(self, collection: str, ident: str) -> str:
        """The traceback of the resource's last failed attempt ("" when none).

        Raises:
            RefusedPath: the resource directory is a symlink or a file.
            DamagedResource: error.log is a symlink (or a FIFO, a directory...);
                what it points at is not read.
        """
        res_dir = self._res_dir(collection, ident)
        return _store.read_text(res_dir, _store.ERROR_FILE)

    def fetch_log(self, collection: str, ident: str) -> str:
        """The run log of the resource's last attempt, rotated parts included ("" when none).

        Raises:
            RefusedPath: the resource directory is a symlink or a file.
            DamagedResource: run.log (or a rotated part) is a symlink, a FIFO...;
                what it points at is not read.
        """
        res_dir = self._res_dir(collection, ident)
        parts = [
            _store.read_text(res_dir, f"{_store.LOG_FILE}.{n}")
            for n in range(self.log_backups, 0, -1)
        ]
        return "".join(parts) + _store.read_text(res_dir, _store.LOG_FILE)
