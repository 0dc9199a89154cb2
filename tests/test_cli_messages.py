"""F12: messages that say where a path came from, and what to do, never a bare errno."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur.cli import BASE_ENV

from .helpers import REPO


def _fails(ident: str, args: Any, ctx: Any) -> Any:
    raise RuntimeError("on purpose")


def _hadrosaur(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != BASE_ENV}
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur", *argv],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_base_from_the_environment_that_is_a_file_says_so(tmp_path: Path) -> None:
    script = tmp_path / "mk.py"
    script.write_text("")
    done = _hadrosaur("stats", cwd=tmp_path, env={BASE_ENV: str(script)})
    assert done.returncode == 2
    assert done.stderr == (
        f"hadrosaur: error: base directory {script} (from ${BASE_ENV}) does not exist (or is "
        f"not a directory); set {BASE_ENV} to a base directory, or give BASE as a path: ./NAME\n"
    )
    typed = _hadrosaur("stats", str(script), cwd=tmp_path)  # typed: no word of the variable
    assert typed.returncode == 2 and BASE_ENV not in typed.stderr


@pytest.mark.parametrize("argv", [["recompute", "{base}", "c", "err"], ["stats", "."]])
def test_a_deleted_working_directory_is_named(tmp_path: Path, argv: list[str]) -> None:
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(_fails)
    proj.fetch("c", "err")
    gone = tmp_path / "gone"
    gone.mkdir()
    words = [a.format(base=base) for a in argv]
    # The shell's cd, then the directory removed from under it, as a user's rm -r would.
    done = subprocess.run(
        [
            "sh",
            "-c",
            'cd "$1" && rmdir "$1" && shift && exec "$@"',
            "sh",
            str(gone),
            sys.executable,
            "-m",
            "hadrosaur",
            *words,
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done
    assert done.stderr == (
        "hadrosaur: error: the current directory no longer exists (it was deleted or moved); "
        "cd to a directory that exists and run the command again\n"
    )
