"""Imports point down the layers, never up, and go round in no circle.

Read from the source with `ast`: every import of a workbench module, at module level or inside
a function (those under `if TYPE_CHECKING:` never run and are left out), points to its own layer
or below, unless UPWARD says why not. An import made inside a function must be on LAZY, with
the reason it cannot be made at import time: a function cannot hide an import from this test.
No import circle spans two packages, and none lies inside `workbench.runs` or
`workbench.services.runs`. And at run time: each layer's modules, imported together in a fresh
interpreter, load no module of a higher layer.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent

# Bottom to top. A layer may import its own modules and any layer below it.
LAYERS: list[tuple[str, ...]] = [
    ("workbench.errors", "workbench.timeutil", "workbench.paths", "workbench.lazy"),
    ("workbench.db", "workbench.crypto"),
    ("workbench.tables",),
    ("workbench.runs",),
    ("workbench.services",),
    ("workbench.handle",),
    ("workbench.auth",),
    ("workbench.frames", "workbench.plots", "workbench.widgets"),
    # Entry points, and the package's public face (`import workbench`, whose names load lazily);
    # above them the test support (a stand-in provider server), which nothing else may import.
    ("workbench.cli", "workbench.jupyterhub", "workbench"),
    ("workbench.testing",),
]

# Imports that point up, each with its reason (importer prefix, imported prefix).
UPWARD = {
    ("workbench.handle", "workbench.widgets.studio"): (
        "wb.studio(): the notebook's one call to every editor. The widgets take the handle, so "
        "this shortcut points up; it stays lazy, so a handle never loads ipywidgets"
    ),
    ("workbench.services.runs.matrix_handle", "workbench.plots"): (
        "m.plot(): a shortcut to plots.matrix(m), which takes the matrix; lazy, so a matrix "
        "never loads matplotlib until it is plotted"
    ),
}

# Imports made inside functions, each with the reason it must wait (importer, imported prefix).
LAZY = {
    ("workbench.services.scenarios.extensions", "workbench.services.scenarios.simulated_store"): (
        "simulated_store reads its documents with extensions' queries (a cycle at import); "
        "with_tools attaches the simulated blocks of issue 21 to the views it returns"
    ),
    ("workbench.cli", "workbench"): (
        "a command imports what it runs when it runs: `workbench --help` and each command start"
        " without loading the others (the database driver, Alembic, the SDKs)"
    ),
    ("workbench.handle", "workbench.services"): (
        "each service is built on first use: connect() loads only what a notebook touches"
    ),
    ("workbench.handle", "workbench.widgets.studio"): UPWARD[
        ("workbench.handle", "workbench.widgets.studio")
    ],
    ("workbench.services.runs.matrix_handle", "workbench.plots"): UPWARD[
        ("workbench.services.runs.matrix_handle", "workbench.plots")
    ],
    ("workbench.db.engine", "workbench.db.migrate"): (
        "Alembic loads only when a local schema is behind (and migrate imports the engine)"
    ),
    ("workbench.runs.analysis.compare", "workbench.runs.analysis.comparison_frame"): (
        "a DataFrame subclass: pandas loads only when two runs are compared"
    ),
    ("workbench.services.runs.service", "workbench.services.runs.dask"): (
        "distributed (the `dask` extra) loads only when a Dask client is passed"
    ),
    ("workbench.testing._spawn", "workbench.testing.standin"): (
        "the spawned child builds its stand-in; standin imports _spawn for StandIn.spawn"
    ),
    # A `workbench worker` process imports only what playing needs: it starts once per worker,
    # CPU-bound beside the others, and its start-up counts in bench_workers (issue 24).
    ("workbench.auth._entry", "workbench.services.runs.study"): (
        "connect() marks the runs of dead kernels through the study alone: RunService (wb.runs)"
        " loads scenarios, prompts and matrices, none of which a worker uses"
    ),
    ("workbench.services.runs.setup", "workbench.services.prompts"): (
        "the prompt is found and rendered by start() only; a worker reads the stored run"
    ),
    ("workbench.services.runs.simulated_setup", "workbench.services.scenarios"): (
        "the scenarios' simulated blocks are read by start() only; a worker plays the snapshots"
    ),
    ("workbench.services.keys.service", "workbench.crypto"): (
        "cryptography loads when a key is encrypted or decrypted, not for a worker whose keys"
        " come from the environment"
    ),
    ("workbench.db.engine", "workbench.db.embedded"): (
        "the embedded server (platformdirs, pgserver) only without a URL: never in a worker"
    ),
}

# Where circles are refused even within one package.
NO_CIRCLES_WITHIN = ("workbench.runs", "workbench.services.runs")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    lazy: bool  # made inside a function

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} -> {self.imported}"


def modules_under(root: str) -> list[str]:
    """Every module of `root` (a module or a package), found on disk without importing it."""
    path = PACKAGE.joinpath(*root.split(".")[1:])
    if path.with_suffix(".py").is_file():
        return [root]
    if not (path / "__init__.py").is_file():
        return []  # a folder without __init__.py is not a package (yet)
    found = [root]
    for entry in sorted(path.iterdir()):
        if entry.suffix == ".py" and entry.stem not in ("__init__", "__main__"):
            found.append(f"{root}.{entry.stem}")
        elif entry.is_dir():
            found += modules_under(f"{root}.{entry.name}")
    return found


MODULES = modules_under("workbench")


def source_of(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"


def within(name: str, root: str) -> bool:
    return name == root or name.startswith(root + ".")


def holds(root: str, module: str) -> bool:
    """`root` of LAYERS holds `module` (the package's own face holds only itself)."""
    return module == root if root == "workbench" else within(module, root)


def in_any(name: str, roots: tuple[str, ...]) -> bool:
    return any(within(name, root) for root in roots)


def layer_of(module: str) -> int:
    """The index in LAYERS of the most specific root that holds `module`."""
    best = max(
        ((len(root), index) for index, layer in enumerate(LAYERS) for root in layer
         if holds(root, module)),
        default=None,
    )  # fmt: skip
    assert best is not None, f"place {module} in LAYERS in tests/test_layers.py"
    return best[1]


def known(name: str) -> str | None:
    """The workbench module `name` is, or lives in (an attribute of a module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(node: ast.Import | ast.ImportFrom, importer: str) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: from the importer's package, `level - 1` packages up
        package = package_of(importer).rsplit(".", node.level - 1)[0]
        base = f"{package}.{base}".rstrip(".")
    for alias in node.names:
        # `from package import submodule` imports the submodule; anything else, the module.
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in MODULES else base


def is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(module: str) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if is_type_checking(child):
                for other in child.orelse:
                    visit(other, lazy)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                for name in imported_names(child, module):
                    target = known(name) if name.startswith("workbench") else None
                    if target is not None and target != module:
                        found.append(Import(module, target, child.lineno, lazy))
            inside = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, lazy or inside)

    visit(ast.parse(source_of(module).read_text(encoding="utf-8")), False)
    return list(dict.fromkeys(found))  # `from m import a, b` is one import of m


IMPORTS = [edge for module in MODULES for edge in imports_of(module)]


def listed(edge: Import, allowed: dict[tuple[str, str], str]) -> bool:
    return any(
        within(edge.importer, importer) and within(edge.imported, imported)
        for importer, imported in allowed
    )


def test_no_import_points_up_the_layers() -> None:
    upward = [
        str(edge)
        for edge in IMPORTS
        if layer_of(edge.imported) > layer_of(edge.importer) and not listed(edge, UPWARD)
    ]
    assert not upward, "imports of a higher layer (make them point down): " + ", ".join(upward)


def test_every_import_inside_a_function_says_why() -> None:
    unlisted = [str(edge) for edge in IMPORTS if edge.lazy and not listed(edge, LAZY)]
    assert not unlisted, (
        "imports inside functions: move them to the top of the module, or add them to LAZY in "
        "tests/test_layers.py with the reason they must wait: " + ", ".join(unlisted)
    )


def test_every_allowance_is_still_used() -> None:
    for allowed, kind in ((UPWARD, "UPWARD"), (LAZY, "LAZY")):
        for importer, imported in allowed:
            used = any(
                within(e.importer, importer) and within(e.imported, imported) for e in IMPORTS
            )
            assert used, f"{kind} allows {importer} -> {imported}, which nothing imports now"


def circles(edges: list[Import]) -> list[list[str]]:
    """The strongly connected components of the import graph with more than one module."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for edge in edges:
        graph[edge.importer].add(edge.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(MODULES)))
    for node in graph:
        if node not in index:
            connect(node)
    return found


