"""Fixtures for the TUI tests: a fixed clock and time zone, sample bases, a settled app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hadrosaur import ERROR, Project

from .harness import compute
from .retry_functions import gated
from .sample import build_sample_base


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times on screen are local times: make local mean UTC for every test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def sample_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample base at ./base relative to the test's cwd (so paths on screen are fixed)."""
    monkeypatch.chdir(tmp_path)
    build_sample_base(tmp_path / "base")
    return Path("base")


@pytest.fixture
def computed(tmp_path: Path) -> Project:
    """A project whose collection c holds a completed (a) and a failed (fail-b) resource."""
    project = Project(tmp_path / "base")
    project.resource("c")(compute)
    project.fetch("c", "a")
    project.fetch("c", "fail-b")
    return project


@pytest.fixture
def held(tmp_path: Path) -> Project:
    """Collection g: "quick" and two "gate*" resources in error, their args recorded.

    Recomputed once "fixed" exists, "quick" completes and the gate ones wait
    for their gate files, which the test never creates.
    """
    project = Project(tmp_path / "base")
    project.resource("g")(gated)
    args = {"fixed": str(tmp_path / "fixed"), "gates": str(tmp_path / "gates")}
    for ident in ("quick", "gate1", "gate2"):
        assert project.fetch("g", ident, args).status == ERROR
    (tmp_path / "fixed").touch()
    return project
