"""Fixtures: a project in a temporary base, and the pipeline module child processes import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hadrosaur import Project

from .helpers import PIPELINE

# A developer's own HADROSAUR_BASE must not decide what the tests' commands read.
os.environ.pop("HADROSAUR_BASE", None)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "base"


@pytest.fixture
def proj(base: Path) -> Project:
    return Project(base, index_timeout=20)


@pytest.fixture
def pipeline(tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write the pipeline module; return the directory to put on sys.path."""
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    monkeypatch.setenv("HADROSAUR_TEST_BASE", str(base))
    return tmp_path


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, not in tests/reliability/conftest.py: pytest reads this hook only
    # from the conftest files it loads before parsing the command line.
    parser.addoption(
        "--long", action="store_true", help="run the long versions (tests/reliability)"
    )
