"""Collection functions for the fetch_many tests, importable by worker processes.

Worker processes (a process pool, Dask workers) receive a function by its
module and name, so the functions the tests run in them live here, at the top
level of an importable module, exactly as a user's pipeline must define them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from hadrosaur import Context


def record(ident: str, args: Any, ctx: Context) -> dict[str, Any]:
    """Append this process id to ``storage/runs`` (to count computes); "fail-*" raises."""
    with open(ctx.subdir / "runs", "a") as f:
        f.write(f"{os.getpid()}\n")
    if ident.startswith("fail"):
        raise RuntimeError(f"failing on purpose: {ident}")
    return {"ident": ident, "args": args, "pid": os.getpid()}


def gated(ident: str, args: Any, ctx: Context) -> str:
    """Wait until the file ``args["gates"]/IDENT`` exists; idents not starting "gate" return now.

    Lets a test hold resources pending for as long as it needs, without timing.
    """
    with open(ctx.subdir / "runs", "a") as f:
        f.write(f"{os.getpid()}\n")
    if ident.startswith("gate"):
        gate = Path(args["gates"], ident)
        while not gate.exists():
            time.sleep(0.01)
    return ident


def trivial(ident: str, args: Any, ctx: Context) -> int:
    """Return the ident as an int; raise for every ident ending in "00"."""
    if ident.endswith("00"):
        raise ValueError(f"no {ident}")
    return int(ident)


class Boom(BaseException):
    """A BaseException that is neither KeyboardInterrupt nor SystemExit."""


def die(ident: str, args: Any, ctx: Context) -> str:
    """End the way the ident's prefix says; other idents return at once.

    "exit-*" os._exit(3), "kill-*" SIGKILL itself, "segv-*" a segmentation
    fault, "sysexit-*" sys.exit(4), "kbint-*" KeyboardInterrupt, "boom-*" Boom.
    Each run appends this process id to ``storage/runs`` first.
    """
    with open(ctx.subdir / "runs", "a") as f:
        f.write(f"{os.getpid()}\n")
    kind = ident.split("-", 1)[0]
    if kind == "exit":
        os._exit(3)
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "segv":
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    if kind == "sysexit":
        sys.exit(4)
    if kind == "kbint":
        raise KeyboardInterrupt
    if kind == "boom":
        raise Boom("boom from " + ident)
    return ident


class ExitOnUnpickle(dict[str, Any]):
    """JSON args that end the process unpickling them: a worker, before any resource."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os._exit, (5,))
