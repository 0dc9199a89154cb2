"""Opening a resource's file in the user's own program ($EDITOR, $PAGER), the app suspended.

The app gives the terminal to the program and takes it back when it exits,
so the file is read with the tools the user knows; a terminal that cannot
be suspended gets the command to run instead.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from textual.app import App, SuspendNotSupported

__all__ = ("open_in_program",)


def open_in_program(app: App[Any], variable: str, path: Path) -> None:
    """Open ``path`` in the program $``variable`` names (vi or less if unset)."""
    default = "vi" if variable == "EDITOR" else "less"
    command = [*shlex.split(os.environ.get(variable) or default), str(path)]
    if not path.exists():
        app.notify(f"{path} does not exist.", severity="warning")
        return
    try:
        with app.suspend():
            subprocess.run(command)
    except SuspendNotSupported:
        app.notify(
            f"This terminal cannot be suspended; run: {shlex.join(command)}",
            severity="warning",
        )
    except OSError as exc:
        app.notify(f"Could not run {command[0]}: {exc}", severity="error")
