"""Code written for hadrosaur 0.4.1 keeps working: its ``except RuntimeError`` still catches.

0.4.1 raised ``RuntimeError`` for a base path that is not a directory, a
collection name used twice, and any call naming a collection the project does
not know. Each case still raises, now a HadrosaurError that is also a RuntimeError.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import (
    BaseDirectoryNotFound,
    CollectionAlreadyDefined,
    CollectionNotDefined,
    Context,
    HadrosaurError,
    Project,
    UnknownCollection,
)


def first(ident: str, args: dict[str, Any], ctx: Context) -> int:
    return 1


def second(ident: str, args: dict[str, Any], ctx: Context) -> int:
    return 2


def raised_as_runtime_error(call: Callable[[], object]) -> RuntimeError:
    """Run ``call`` the way 0.4.1 code did, and return what ``except RuntimeError`` caught."""
    try:
        call()
    except RuntimeError as exc:
        return exc
    raise AssertionError("no RuntimeError raised")


def test_a_base_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "base").write_text("not a directory")
    exc = raised_as_runtime_error(lambda: Project(tmp_path / "base"))
    assert isinstance(exc, BaseDirectoryNotFound)
    assert isinstance(exc, FileNotFoundError)  # and still what new code catches


def test_a_collection_name_defined_twice(proj: Project) -> None:
    proj.collection("things")(first)
    exc = raised_as_runtime_error(lambda: proj.collection("things")(second))
    assert isinstance(exc, CollectionAlreadyDefined)
    assert isinstance(exc, HadrosaurError)
    assert "'things' is already defined by tests.test_compat.first" in str(exc)
    proj.collection("things")(first)  # the same function again is no error


def test_fetching_from_a_collection_without_a_function(proj: Project) -> None:
    proj.collection("things")(first)
    proj.fetch("things", "a")
    reader = Project(proj.base)  # sees the collection on disk, has no function for it
    exc = raised_as_runtime_error(lambda: reader.fetch("things", "b"))
    assert isinstance(exc, CollectionNotDefined)
    exc = raised_as_runtime_error(lambda: proj.fetch("nothing", "a"))
    assert isinstance(exc, (CollectionNotDefined, UnknownCollection))


@pytest.mark.parametrize(
    "read",
    [
        lambda p: p.stats("nothing"),
        lambda p: p.status("nothing", "a"),
        lambda p: p.find_by_status("nothing", "error"),
        lambda p: p.fetch_error("nothing", "a"),
        lambda p: p.fetch_log("nothing", "a"),
    ],
    ids=["stats", "status", "find_by_status", "fetch_error", "fetch_log"],
)
def test_reading_an_unknown_collection(proj: Project, read: Callable[[Project], object]) -> None:
    proj.collection("things")(first)
    exc = raised_as_runtime_error(lambda: read(proj))
    assert isinstance(exc, UnknownCollection)
    assert isinstance(exc, LookupError)


def test_status_of_a_resource_never_started_is_a_value_not_an_error(proj: Project) -> None:
    # 0.4.1 raised here; the status word says it better, and the README promises it.
    proj.collection("things")(first)
    assert proj.status("things", "never") == "unavailable"


def test_the_new_error_pickles_with_its_attributes() -> None:
    exc = CollectionAlreadyDefined("things", "pipeline.first", "pipeline.second")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is CollectionAlreadyDefined
    assert (back.name, back.defined_by, back.other) == (
        "things",
        "pipeline.first",
        "pipeline.second",
    )
    assert str(back) == str(exc)
