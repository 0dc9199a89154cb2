"""Every error of hadrosaur.errors crosses a process boundary intact.

An error raised in a pool worker reaches fetch_many's process pickled. An
error class that cannot be rebuilt from its pickle broke the whole pool
(BrokenProcessPool, naming no resource) instead of reporting itself, so each
class is checked here, by enumerating ``__all__``: a new class needs an
example below, and fails until it pickles.
"""

from __future__ import annotations

import errno
import pickle
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import errors
from hadrosaur.errors import HadrosaurError, StorageError, WorkerDied

# On Python 3.12+, forking a process that has threads warns; the pool below starts first.
pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")

#: One instance of each class, built as the code that raises it does.
EXAMPLES: dict[str, Any] = {
    "BaseDirectoryNotFound": lambda: errors.BaseDirectoryNotFound(Path("/no/base")),
    "CollectionAlreadyDefined": lambda: errors.CollectionAlreadyDefined(
        "genomes", "pipe.compute", "pipe.other"
    ),
    "CollectionNotDefined": lambda: errors.CollectionNotDefined("genomes"),
    "DamagedResource": lambda: errors.DamagedResource(
        Path("/b/genomes/x"), "result.json is not valid JSON (Expecting value)"
    ),
    "FunctionNotLoadable": lambda: errors.FunctionNotLoadable("genomes", "no module 'pipe'"),
    "HadrosaurError": lambda: errors.HadrosaurError("something went wrong"),
    "IndexBusy": lambda: errors.IndexBusy(Path("/b/genomes/.index"), 20.5),
    "IndexUnavailable": lambda: errors.IndexUnavailable(
        Path("/b/genomes/.index"), PermissionError(errno.EACCES, "Permission denied")
    ),
    "InvalidArgs": lambda: errors.InvalidArgs(
        {"tags": {1, 2}}, TypeError("Object of type set is not JSON serializable")
    ),
    "InvalidName": lambda: errors.InvalidName("ident", b"bytes/name", "it is a bytes, not a str"),
    "InvalidLeaseInterval": lambda: errors.InvalidLeaseInterval("lease_interval", -1),
    "InvalidStatus": lambda: errors.InvalidStatus("done", ("completed", "error"), "why"),
    "NotPicklable": lambda: errors.NotPicklable(
        "squares", "pipe.<lambda>", "it is a lambda, which has no importable name"
    ),
    "RefusedPath": lambda: errors.RefusedPath(
        Path("/b/genomes/x"), "a symbolic link", "a resource directory"
    ),
    "StorageError": lambda: errors.StorageError(
        Path("/b/genomes/x"), OSError(errno.ENOSPC, "No space left on device")
    ),
    "UnreadableCollection": lambda: errors.UnreadableCollection(Path("/b/theirs"), "nobody"),
    "UnknownCollection": lambda: errors.UnknownCollection("genomes", Path("/b")),
    "UnknownResource": lambda: errors.UnknownResource("genomes", "x", Path("/b")),
    "UnknownErrorGroup": lambda: errors.UnknownErrorGroup("genomes", "3fa9", ("3fa9a", "3fa9b")),
    "WorkerDied": lambda: errors.WorkerDied(
        "genomes", tuple(f"g{i}" for i in range(7)), "killed by signal SIGKILL"
    ),
}

#: Attributes set in C by the built-in base classes, not kept in __dict__.
BUILTIN_ATTRIBUTES = ("errno", "strerror", "filename")


def state(exc: BaseException) -> dict[str, Any]:
    found = dict(vars(exc))
    for name in BUILTIN_ATTRIBUTES:
        if hasattr(exc, name):
            found[name] = getattr(exc, name)
    return found


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_survives_pickle_with_its_message_and_attributes(name: str) -> None:
    assert name in EXAMPLES, f"add an example of {name} to EXAMPLES (and make it pickle)"
    original = EXAMPLES[name]()
    assert type(original) is getattr(errors, name)
    assert isinstance(original, HadrosaurError)
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        copy = pickle.loads(pickle.dumps(original, protocol))
        assert type(copy) is type(original)
        assert str(copy) == str(original)
        assert state(copy) == state(original)


def test_a_storage_error_keeps_its_errno_and_is_an_oserror() -> None:
    copy = pickle.loads(pickle.dumps(EXAMPLES["StorageError"]()))
    assert isinstance(copy, OSError) and copy.errno == errno.ENOSPC
    assert copy.strerror == "No space left on device"
    assert "No space left on device" in str(copy) and "/b/genomes/x" in str(copy)


def test_a_storage_error_without_strerror_keeps_its_message() -> None:
    original = StorageError(Path("/b/x"), OSError("the disk went away"))
    copy = pickle.loads(pickle.dumps(original))
    assert str(copy) == str(original) and "the disk went away" in str(copy)
    assert (copy.errno, copy.strerror) == (None, None)


def test_worker_died_is_a_broken_process_pool_and_names_the_idents() -> None:
    exc = EXAMPLES["WorkerDied"]()
    assert isinstance(exc, WorkerDied) and isinstance(exc, BrokenProcessPool)
    assert "'g0', 'g1', 'g2', 'g3', 'g4' and 2 more" in str(exc)
    assert "killed by signal SIGKILL" in str(exc)


def _raise_storage_error(path: str) -> None:
    raise StorageError(Path(path), OSError(errno.ENOSPC, "No space left on device"))


def test_a_storage_error_raised_in_a_process_pool_worker_arrives_as_itself(
    tmp_path: Path,
) -> None:
    with ProcessPoolExecutor(1) as pool:
        future = pool.submit(_raise_storage_error, str(tmp_path))
        with pytest.raises(StorageError) as caught:
            future.result()
        assert pool.submit(sum, [1, 2]).result() == 3, "the pool is not broken"
    assert caught.value.errno == errno.ENOSPC and caught.value.path == tmp_path


def test_the_module_exports_every_error_class() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, HadrosaurError)
    }
    assert classes == set(errors.__all__)
