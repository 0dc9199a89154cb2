"""Loading a collection's function in a process that did not define it (DESIGN.md section 7).

``.collection.json`` records where the function lived (see _reference.py);
:func:`loaded_function` imports it from there, or from a ``module:project``
the user names (``--app``).

A function defined in a script (module ``__main__``) is loaded from the
script's file under a private module name, so that the script's ``if __name__
== "__main__":`` block does not run again. As with multiprocessing, a script
whose pipeline is not behind that guard would start its pipeline again.
While the function is loaded and run, the recorded script directory is on
``sys.path`` and the recorded working directory is the current one, so that
the function's relative paths mean what they meant; both are restored after.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from . import _store
from ._compute import ComputeFunction
from ._reference import read_collection_file, recording_suspended
from .errors import CollectionNotDefined, FunctionNotLoadable
from .project import Project

__all__ = ("loaded_function",)

_log = logging.getLogger("hadrosaur.runner")


@contextmanager
def loaded_function(
    coll_dir: Path, collection: str, app: str | None = None
) -> Iterator[ComputeFunction]:
    """Load a collection's function; keep its sys.path and working directory during the block.

    Nothing the import does is recorded in ``.collection.json``.

    Raises:
        FunctionNotLoadable: saying what failed (moved script, nested
            function, missing module, an exception while importing...).
    """
    if app is not None:
        paths, cwd = [os.getcwd()], None
    else:
        ref = _recorded_reference(coll_dir, collection)
        paths, cwd = _recorded_environment(ref)
        _refuse_code_inside_base(coll_dir, collection, [ref.get("file"), *paths])
    with _environment(paths, cwd):
        with recording_suspended():
            func = (
                _load_app(app, collection) if app is not None else _load_recorded(ref, collection)
            )
        yield func


@contextmanager
def _environment(paths: Sequence[str], cwd: str | None) -> Iterator[None]:
    old_path = list(sys.path)
    old_cwd = os.getcwd()
    sys.path[:0] = [p for p in paths if p not in sys.path]
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def _recorded_reference(coll_dir: Path, collection: str) -> dict[str, Any]:
    ref = read_collection_file(coll_dir).get("function")
    if not isinstance(ref, dict) or not isinstance(ref.get("qualname"), str):
        raise FunctionNotLoadable(
            collection,
            f"{coll_dir / _store.COLLECTION_FILE} records no function (the collection was "
            "made by hadrosaur 0.4.1, or the file is missing or damaged)",
        )
    return ref


def _refuse_code_inside_base(coll_dir: Path, collection: str, places: list[Any]) -> None:
    """FunctionNotLoadable if the reference would run or import code from inside BASE.

    Nothing found in a base directory is trusted (README "Security"): a
    ``.collection.json`` that names a script, or a sys.path entry, inside the
    base may have come with a copied archive or from someone else, so the
    recorded reference is refused there. Code elsewhere is the user's own, as
    the recorded reference says; --app names a function explicitly.
    """
    base = os.path.realpath(coll_dir.parent)
    for place in places:
        if not isinstance(place, str) or not place:
            continue
        real = os.path.realpath(place)
        if real == base or real.startswith(base + os.sep):
            raise FunctionNotLoadable(
                collection,
                f"its recorded reference points inside the base directory ({place}), and "
                "hadrosaur never runs code found in a base directory",
            )


def _recorded_environment(ref: dict[str, Any]) -> tuple[list[str], str | None]:
    """The sys.path entries and the working directory the function was defined with."""
    paths = []
    if isinstance(ref.get("sys_path0"), str):
        paths.append(ref["sys_path0"])
    module, file = ref.get("module"), ref.get("file")
    if isinstance(module, str) and module != "__main__" and isinstance(file, str):
        # The import root of an imported module, in case it was found through
        # PYTHONPATH rather than through the script directory.
        folder = Path(file).parent
        depth = module.count(".") + (Path(file).stem == "__init__")
        if depth < len(folder.parts):
            paths.append(str(folder.parents[depth - 1] if depth else folder))
    cwd = ref.get("cwd")
    if not isinstance(cwd, str):
        return paths, None
    if not os.path.isdir(cwd):
        _log.warning("the recorded working directory %s no longer exists; staying here", cwd)
        return paths, None
    return paths, cwd


def _load_recorded(ref: dict[str, Any], collection: str) -> ComputeFunction:
    module, qualname, file = ref.get("module"), ref["qualname"], ref.get("file")
    if "<locals>" in qualname:
        raise FunctionNotLoadable(
            collection,
            f"{module}.{qualname} was defined inside another function, so no other process "
            "can import it; define it at the top level of its module",
        )
    if module == "__main__":
        if not isinstance(file, str):
            raise FunctionNotLoadable(
                collection,
                f"{qualname} was defined in __main__ without a source file (an interactive "
                "session or a notebook?)",
            )
        if not os.path.isfile(file):
            raise FunctionNotLoadable(
                collection,
                f"the script {file} that defined {qualname} no longer exists (moved or deleted?)",
            )
        mod = _import_script(Path(file), collection)
        return _function(_lookup(mod, qualname, file, collection), qualname, collection)
    if not isinstance(module, str):
        raise FunctionNotLoadable(collection, f"{qualname} has no recorded module")
    try:
        mod = _guarded_import(module, lambda: importlib.import_module(module), collection)
    except FunctionNotLoadable as exc:
        python = ref.get("python")
        if python and python != sys.executable:
            raise FunctionNotLoadable(
                collection,
                f"{exc.problem} (it was defined with {python}, this is {sys.executable})",
            ) from exc.__cause__
        raise
    return _function(_lookup(mod, qualname, f"module {module}", collection), qualname, collection)


def _load_app(app: str, collection: str) -> ComputeFunction:
    target, _, name = app.rpartition(":")
    if not target or not name:
        raise FunctionNotLoadable(
            collection, f"--app {app!r} is not of the form module:project (e.g. pipeline:proj)"
        )
    if target.endswith(".py"):
        if not os.path.isfile(target):
            raise FunctionNotLoadable(
                collection, f"--app names the script {target}, which is missing"
            )
        mod = _import_script(Path(target).absolute(), collection)
    else:
        mod = _guarded_import(target, lambda: importlib.import_module(target), collection)
    obj = _lookup(mod, name, target, collection)
    if isinstance(obj, Project):
        try:
            return obj.function(collection)
        except CollectionNotDefined:
            raise FunctionNotLoadable(
                collection, f"the Project {app} does not define {collection!r}"
            ) from None
    return _function(obj, app, collection)


def _import_script(path: Path, collection: str) -> ModuleType:
    """Import a script file under a private module name, so ``__main__`` code does not run."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    name = f"_hadrosaur_script_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FunctionNotLoadable(collection, f"{path} cannot be imported as a Python file")
    loader = spec.loader
    mod = importlib.util.module_from_spec(spec)

    def run() -> ModuleType:
        # In sys.modules while it runs, as a normal import is (dataclasses need it).
        sys.modules[name] = mod
        try:
            loader.exec_module(mod)
        except BaseException:
            del sys.modules[name]
            raise
        return mod

    return _guarded_import(str(path), run, collection)


def _guarded_import(what: str, load: Callable[[], ModuleType], collection: str) -> ModuleType:
    try:
        return load()
    except ModuleNotFoundError as exc:
        raise FunctionNotLoadable(
            collection, f"cannot import {what}: {exc} (sys.path starts with {sys.path[:3]})"
        ) from exc
    except SystemExit as exc:
        raise FunctionNotLoadable(
            collection,
            f"{what} called sys.exit({exc.code}) while being imported; keep its pipeline "
            'under if __name__ == "__main__":',
        ) from exc
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0]
        raise FunctionNotLoadable(
            collection, f"importing {what} raised {type(exc).__name__}: {first_line}"
        ) from exc


def _lookup(mod: ModuleType, qualname: str, where: str, collection: str) -> Any:
    obj: Any = mod
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise FunctionNotLoadable(
                collection, f"{where} has no {qualname} (renamed or removed?)"
            ) from None
    return obj


def _function(obj: Any, what: str, collection: str) -> ComputeFunction:
    if not callable(obj):
        raise FunctionNotLoadable(
            collection, f"{what} is a {type(obj).__name__}, not a function or a Project"
        )
    return cast(ComputeFunction, obj)
