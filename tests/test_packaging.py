"""What users install: the wheel and the sdist, built from this tree as a release would be.

Building both takes a few seconds (``python -m build --no-isolation`` with the
setuptools of the dev group, no network). ``scripts/check-wheel`` goes further,
with the network: it installs the wheel into a fresh venv and runs
``mypy --strict`` on user code, and checks that every declared Python installs
from wheels.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import hadrosaur

from .helpers import REPO

PACKAGES = ("hadrosaur", "hadrosaur_tui")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, and the wheel built from that sdist (as ``python -m build`` does)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def wheel_metadata(wheel: zipfile.ZipFile) -> Message:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return Parser().parsestr(wheel.read(name).decode())


def test_the_leveldb_binding_is_imported_in_kv_only() -> None:
    # plyvel is not installed from Python 3.12 on (plyvel_next is): any other import breaks there.
    imports = re.compile(r"^\s*(import|from)\s+plyvel(_next)?\b", re.M)
    found = sorted(
        str(path.relative_to(REPO))
        for folder in ("hadrosaur", "hadrosaur_tui", "tests", "benchmarks", "docs")
        for path in (REPO / folder).rglob("*.py")
        if imports.search(path.read_text())
    )
    assert found == ["hadrosaur/_index/kv.py"]


@pytest.mark.parametrize("package", PACKAGES)
def test_both_packages_are_typed(package: str) -> None:
    assert importlib.resources.files(package).joinpath("py.typed").is_file()


def test_one_version_everywhere() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hadrosaur", "--version"], capture_output=True, text=True
    )
    assert done.stdout.strip() == f"hadrosaur {hadrosaur.__version__}"
    assert importlib.metadata.version("hadrosaur") == hadrosaur.__version__
    assert not re.search(r"(?m)^version\s*=\s*\"", (REPO / "pyproject.toml").read_text())  # dynamic


def test_the_wheel_holds_the_typing_markers_and_the_stylesheet(dist: Path) -> None:
    (path,) = dist.glob("*.whl")
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        metadata = wheel_metadata(wheel)
    assert {"hadrosaur/py.typed", "hadrosaur_tui/py.typed"} <= names
    assert "hadrosaur_tui/hadrosaur_tui.tcss" in names
    assert metadata["Version"] == hadrosaur.__version__
    assert not any(name.startswith("tests/") for name in names)


def test_the_wheel_requires_one_leveldb_binding_per_python_and_no_dev_tools(dist: Path) -> None:
    (path,) = dist.glob("*.whl")
    with zipfile.ZipFile(path) as wheel:
        requirements = [Requirement(r) for r in wheel_metadata(wheel).get_all("Requires-Dist")]
    published = {r.name for r in requirements}
    assert not published & {"ruff", "mypy", "pytest", "hypothesis"}  # dependency groups only
    for version in ("3.10", "3.11", "3.12", "3.13", "3.14"):
        environment = {"python_version": version, "extra": ""}
        bindings = [
            r.name
            for r in requirements
            if r.name in {"plyvel", "plyvel-next"}
            and (r.marker is None or r.marker.evaluate(environment))
        ]
        # The one _index/kv.py imports for that version: plyvel_next from 3.12 on.
        expected = ["plyvel-next"] if tuple(map(int, version.split("."))) >= (3, 12) else ["plyvel"]
        assert bindings == expected, version


@pytest.mark.slow  # two collections of the whole suite
def test_the_sdist_runs_its_own_tests(dist: Path, tmp_path: Path) -> None:
    (path,) = dist.glob("*.tar.gz")
    with tarfile.open(path) as sdist:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            sdist.extractall(tmp_path, filter="data")
        else:
            sdist.extractall(tmp_path)  # our own sdist, just built
    (root,) = tmp_path.iterdir()
    for needed in (
        "tests/conftest.py",
        "tests/helpers.py",
        "tests/tui/conftest.py",
        "tests/reliability/conftest.py",
        "benchmarks/__main__.py",
        "CHANGELOG.md",
        "docs/collections.svg",
        "scripts/test",
    ):
        assert (root / needed).is_file(), needed
    assert any((root / "tests" / "tui" / "__snapshots__").rglob("*.svg"))

    def collected(where: Path) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
            cwd=where,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout.strip().splitlines()[-1]

    # Every module imports, and the sdist's tests are the tree's tests.
    assert re.sub(r" in .*", "", collected(root)) == re.sub(r" in .*", "", collected(REPO))
