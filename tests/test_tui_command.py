"""The ``hadrosaur-tui`` command line: --version, and the base directory it watches by default.

Only the arguments are tested here (``parse_args`` does not start the app);
the app itself is tested in tests/tui/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hadrosaur
from hadrosaur import Project
from hadrosaur.cli import BASE_ENV
from hadrosaur_tui.__main__ import parse_args

from .helpers import REPO


def _tui(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur_tui", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version_is_the_one_version(tmp_path: Path) -> None:
    done = _tui("--version", cwd=tmp_path, env={})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"hadrosaur-tui {hadrosaur.__version__}\n"


def test_the_base_defaults_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BASE_ENV, str(tmp_path / "b"))
    assert parse_args([]).base == tmp_path / "b"
    assert parse_args([str(tmp_path / "explicit")]).base == tmp_path / "explicit"
    assert parse_args(["--demo"]).base is None


def test_the_base_defaults_to_the_current_directory_when_it_holds_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BASE_ENV, raising=False)
    Project(tmp_path).resource("items")(lambda ident, args, ctx: 1)  # makes the collection
    monkeypatch.chdir(tmp_path)
    assert parse_args([]).base == Path(".")


def test_without_a_base_anywhere_it_is_a_usage_error(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != BASE_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "hadrosaur_tui"],
        cwd=tmp_path,  # empty: holds no collections
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("usage: hadrosaur-tui")
    assert f"give a base directory, set {BASE_ENV}" in done.stderr
    assert "Traceback" not in done.stderr


def test_jobs_sizes_a_retry_and_must_be_positive(tmp_path: Path) -> None:
    assert parse_args([str(tmp_path), "--jobs", "3"]).jobs == 3
    assert parse_args([str(tmp_path)]).jobs is None  # the app then uses one per CPU
    done = _tui(str(tmp_path), "--jobs", "0", cwd=tmp_path, env={})
    assert done.returncode == 2 and "--jobs must be 1 or more" in done.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "soon"])
def test_poll_must_be_a_positive_finite_number_of_seconds(tmp_path: Path, value: str) -> None:
    assert parse_args([str(tmp_path), "--poll", "0.5"]).poll == 0.5
    done = _tui(str(tmp_path), f"--poll={value}", cwd=tmp_path, env={})
    assert done.returncode == 2, done
    assert done.stderr.startswith("usage: hadrosaur-tui")
    assert "argument --poll: " in done.stderr and repr(value) in done.stderr
