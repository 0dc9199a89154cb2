"""Children that hadrosaur starts never import code planted in the current directory.

``python -m`` and ``python -c`` put the current directory first on sys.path;
the monitor often runs in a base directory, and hadrosaur never runs code
found there (README, Security).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hadrosaur import Project
from hadrosaur.children import python_command, python_module_command
from hadrosaur_tui.recompute import recompute_command

from .helpers import child_env

_PLANTED = 'print("PLANTED CODE RAN")\nraise SystemExit(99)\n'


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment of a child: the repository importable, the planted directory not."""
    return child_env(tmp_path / "no-pipeline")


def _run(command: list[str], cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env=_env(tmp_path), timeout=120
    )


def _plant(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text(_PLANTED)


def test_a_module_child_runs_the_installed_package_not_a_planted_file(tmp_path: Path) -> None:
    _plant(tmp_path, "hadrosaur.py", "hadrosaur_tui.py")
    done = _run(python_module_command("hadrosaur", ["--version"]), tmp_path, tmp_path)
    assert "PLANTED" not in done.stdout + done.stderr
    assert done.returncode == 0 and done.stdout.startswith("hadrosaur ")
    code = "print(sys.argv[1:], '' in sys.path, '.' in sys.path)"
    done = _run(python_command(code, ["a"]), tmp_path, tmp_path)
    assert done.stdout.strip() == "['a'] False False"


def test_hadrosaur_tui_in_a_directory_holding_a_planted_module(tmp_path: Path) -> None:
    _plant(tmp_path, "hadrosaur_tui.py")
    done = _run([sys.executable, "-m", "hadrosaur", "tui", "--version"], tmp_path, tmp_path)
    # `python -m hadrosaur` itself is the user's choice; what it starts must not be planted.
    assert "PLANTED" not in done.stdout + done.stderr
    assert done.returncode == 0 and "hadrosaur-tui" in done.stdout


def _fails_once(ident: str, args: object, ctx: object) -> str:
    return ident


def test_the_monitors_recompute_child_ignores_a_planted_hadrosaur_py(tmp_path: Path) -> None:
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("items")(_fails_once)
    proj.fetch("items", "a")
    _plant(base, "hadrosaur.py")  # the monitor runs in the base: `hadrosaur-tui` defaults to .
    done = subprocess.run(
        recompute_command(base, "items", 1),
        cwd=base,
        input="a\n",
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert "PLANTED" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed"
