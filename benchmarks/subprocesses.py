"""Running measurements in child processes, each of which prints one JSON object last.

Timing happens inside the child, so interpreter start-up and imports never
count; and a child's peak memory is its own. 0.4.1's children run with its
venv's python from the temporary directory, so that the project's own
``hadrosaur`` (in this tree) can never shadow it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ("CHILDREN", "run_child", "run_module")

CHILDREN = Path(__file__).resolve().parent / "children"
_PROJECT = Path(__file__).resolve().parent.parent


def _run_json(command: list[str], cwd: str | Path) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_child(python: Path | str, script: str, *args: object) -> dict[str, Any]:
    """Run the script ``children/SCRIPT`` with ``python``; return the JSON it prints last."""
    command = [str(python), str(CHILDREN / script), *map(str, args)]
    return _run_json(command, tempfile.gettempdir())


def run_module(module: str, *args: object) -> dict[str, Any]:
    """Run ``python -m MODULE ARGS`` with this interpreter; return the JSON it prints last."""
    return _run_json([sys.executable, "-m", module, *map(str, args)], _PROJECT)
