"""Fixtures for the TUI tests: a fixed clock and time zone, sample bases, a settled app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