def package_of(module: str) -> str:
    return module if source_of(module).name == "__init__.py" else module.rpartition(".")[0]


def test_no_import_circle_spans_packages_or_lies_in_the_runs() -> None:
    refused = [
        circle
        for circle in circles(IMPORTS)
        if len({package_of(m) for m in circle}) > 1
        or any(in_any(m, NO_CIRCLES_WITHIN) for m in circle)
    ]
    assert not refused, f"import circles: {refused}"


REPORT_LOADED = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print("\\n".join(name for name in sys.modules if name.startswith("workbench.")))
"""


@pytest.mark.parametrize("index", range(len(LAYERS) - 1), ids=lambda i: LAYERS[i][0])
def test_a_layer_loads_nothing_above_it(index: int) -> None:
    layer = LAYERS[index]
    modules = [name for root in layer if root != "workbench" for name in modules_under(root)]
    result = subprocess.run(
        [sys.executable, "-c", REPORT_LOADED, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    above = tuple(root for higher in LAYERS[index + 1 :] for root in higher if root != "workbench")
    upward = sorted(name for name in result.stdout.split() if in_any(name, above))
    assert not upward, f"{', '.join(layer)} import a higher layer at import time: {upward}"


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for module in MODULES:
        try:
            layer_of(module)
        except AssertionError:
            unplaced.append(module)
    assert not unplaced, f"place these in LAYERS in tests/test_layers.py: {unplaced}"
