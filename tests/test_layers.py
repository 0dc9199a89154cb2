"""The import graph of hadrosaur/: layers that only point down, and no cycles.

The layers, bottom-up, are :data:`LAYERS` (the README's Architecture section
draws the same picture): a module may import from its own layer or the ones
below, never above, and the library never imports the TUI, which in turn
uses only the library's public modules (no ``hadrosaur._*``).

An import placed inside a function hides a cycle from the interpreter but not
from the design: the two modules still depend on each other, and whichever is
loaded first decides what the other may use at import time. So the graph built
here counts every import statement anywhere in a module, and leaves out only
those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from .helpers import REPO

#: The layers of hadrosaur/, bottom-up: module names, or prefixes ending in "." for packages.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "vocabulary",
        frozenset(
            {
                "hadrosaur.status",
                "hadrosaur.children",
                "hadrosaur.times",
                "hadrosaur.errors",
                "hadrosaur.display",
                "hadrosaur.signature",
                "hadrosaur._layout",
                "hadrosaur._progress",
                "hadrosaur._output_capture",
            }
        ),
    ),
    (
        "files",
        frozenset(
            {
                "hadrosaur._names",
                "hadrosaur._nofollow",
                "hadrosaur._locks",
                "hadrosaur._records",
                "hadrosaur._store",
                "hadrosaur._fence",
                "hadrosaur._markers",
                "hadrosaur._plans",
                "hadrosaur._collections",
                "hadrosaur._layout_repair",
                "hadrosaur._log_file",
                "hadrosaur._reference",
                "hadrosaur.follow",
                "hadrosaur.tail",
                "hadrosaur.entries",
                "hadrosaur.resource",
            }
        ),
    ),
    ("index", frozenset({"hadrosaur._liveness", "hadrosaur._lease", "hadrosaur._index."})),
    (
        "compute",
        frozenset(
            {
                "hadrosaur._attempt",
                "hadrosaur._heartbeat",
                "hadrosaur._load",
                "hadrosaur._compute",
                "hadrosaur.context",
                "hadrosaur._pool",
                "hadrosaur._casualties",
                "hadrosaur._fetch_task",
                "hadrosaur.parallel",
            }
        ),
    ),
    (
        "api",
        frozenset(
            {
                "hadrosaur",
                "hadrosaur.view",
                "hadrosaur.project",
                "hadrosaur._collection_reads",
                "hadrosaur.runner",
                "hadrosaur._function_loader",
                "hadrosaur.demo",
            }
        ),
    ),
    ("command line", frozenset({"hadrosaur.cli.", "hadrosaur.__main__"})),
)


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of a module of hadrosaur/; KeyError if it has none."""
    for number, (_, members) in enumerate(LAYERS):
        for member in members:
            if module == member or (member.endswith(".") and module.startswith(member)):
                return number
            if member.endswith(".") and module == member[:-1]:
                return number
    raise KeyError(module)


#: Known cycles through modules that other branches are rewriting, one edge of
#: each cycle per entry: (importer, imported). Empty: hadrosaur/ has none.
ALLOWED_EDGES: frozenset[tuple[str, str]] = frozenset()


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted name -> file for every module of the package (``pkg/__init__.py`` is ``pkg``)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)  # the else branch does run
        else:
            stack.extend(ast.iter_child_nodes(node))


