"""The ``--long`` switch of the reliability suites, and a place to report their figures.

``--long`` itself is registered in tests/conftest.py, because pytest reads
``pytest_addoption`` only from the conftest files it loads before parsing the
command line. ``HADROSAUR_LONG=1`` in the environment does the same.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis settings are fixed when the test modules are imported; they
    # read the switch from the environment, set here before that happens.
    if config.getoption("--long", default=False):
        os.environ["HADROSAUR_LONG"] = "1"


@pytest.fixture
def long_run(request: pytest.FixtureRequest) -> bool:
    """True for the long versions of the suites (``pytest --long``)."""
    return bool(request.config.getoption("--long", default=False)) or bool(
        os.environ.get("HADROSAUR_LONG")
    )


@pytest.fixture
def report(tmp_path: Path) -> Callable[[str, dict[str, Any]], None]:
    """Print a suite's figures (shown with -s or -rA) and keep them as JSON in tmp_path."""

    def write(name: str, figures: dict[str, Any]) -> None:
        path = tmp_path / f"{name}-summary.json"
        path.write_text(json.dumps(figures, indent=2, sort_keys=True))
        print(f"\n{name}: {json.dumps(figures, sort_keys=True)}\n({path})")

    return write
