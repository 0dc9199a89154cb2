"""The errors hadrosaur raises.

Every error derives from :class:`HadrosaurError`, and each also derives from the
built-in exception a caller would naturally catch (``ValueError`` for a bad
name, ``TimeoutError`` for a busy index), so code that does not know about
hadrosaur still handles them sensibly. Messages name the offending value or
path and say what to do about it.

Where hadrosaur 0.4.1 raised ``RuntimeError`` and hadrosaur still raises (an
undefined or unknown collection, a collection name defined twice, a base path
that is not a directory), the error is also a ``RuntimeError``, so that
``except RuntimeError`` in code written for 0.4.1 keeps working.
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .signature import is_signature_prefix

__all__ = (
    "BaseDirectoryNotFound",
    "CollectionAlreadyDefined",
    "CollectionNotDefined",
    "DamagedResource",
    "FunctionNotLoadable",
    "HadrosaurError",
    "IndexBusy",
    "IndexUnavailable",
    "InvalidArgs",
    "InvalidLeaseInterval",
    "InvalidName",
    "InvalidStatus",
    "NotPicklable",
    "RefusedPath",
    "StorageError",
    "UnknownCollection",
    "UnknownErrorGroup",
    "UnknownResource",
    "UnreadableCollection",
    "WorkerDied",
)


#: What ``__reduce__`` returns: the class and the arguments that build it again.
#: An error raised in a pool worker reaches the parent pickled, and the default
#: (the class called with ``self.args``, the message) fails for every class
#: whose ``__init__`` takes other arguments, which broke the whole pool; each
#: such class therefore says how to rebuild itself (filelock's ``Timeout`` does
#: the same). tests/test_errors.py checks every class in ``__all__``.
_Reduced = tuple[Any, tuple[Any, ...]]


class HadrosaurError(Exception):
    """Base class of every error raised by hadrosaur."""


class InvalidName(HadrosaurError, ValueError):
    """A collection name or resource ident that cannot be used as a directory name."""

    def __init__(self, kind: str, value: object, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        super().__init__(
            f"invalid {kind} {value!r}: {reason}. A {kind} must be a non-empty str of at "
            "most 255 UTF-8 bytes, without '/', NUL or control characters, not '.' or '..', "
            "and not starting with '.'"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.kind, self.value, self.reason))


class IndexBusy(HadrosaurError, TimeoutError):
    """Another process kept the collection index open for longer than the timeout."""

    def __init__(self, path: Path, waited: float) -> None:
        self.path = path
        self.waited = waited
        super().__init__(
            f"the index {path} stayed busy for {waited:.1f} s (another process holds it); "
            "try again, or pass a longer index_timeout to Project()"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.path, self.waited))


class IndexUnavailable(HadrosaurError, OSError):
    """The index cannot be opened or created at all (permissions, disk full...)."""

    def __init__(self, path: Path, cause: BaseException | str) -> None:
        self.path = path
        #: The cause as text: the cause itself may not pickle (a plyvel error).
        self.reason = str(cause)
        super().__init__(
            f"cannot open the index {path}: {cause}. Check that the directory is writable "
            "and the disk is not full; the index is a cache and may be deleted safely"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.path, self.reason))


class UnknownCollection(HadrosaurError, LookupError, RuntimeError):
    """The collection does not exist in the base directory."""

    def __init__(self, name: str, base: Path) -> None:
        self.name = name
        self.base = base
        super().__init__(
            f"no collection {name!r} in {base}; define it with @project.resource({name!r}) "
            "or check the base directory"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.name, self.base))

    def __str__(self) -> str:
        # LookupError would otherwise quote the whole message like a KeyError does.
        return str(self.args[0])


class UnreadableCollection(HadrosaurError, PermissionError):
    """A collection directory this user may not look into (another user's, mode 700).

    Attributes:
        path: the collection directory.
        user: this process's user, as the message names it.
    """

    def __init__(self, path: Path, user: str) -> None:
        self.path = path
        self.user = user
        super().__init__(
            f"cannot read the collection {path}: permission denied for this user ({user}); "
            "ask its owner for read and search permission (chmod g+rx or o+rx), "
            "or run as a user who may read it"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.path, self.user))

    def __str__(self) -> str:
        return str(self.args[0])


class CollectionNotDefined(HadrosaurError, LookupError, RuntimeError):
    """fetch() was asked to compute a collection whose function this process does not know."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"collection {name!r} has no function in this process; decorate one with "
            f"@project.resource({name!r}) before fetching (reading its stats works without)"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.name,))

    def __str__(self) -> str:
        return str(self.args[0])


