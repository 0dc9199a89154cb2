"""hadrosaur 0.4.1, the reference: installed from PyPI into a venv of its own.

0.4.1 and this project are both the ``hadrosaur`` package, so they cannot
share an interpreter: 0.4.1 runs in a child process of its own venv's python
(the scripts in ``benchmarks/children/``, see subprocesses.py), which times
itself and prints JSON. The venv is made once, in the temporary directory,
and reused by later runs while it still imports 0.4.1.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ("LEGACY_VERSION", "LegacySetupFailed", "legacy_python")

LEGACY_VERSION = "0.4.1"
_CHECK = (
    "import importlib.metadata as m, plyvel, hadrosaur; "
    f"assert m.version('hadrosaur') == {LEGACY_VERSION!r}"
)


class LegacySetupFailed(RuntimeError):
    """The 0.4.1 venv could not be made (no network, no index): run with --no-legacy."""


def legacy_python(venv: Path | None = None) -> Path:
    """The python of a venv with hadrosaur 0.4.1 (and plyvel), made if needed.

    Raises:
        LegacySetupFailed: venv or pip failed; the message has pip's output.
    """
    venv = venv or Path(tempfile.gettempdir()) / f"hadrosaur-{LEGACY_VERSION}-venv"
    python = venv / "bin" / "python"
    # From the temporary directory: in the project's tree, "import hadrosaur" and its
    # metadata would find the project instead of 0.4.1.
    where = tempfile.gettempdir()
    if python.exists():
        check = subprocess.run([python, "-c", _CHECK], cwd=where, capture_output=True, check=False)
        if check.returncode == 0:
            return python
    print(f"installing hadrosaur=={LEGACY_VERSION} into {venv} ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "-q", f"hadrosaur=={LEGACY_VERSION}"],
        [str(python), "-c", _CHECK],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, cwd=where, check=False)
        if done.returncode != 0:
            raise LegacySetupFailed(
                f"{' '.join(step)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                "\nrun the benchmark with --no-legacy to skip hadrosaur 0.4.1"
            )
    return python
