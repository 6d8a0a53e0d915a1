"""`workbench lab`: JupyterLab on a writable copy of the tutorials, with the database ready."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from workbench.cli.lab_process import lab_config_dir, lab_environment, run_supervised
from workbench.paths import config_dir


def tutorials_dir() -> Path:
    """The tutorials shipped with the package, or the repository's `notebooks/`."""
    package = Path(__file__).resolve().parents[1]  # workbench/, this module being in workbench/cli/
    packaged = package / "_notebooks"
    return packaged if packaged.is_dir() else package.parent / "notebooks"


def copy_tutorials(target: Path) -> list[Path]:
    """Copy the tutorials into `target`, never overwriting a notebook the user has there."""
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(tutorials_dir().glob("*.ipynb")):
        destination = target / notebook.name
        if not destination.exists():
            shutil.copyfile(notebook, destination)
            copied.append(destination)
    return copied


SCRUB_PASSWORDS_HOOK = "workbench.widgets.api_keys.scrub_saved_passwords"


def launch_lab(*, target: str | None, port: int | None, open_browser: bool) -> int:
    from workbench.db.engine import open_database

    database = open_database()  # starts and upgrades the embedded server, or checks the URL's
    print(f"Database ready: {database.describe()}")
    directory = Path(target) if target else Path.cwd() / "workbench-tutorials"
    for path in copy_tutorials(directory):
        print(f"Copied {path.name} to {directory}")
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={directory}"]
    if port is not None:
        command.append(f"--port={port}")
    if not open_browser:
        command.append("--no-browser")
    # A key typed into ApiKeyEditor but not saved is in the front end's widget state; blank
    # every password field before a notebook is written to disk (ContentsManager covers the
    # async file managers JupyterLab uses too).
    command.append(f"--ContentsManager.pre_save_hook={SCRUB_PASSWORDS_HOOK}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses root otherwise (containers, CI)
    config = lab_config_dir(config_dir() / "jupyter")  # turns off the news pop-up
    return run_supervised(command, lab_environment(config))
