"""Project.marker_directory and Project.is_legacy: what a monitor needs to know of the layout.

The TUI watches each collection's marker directory and marks 0.4.1
collections; it learns both from these methods, never from file names of its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import InvalidName, Project

from .test_legacy import legacy_base  # noqa: F401 (a fixture)


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    return ident


def test_a_fetch_leaves_its_marker_in_the_marker_directory(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("c")(_compute)
    markers = proj.marker_directory("c")
    assert markers.parent == proj.base / "c" and markers.is_absolute()
    proj.fetch("c", "a")
    assert "a" in os.listdir(markers)  # writers never drain: the marker waits for a reader
    proj.stats("c")  # a reader drains it
    assert "a" not in os.listdir(markers)
    proj.fetch("c", "b")
    assert "b" in os.listdir(markers)


def test_the_marker_directory_of_a_collection_not_yet_written(tmp_path: Path) -> None:
    proj = Project(tmp_path / "base")
    assert proj.marker_directory("later") == proj.base / "later" / ".updates"
    assert not proj.marker_directory("later").exists()  # naming it creates nothing


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", ".."])
def test_marker_directory_and_is_legacy_refuse_invalid_names(tmp_path: Path, name: str) -> None:
    proj = Project(tmp_path / "base")
    with pytest.raises(InvalidName):
        proj.marker_directory(name)
    with pytest.raises(InvalidName):
        proj.is_legacy(name)


def test_is_legacy(legacy_base: Path) -> None:  # noqa: F811 (the fixture)
    proj = Project(legacy_base, create=False)
    assert proj.is_legacy("genomes")
    proj.resource("fresh")(_compute)
    proj.fetch("fresh", "a")
    assert not proj.is_legacy("fresh")


def test_a_legacy_collection_defined_again_is_no_longer_legacy(legacy_base: Path) -> None:  # noqa: F811
    proj = Project(legacy_base, create=False)
    proj.resource("genomes")(_compute)  # records the function: .collection.json
    assert not proj.is_legacy("genomes")
