"""Command lines for Python children that never import code from the current directory.

``python -m NAME`` and ``python -c CODE`` put the current directory first on
``sys.path``, so a ``hadrosaur.py`` or ``hadrosaur_tui.py`` lying there would be
imported instead of the installed package. The monitor is often started in a
base directory (``hadrosaur-tui`` defaults to ``.``), and hadrosaur never runs
code found in a base directory (README, Security). Every child that hadrosaur
or its monitor starts (``hadrosaur tui``, the monitor's recompute, its demo)
therefore runs through :func:`python_command`, which removes the current
directory from ``sys.path`` before anything else is imported. (Python 3.11's
``-P`` does the same, but 3.10 is supported too.)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ("python_command", "python_module_command")

#: Run first in every child: drop the entries that mean "the current directory".
_SAFE_PATH = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "


def python_command(code: str, args: Sequence[str] = ()) -> list[str]:
    """``python -c CODE ARGS`` with this interpreter, the current directory off ``sys.path``.

    Example:
        >>> python_command("print(sys.argv[1:])", ["a", "b"])[-2:]
        ['a', 'b']
    """
    return [sys.executable, "-c", _SAFE_PATH + code, *args]


def python_module_command(module: str, args: Sequence[str] = ()) -> list[str]:
    """``python -m MODULE ARGS``, but without importing anything from the current directory.

    The module runs as ``__main__`` (``runpy``, as ``-m`` does) and sees
    ``sys.argv[1:] == ARGS``.
    """
    code = (
        f"import runpy; sys.argv[0] = {module!r}; "
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    )
    return python_command(code, args)