def _targets(
    importer: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]
) -> Iterator[str]:
    """The modules an import statement loads, by dotted name.

    ``from pkg import name`` loads ``pkg.name`` when that is a module, else
    ``pkg`` itself (the name is defined by ``pkg/__init__``). The parent
    packages of a module imported are not counted: importing ``pkg.sub`` runs
    ``pkg/__init__`` first, but that is the interpreter's order, not a
    dependency the importer chose.
    """
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    if node.level:
        # Relative: a package's own __init__ counts as being inside the package.
        parts = importer.split(".") if is_package else importer.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        source = ".".join([*parts, node.module] if node.module else parts)
    else:
        source = node.module or ""
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        yield submodule if submodule in modules else source


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (TYPE_CHECKING blocks excluded)."""
    modules = module_names(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node in _import_nodes(tree):
            for target in _targets(name, is_package, node, modules):
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycles(
    graph: dict[str, set[str]], allowed: frozenset[tuple[str, str]] = frozenset()
) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted.

    Edges in ``allowed`` are left out first, so an allowed edge only excuses
    the cycles that run through it.
    """
    edges = {a: {b for b in bs if (a, b) not in allowed} for a, bs in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(cycles)


def _describe(graph: dict[str, set[str]], cycle: list[str]) -> str:
    members = set(cycle)
    edges = [f"{a} -> {b}" for a in cycle for b in sorted(graph[a]) if b in members]
    return "; ".join(edges)


def test_hadrosaur_has_no_import_cycle() -> None:
    graph = import_graph(REPO / "hadrosaur")
    cycles = find_cycles(graph, ALLOWED_EDGES)
    assert not cycles, "import cycles: " + " | ".join(_describe(graph, c) for c in cycles)


def test_every_module_has_a_layer() -> None:
    missing = []
    for module in import_graph(REPO / "hadrosaur"):
        try:
            layer_of(module)
        except KeyError:
            missing.append(module)
    assert missing == [], f"give these a layer in LAYERS (and the README): {missing}"


def test_every_layer_entry_names_a_module() -> None:
    # A stale entry (a module renamed or gone) would quietly place its successor nowhere.
    modules = set(import_graph(REPO / "hadrosaur"))
    stale = [
        member
        for _, members in LAYERS
        for member in members
        if not any(m == member or (member.endswith(".") and m.startswith(member)) for m in modules)
    ]
    assert stale == []


def test_imports_only_point_down_the_layers() -> None:
    graph = import_graph(REPO / "hadrosaur")
    upward = [
        f"{importer} ({LAYERS[layer_of(importer)][0]}) -> {imported} "
        f"({LAYERS[layer_of(imported)][0]})"
        for importer, targets in sorted(graph.items())
        for imported in sorted(targets)
        if layer_of(imported) > layer_of(importer)
    ]
    assert upward == [], "imports that point up a layer: " + "; ".join(upward)


def _imported_modules(package_dir: Path) -> Iterator[tuple[Path, str]]:
    """(file, dotted name) of every absolute import in a package, TYPE_CHECKING ones excluded."""
    for path in sorted(package_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _import_nodes(tree):
            if isinstance(node, ast.Import):
                yield from ((path, alias.name) for alias in node.names)
            elif node.level == 0 and node.module:
                yield path, node.module
                yield from ((path, f"{node.module}.{alias.name}") for alias in node.names)
        for call in ast.walk(tree):  # importlib.import_module("...") hides an import too
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "import_module"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                yield path, call.args[0].value


def test_the_library_never_imports_the_tui() -> None:
    found = [
        f"{path.relative_to(REPO)}: {name}"
        for path, name in _imported_modules(REPO / "hadrosaur")
        if name.split(".")[0] == "hadrosaur_tui"
    ]
    assert found == []


def test_the_tui_uses_only_the_public_modules_of_the_library() -> None:
    private = [
        f"{path.relative_to(REPO)}: {name}"
        for path, name in _imported_modules(REPO / "hadrosaur_tui")
        if name.split(".")[0] == "hadrosaur"
        and any(p.startswith("_") and not p.startswith("__") for p in name.split(".")[1:])
    ]
    assert private == []


def test_every_allowed_edge_still_exists() -> None:
    # An allow-list entry outliving its edge would excuse the next cycle made there.
    graph = import_graph(REPO / "hadrosaur")
    assert [edge for edge in ALLOWED_EDGES if edge[1] not in graph.get(edge[0], set())] == []


def test_the_status_vocabulary_imports_nothing_from_the_package() -> None:
    assert import_graph(REPO / "hadrosaur")["hadrosaur.status"] == set()


def _write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from . import b\n",
            "b.py": "def late():\n    from .a import thing\n    return thing\n",
            "c.py": "from .b import late\n",
        },
    )
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.a"}
    assert find_cycles(graph) == [["pkg.a", "pkg.b"]]
    assert find_cycles(graph, frozenset({("pkg.b", "pkg.a")})) == []


def test_type_checking_imports_do_not_count_but_their_else_branch_does(tmp_path: Path) -> None:
    package = _write_package(
        tmp_path,
        {
            "__init__.py": "from .a import A\n",
            "a.py": "from typing import TYPE_CHECKING\nA = 1\n"
            "if TYPE_CHECKING:\n    from .b import B\n",
            "b.py": "import typing\nfrom .a import A\n"
            "if typing.TYPE_CHECKING:\n    pass\nelse:\n    from .sub.c import C\n",
            "sub/__init__.py": "",
            "sub/c.py": "from ..b import B\nfrom .. import a\n",
        },
    )
    graph = import_graph(package)
    assert graph["pkg.a"] == set()
    assert graph["pkg.b"] == {"pkg.a", "pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.b", "pkg.a"}
    assert find_cycles(graph) == [["pkg.b", "pkg.sub.c"]]


def test_importing_a_name_from_the_package_itself_depends_on_its_init(tmp_path: Path) -> None:
    package = _write_package(
        tmp_path,
        {"__init__.py": "from .a import f\n", "a.py": "def f():\n    from . import VERSION\n"},
    )
    assert find_cycles(import_graph(package)) == [["pkg", "pkg.a"]]