class BaseDirectoryNotFound(HadrosaurError, FileNotFoundError, RuntimeError):
    """The base directory does not exist and the caller asked not to create it.

    ``variable`` names the environment variable the path came from, if it
    did (the command line's ``HADROSAUR_BASE``): the user typed no path, so
    the message says where it came from and how to change it.
    """

    def __init__(self, path: Path, variable: str = "") -> None:
        self.path = path
        self.variable = variable
        message = f"base directory {path} does not exist (or is not a directory)"
        if variable:
            message = (
                f"base directory {path} (from ${variable}) does not exist (or is not a "
                f"directory); set {variable} to a base directory, or give BASE as a path: ./NAME"
            )
        super().__init__(message)

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.path, self.variable))

    def __str__(self) -> str:
        return str(self.args[0])


class DamagedResource(HadrosaurError, ValueError):
    """A resource's files on disk cannot be read back (e.g. a garbled result.json)."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"{path} is damaged: {problem}; fetch it with recompute=True to compute it again"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.path, self.problem))


class RefusedPath(HadrosaurError, OSError):
    """A path inside BASE that hadrosaur will not use: a symlink, or not the kind of file expected.

    Nothing inside the base directory is trusted: a symlink there is never
    followed, for reading, writing or deleting, so its target is never touched.

    Attributes:
        path: the refused path.
        found: what is there ("a symbolic link", "a regular file"...).
        expected: what the layout says should be there ("a resource directory"...).
    """

    def __init__(self, path: Path, found: str, expected: str) -> None:
        self.path = path
        self.found = found
        self.expected = expected
        why = (
            "hadrosaur never follows a symbolic link inside the base directory, nor reads, "
            "writes or deletes through one (its target was not touched). Remove the link "
            "(rm removes only the link, not its target)"
            if found == "a symbolic link"
            else "hadrosaur will not use it. Move it out of the base directory"
        )
        super().__init__(f"refusing {path}: it is {found}, not {expected}; {why}, then try again")

    def __reduce__(self) -> _Reduced:
        # OSError would rebuild it from its message alone; this keeps the attributes.
        return (type(self), (self.path, self.found, self.expected))

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownResource(HadrosaurError, LookupError):
    """A resource that was never started and has no directory (a mistyped ident?)."""

    def __init__(self, collection: str, ident: str, base: Path) -> None:
        self.collection = collection
        self.ident = ident
        self.base = base
        super().__init__(
            f"no resource {ident!r} in collection {collection!r} of {base}: it was never "
            f"started; list the idents with: hadrosaur ls {base} {collection}"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.collection, self.ident, self.base))


class UnknownErrorGroup(HadrosaurError, LookupError):
    """A signature (or prefix of one) that names no single error group of a collection.

    ``matches``: the signatures it is a prefix of (none: no group; several:
    ambiguous). Raised by CollectionView.resolve_group, which the command
    line uses for ``--group``; a full signature with no group is not an
    error for the library (its group is just empty: fixed, or recomputed).
    """

    def __init__(self, collection: str, prefix: str, matches: tuple[str, ...] = ()) -> None:
        self.collection = collection
        self.prefix = prefix
        self.matches = tuple(matches)
        if matches:
            found = f"it starts {len(matches)} signatures: {', '.join(matches[:10])}"
            advice = "type more of it"
        elif not is_signature_prefix(prefix):
            found = "a signature is 10 hex digits (0-9, a-f), of which at least 4 are needed"
            advice = "copy it from"
        else:
            found = "no error of the collection has it now"
            advice = "see the groups with"
        super().__init__(
            f"no single error group {prefix!r} in collection {collection!r}: {found}; "
            f"{advice} `hadrosaur errors BASE {collection}`"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.collection, self.prefix, self.matches))


class FunctionNotLoadable(HadrosaurError, ImportError):
    """A collection's function cannot be loaded in this process, so it cannot be recomputed."""

    def __init__(self, collection: str, problem: str) -> None:
        self.collection = collection
        self.problem = problem
        super().__init__(
            f"cannot load the function of collection {collection!r}: {problem}. Pass "
            f"--app module:project (app= in Python) to name a module whose Project defines "
            f"{collection!r}"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.collection, self.problem))


