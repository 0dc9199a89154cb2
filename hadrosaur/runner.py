"""Recomputing resources outside the process that defined their collection (DESIGN.md section 7).

The TUI and the CLI recompute a resource in a fresh process, ``python -m
hadrosaur recompute BASE COLL IDENT``, which has to find the collection's
function again. ``.collection.json`` records where it lived (see
_reference.py); this module imports it from there, or from a ``module:project``
the user names, and computes each resource again with the args its
``meta.json`` recorded.

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
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from . import _store
from ._compute import ComputeFunction
from ._names import check_collection, check_ident
from ._reference import read_collection_file, recording_suspended
from .context import Context
from .errors import CollectionNotDefined, FunctionNotLoadable, UnknownCollection
from .project import Project
from .resource import Resource

__all__ = ("loaded_function", "output_to_log", "recompute")

_log = logging.getLogger("hadrosaur.runner")


def recompute(
    base: str | os.PathLike[str],
    collection: str,
    idents: Sequence[str],
    *,
    app: str | None = None,
    log_output: bool = False,
    on_result: Callable[[Resource], None] | None = None,
) -> list[Resource]:
    """Compute resources of ``base`` again, with the function recorded for their collection.

    Args:
        base: the base directory (it must exist).
        collection: the collection name.
        idents: the resources to compute again; each runs with the args of its meta.json.
        app: ``"module:project"`` (or ``"path/to/script.py:project"``): load the
            function from that Project instead of the recorded reference;
            ``"module:function"`` names the function itself.
        log_output: append what the function prints (stdout and stderr, from
            Python or from child processes) to each resource's run.log.
        on_result: called with each Resource as soon as it is done.

    Returns:
        The Resources in the order of ``idents`` (failures have status error).

    Raises:
        FunctionNotLoadable: the function cannot be imported; nothing was computed.

    Example:
        >>> for res in recompute("./base", "genomes", ["GCF_0003"]):  # doctest: +SKIP
        ...     print(res.ident, res.status)
    """
    proj = Project(base, create=False)
    collection = check_collection(collection)
    if collection not in proj.collections():
        raise UnknownCollection(collection, proj.base)
    coll_dir = proj.base / collection
    todo = [(ident, _recorded_args(coll_dir / ident)) for ident in map(check_ident, idents)]
    results = []
    with loaded_function(coll_dir, collection, app) as func:
        if log_output:
            func = _printing_to_log(func, str(coll_dir))
        with recording_suspended():  # the reference on disk stays the user's, not ours
            proj.resource(collection)(func)
        for ident, args in todo:
            res = proj.fetch(collection, ident, args, recompute=True)
            results.append(res)
            if on_result is not None:
                on_result(res)
    return results


def _recorded_args(res_dir: Path) -> Any:
    args = _store.read_meta(res_dir).get("args")
    return {} if args is None else args


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


def _printing_to_log(func: ComputeFunction, coll_dir: str) -> ComputeFunction:
    """Wrap ``func`` so its output goes to its resource's run.log.

    The redirection starts inside the compute, after the previous attempt's
    run.log has been cleared, so it appends to this attempt's log.
    """

    def printing_to_log(ident: str, args: Any, ctx: Context) -> Any:
        with output_to_log(Path(coll_dir, ident, _store.LOG_FILE)):
            return func(ident, args, ctx)

    return printing_to_log


@contextmanager
def output_to_log(path: Path) -> Iterator[None]:
    """Append this process's stdout and stderr to ``path`` during the block.

    Both levels are redirected: ``sys.stdout``/``sys.stderr`` (a line-buffered
    stream, so printed lines interleave with ``ctx.logger`` lines in order),
    and file descriptors 1 and 2, for C extensions and child processes. The
    file is opened with O_APPEND, as the log handler's is, so neither
    overwrites the other. If the log handler rotates the file during the
    block, the rest of the output lands in the rotated file. An empty file is
    removed afterwards, so that "no run.log" still means "nothing was logged".
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    # O_NOFOLLOW: a run.log that is a symlink is refused (ELOOP), never written through.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        with (
            open(fd, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False) as out,
            redirect_stdout(out),
            redirect_stderr(out),
        ):
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for saved_fd in saved:
            os.close(saved_fd)
        try:
            st = os.fstat(fd)
            if st.st_size == 0 and os.stat(path).st_ino == st.st_ino:
                os.unlink(path)
        except FileNotFoundError:
            pass  # rotated away
        finally:
            os.close(fd)
