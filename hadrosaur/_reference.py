"""How another process finds a collection's function again.

When a collection is defined, ``.collection.json`` records where its function
lives (module, qualified name, source file, the script directory that was
``sys.path[0]``, the working directory and the Python executable), so that the CLI and the TUI can
recompute a resource in a fresh process (see runner.py).

That process imports the user's module again, which runs its
``@proj.resource`` decorators again; :func:`recording_suspended` keeps them
from overwriting the reference with the runner's private module name.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from . import _store
from .times import now_ms

__all__ = (
    "function_reference",
    "qualified_name",
    "read_collection_file",
    "recording_suspended",
    "write_collection_file",
)

# A ContextVar rather than a module flag: it is per thread, so a runner loading
# a module in one thread never stops another thread's definitions from recording.
_recording: ContextVar[bool] = ContextVar("hadrosaur_recording", default=True)


@contextmanager
def recording_suspended() -> Iterator[None]:
    """Within this block, defining a collection does not write its ``.collection.json``.

    Example:
        >>> with recording_suspended():  # doctest: +SKIP
        ...     importlib.import_module("pipeline")  # its decorators record nothing
    """
    token = _recording.set(False)
    try:
        yield
    finally:
        _recording.reset(token)


def _module_of(func: Callable[..., Any]) -> str | None:
    module = getattr(func, "__module__", None)
    # multiprocessing imports the parent's script under this name in its workers.
    return "__main__" if module == "__mp_main__" else module


def qualified_name(func: Callable[..., Any]) -> str:
    """``module.qualname`` of a function, its script's module named ``__main__`` everywhere.

    For messages and for telling two definitions of a collection apart: a
    worker process sees the parent's script as ``__mp_main__``, yet defines
    the same function.
    """
    return f"{_module_of(func) or '?'}.{getattr(func, '__qualname__', repr(func))}"


def function_reference(func: Callable[..., Any]) -> dict[str, Any]:
    """Describe where ``func`` can be imported from."""
    try:
        source = inspect.getsourcefile(func)
    except TypeError:  # builtins and C functions have no source file
        source = None
    path0 = sys.path[0] if sys.path else ""
    return {
        "module": _module_of(func),
        "qualname": getattr(func, "__qualname__", None),
        "file": str(Path(source).absolute()) if source and os.path.isfile(source) else None,
        "sys_path0": str(Path(path0 or os.getcwd()).absolute()),
        # The working directory matters too: scripts often open relative paths.
        "cwd": os.getcwd(),
        "python": sys.executable,
    }


def read_collection_file(coll_dir: Path) -> dict[str, Any]:
    """The collection's .collection.json ({} when missing, unreadable or a symlink).

    A symlink is never followed (RefusedFile is an OSError): a function
    reference pointing at code must come from the collection itself.
    """
    try:
        raw = _store.read_regular(coll_dir / _store.COLLECTION_FILE)
        data = json.loads(raw) if raw is not None else {}
    except (OSError, ValueError, RecursionError):  # a symlink, a directory, garbage, too deep
        return {}
    return data if isinstance(data, dict) else {}


def write_collection_file(
    coll_dir: Path, name: str, func: Callable[..., Any], durable: bool = False
) -> None:
    """Record the collection's function; keep ``created`` from an earlier definition."""
    if not _recording.get():
        return
    old = read_collection_file(coll_dir)
    reference = function_reference(func)
    if old.get("name") == name and old.get("function") == reference:
        return
    data = {
        "name": name,
        "function": reference,
        "created": old.get("created", now_ms()),
        "updated": now_ms(),
    }
    path = coll_dir / _store.COLLECTION_FILE
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)  # damage: a file cannot replace a directory, and nothing in it is ours
    _store.atomic_write(path, json.dumps(data, indent=2).encode(), durable)
