"""The tutorials run under nbval exactly as a first-time user runs them: local mode, on a fresh
embedded database of their own, with no DATABASE_URL and no ENCRYPTION_KEY.

pytest calls `pytest_configure` of this file when it imports it during collection, which is
before nbval starts any kernel; kernels inherit the environment set here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_home: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _home
    _home = Path(tempfile.mkdtemp(prefix="workbench-tutorials-"))
    os.environ["WORKBENCH_HOME"] = str(_home)
    for variable in (
        "DATABASE_URL",
        "ENCRYPTION_KEY",
        "JUPYTERHUB_API_URL",
        "JUPYTERHUB_API_TOKEN",
    ):
        os.environ.pop(variable, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _home is None:
        return
    from workbench.db.embedded import stop_server

    stop_server(_home / "data" / "pg")
    shutil.rmtree(_home, ignore_errors=True)
