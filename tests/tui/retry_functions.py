"""Collection functions for the recompute tests, importable by the recompute child and its workers.

``hadrosaur recompute`` loads a collection's function from its recorded
reference, and its worker processes load it again: so these live at the top
level of an importable module, as a user's pipeline must define them.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from hadrosaur import Context

__all__ = ("gated", "stubborn")


def gated(ident: str, args: Any, ctx: Context) -> str:
    """Fail until ``args["fixed"]`` exists; then "gate*" idents wait for ``args["gates"]/IDENT``.

    A test holds resources pending for as long as it needs, without timing,
    by removing their gate files before it recomputes them.
    """
    if not Path(args["fixed"]).exists():
        raise RuntimeError(f"not fixed yet: {ident}")
    if ident.startswith("gate"):
        while not Path(args["gates"], ident).exists():
            time.sleep(0.01)
    return ident


def stubborn(ident: str, args: Any, ctx: Context) -> str:
    """Unless ``args["gate"]`` exists: ignore SIGINT and wait for it (only SIGTERM stops it).

    With the gate there it returns at once and leaves the process's signals
    alone: a test computes it in its own process first.
    """
    if Path(args["gate"]).exists():
        return ident
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while not Path(args["gate"]).exists():
        time.sleep(0.01)
    return ident
