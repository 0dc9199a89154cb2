"""``hadrosaur tui ARGS``: the live monitor, started as ``python -m hadrosaur_tui ARGS``.

The library never imports the TUI (imports point down only, and a library
user need not load Textual): this process becomes the TUI through its entry
point instead, with the arguments unchanged, so ``hadrosaur tui`` takes
exactly the options of ``hadrosaur-tui`` and exits with its exit code.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..children import python_module_command
from ..errors import HadrosaurError

__all__ = ("TUI_MODULE", "start_tui")

#: The TUI's package, run with ``python -m``; looked up, never imported here.
TUI_MODULE = "hadrosaur_tui"


def start_tui(tui_args: Sequence[str]) -> NoReturn:
    """Replace this process with ``hadrosaur-tui TUI_ARGS``; never returns.

    Raises:
        HadrosaurError: the TUI package is not installed with this Python.
        OSError: the interpreter could not be run.
    """
    # find_spec of a top-level name locates the package without running any of it.
    if importlib.util.find_spec(TUI_MODULE) is None:
        raise HadrosaurError(
            f"the TUI is not installed for {sys.executable} (no module {TUI_MODULE}); "
            "install the hadrosaur package with its TUI, or use the other hadrosaur commands"
        )
    sys.stdout.flush()
    sys.stderr.flush()
    # exec rather than a child process: the terminal, the signals and the exit code
    # are the TUI's own, and no second Python waits in memory behind it.
    # Never from the current directory: a planted hadrosaur_tui.py there is not run.
    os.execv(sys.executable, python_module_command(TUI_MODULE, tui_args))
