"""Imports point down the layers, never up.

Each layer's modules are imported together in a fresh interpreter, which must then hold no
module of a higher layer. Only import-time imports are seen; one import inside a function
is a deliberate, local exception and stays out of this check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent

# Bottom to top. A layer may import its own modules and any layer below it.
LAYERS: list[tuple[str, ...]] = [
    ("workbench.errors", "workbench.timeutil", "workbench.paths"),
    ("workbench.db", "workbench.crypto"),
    ("workbench.tables",),
    ("workbench.runs",),  # skipped while the package does not exist
    ("workbench.services",),
    ("workbench.handle",),
    ("workbench.auth",),
    ("workbench.frames", "workbench.plots", "workbench.widgets"),
    # Entry points; above them the test support (a stand-in provider server), which nothing
    # else may import.
    (
        "workbench.cli",
        "workbench.lab",
        "workbench.keys_cli",
        "workbench.users_cli",
        "workbench.jupyterhub",
        "workbench.runs_cli",
        "workbench.worker_cli",
        "workbench.lab_process",
        "workbench.embedded_cli",
    ),
    ("workbench.testing",),
]

REPORT_LOADED = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print("\\n".join(name for name in sys.modules if name.startswith("workbench.")))
"""


def modules_under(root: str) -> list[str]:
    """Every module of `root` (a module or a package), found on disk without importing it."""
    path = PACKAGE.joinpath(*root.split(".")[1:])
    if path.with_suffix(".py").is_file():
        return [root]
    if not (path / "__init__.py").is_file():
        return []  # a folder without __init__.py is not a package (yet)
    found = [root]
    for entry in sorted(path.iterdir()):
        if entry.suffix == ".py" and entry.stem != "__init__":
            found.append(f"{root}.{entry.stem}")
        elif entry.is_dir():
            found += modules_under(f"{root}.{entry.name}")
    return found


def in_any(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


@pytest.mark.parametrize("index", range(len(LAYERS) - 1), ids=lambda i: LAYERS[i][0])
def test_a_layer_imports_nothing_above_it(index: int) -> None:
    layer = LAYERS[index]
    modules = [name for root in layer for name in modules_under(root)]
    if not modules:
        pytest.skip(f"{layer} has no modules yet")
    result = subprocess.run(
        [sys.executable, "-c", REPORT_LOADED, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    above = tuple(root for higher in LAYERS[index + 1 :] for root in higher)
    upward = sorted(name for name in result.stdout.split() if in_any(name, above))
    assert not upward, f"{', '.join(layer)} import a higher layer at import time: {upward}"


def test_every_module_has_a_layer() -> None:
    roots = tuple(root for layer in LAYERS for root in layer)
    unplaced = [
        name
        for file in PACKAGE.iterdir()
        if (file.suffix == ".py" and file.stem != "__init__") or (file / "__init__.py").is_file()
        if not in_any(name := f"workbench.{file.stem}", roots)
    ]
    assert not unplaced, f"place these in LAYERS in tests/test_layers.py: {unplaced}"