class StorageError(HadrosaurError, OSError):
    """A resource's files could not be written (disk full, read-only, permissions).

    ``errno`` is the cause's (``errno.ENOSPC``, ``errno.EROFS``...).
    """

    def __init__(self, path: Path, cause: OSError) -> None:
        self.path = path
        super().__init__(
            f"could not write the files of {path}: {cause.strerror or cause}. Free some space "
            "or fix the permissions, then fetch it again; nothing was marked completed"
        )
        self.errno = cause.errno
        self.strerror = cause.strerror
        self._detail = cause.strerror or str(cause)

    def _cause(self) -> OSError:
        """A plain OSError that gives the same message, errno and strerror (it pickles)."""
        cause = (
            OSError(self.errno, self._detail) if self.errno is not None else OSError(self._detail)
        )
        cause.strerror = self.strerror
        return cause

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.path, self._cause()))

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidStatus(HadrosaurError, ValueError):
    """A status word that is not one of the statuses a reader can ask for."""

    def __init__(self, value: object, allowed: tuple[str, ...], why: str = "") -> None:
        self.value = value
        self.allowed = allowed
        self.why = why
        what = f"status {value!r} not allowed here ({why})" if why else f"unknown status {value!r}"
        super().__init__(f"{what}; use one of: {', '.join(allowed)}")

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.value, self.allowed, self.why))


class InvalidArgs(HadrosaurError, TypeError):
    """fetch() args that cannot be saved as JSON (they are kept in meta.json for recompute)."""

    def __init__(self, args: object, cause: Exception | str) -> None:
        self.value = args
        #: "Type: message" of the cause (a str cause is taken as that text already).
        self.reason = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        super().__init__(
            f"args must be JSON-serializable, because they are saved in meta.json so the "
            f"resource can be recomputed later: {self.reason}"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.value, self.reason))


class InvalidLeaseInterval(HadrosaurError, ValueError):
    """A lease interval (``Project(lease_interval=)`` or its variable) neither 0 nor 0.01-600 s."""

    def __init__(self, source: str, value: object) -> None:
        self.source = source
        self.value = value
        super().__init__(
            f"{source} must be a number of seconds, 0 (off) or from 0.01 to 600, not {value!r}: "
            "e.g. 5 (the default), or 0 to turn leases off"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.source, self.value))


class NotPicklable(HadrosaurError, TypeError):
    """fetch_many() cannot send a collection's function to other processes by reference."""

    def __init__(self, collection: str, function: str, reason: str) -> None:
        self.collection = collection
        self.function = function
        self.reason = reason
        super().__init__(
            f"fetch_many cannot send {function} (collection {collection!r}) to worker "
            f"processes: {reason}. Workers import the function by name, so define it with "
            "def at the top level of an importable module (in a script, keep the definitions "
            'at the top level and put the fetch_many call under if __name__ == "__main__":), '
            "or pass executor=ThreadPoolExecutor() to run it in threads of this process"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.collection, self.function, self.reason))


class WorkerDied(HadrosaurError, BrokenProcessPool):
    """Worker processes of fetch_many died, and the run cannot go on without them.

    The pool fetch_many creates itself replaces a dead worker and records the
    resource it was computing as an error; this is raised only when that cannot
    work: a worker of an executor the caller passed died (it is the caller's,
    so it is not replaced), or workers keep dying before they start any
    resource. It is a ``BrokenProcessPool``, which is what such code caught before.
    """

    def __init__(self, collection: str, idents: tuple[str, ...], detail: str) -> None:
        self.collection = collection
        self.idents = idents
        self.detail = detail
        shown = ", ".join(repr(ident) for ident in idents[:5])
        if len(idents) > 5:
            shown += f" and {len(idents) - 5} more"
        super().__init__(
            f"a worker process of fetch_many died ({detail}) while these resources of "
            f"collection {collection!r} were in its hands: {shown}. What they were computing "
            "reads interrupted and nothing completed is lost: call fetch_many again to compute "
            "the rest"
        )

    def __reduce__(self) -> _Reduced:
        return (type(self), (self.collection, self.idents, self.detail))


class CollectionAlreadyDefined(HadrosaurError, RuntimeError):
    """A collection name given to a second, different function in the same Project.

    A ``RuntimeError``, as in hadrosaur 0.4.1.
    """

    def __init__(self, name: str, defined_by: str, other: str) -> None:
        self.name = name
        self.defined_by = defined_by
        self.other = other
        super().__init__(
            f"collection {name!r} is already defined by {defined_by}; "
            f"choose another name for {other}"
        )

    def __reduce__(self) -> _Reduced:
        # Rebuilt from its own arguments when pickled (a fetch_many worker may raise it).
        return (type(self), (self.name, self.defined_by, self.other))
