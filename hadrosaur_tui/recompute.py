"""Recomputing from the monitor: ``hadrosaur recompute`` subprocesses and what they said.

The monitor never computes in its own process: a resource's function may
take hours, crash, or need the pipeline's environment. It runs ``python -m
hadrosaur recompute BASE COLL IDENT... --log-output`` instead, which loads
the function from the collection's recorded reference, with the output going
to each resource's log, so the progress shows in the monitor like any other
writer's. Called from a worker thread: it blocks until the subprocesses end.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from hadrosaur.display import last_line

from .messages import RecomputeFinished

__all__ = ("RECOMPUTE_CHUNK", "recompute", "recompute_command")

#: Idents per recompute subprocess (command lines have a limit).
RECOMPUTE_CHUNK = 200


def recompute_command(base: Path, collection: str, idents: Iterable[str]) -> list[str]:
    """The subprocess that recomputes resources, its output going to their logs."""
    return [
        sys.executable,
        "-m",
        "hadrosaur",
        "recompute",
        str(base),
        collection,
        *idents,
        "--log-output",
    ]


def recompute(base: Path, collection: str, idents: tuple[str, ...]) -> RecomputeFinished:
    """Recompute ``idents`` in chunks; the worst exit code and the last line of output."""
    worst = 0
    lines: list[str] = []
    for start in range(0, len(idents), RECOMPUTE_CHUNK):
        chunk = idents[start : start + RECOMPUTE_CHUNK]
        done = subprocess.run(
            recompute_command(base, collection, chunk),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        worst = max(worst, done.returncode)
        line = last_line(done.stdout) or last_line(done.stderr)
        if line:
            lines.append(line)
    return RecomputeFinished(collection, idents, worst, lines[-1] if lines else "no output")
