"""Runs: play a suite against a model and study every attempt, reached as `wb.runs`.

    service.py   RunService: start, resume, attach, and every read below (`wb.runs`)
    setup.py     everything checked and looked up before a row is written or a request sent
    study.py     RunStudy: get, list, the results frames, compare, trend, flaky, export
    handle.py    RunHandle (a started run) and StoredRun (`wb.runs.get`): both studied alike
    background.py  the run's own event loop and thread, and its progress bar
    worker.py    RunWorker: `workbench worker` and Dask tasks play a run from the ledger
    dask.py      the Dask executor (the `dask` extra, imported only when a client is given)

What is played and stored is `workbench.runs`' (play.py, lifecycle.py, ledger.py): this package
looks up what is the user's and hands it down as typed requests.

The names below are imported on first use, as `workbench`'s are: a `workbench worker` imports
this package for `RunWorker` alone, and starting it is paid per process (issue 24).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.lazy import lazy_attributes

if TYPE_CHECKING:
    from workbench.services.runs.handle import RunHandle, RunResults, StoredRun
    from workbench.services.runs.service import RunService
    from workbench.services.runs.study import RunStudy
    from workbench.services.runs.worker import RunWorker, WorkerSettings

# Public name → the module that defines it, imported by __getattr__.
_LAZY = {
    "RunHandle": "workbench.services.runs.handle",
    "RunResults": "workbench.services.runs.handle",
    "StoredRun": "workbench.services.runs.handle",
    "RunService": "workbench.services.runs.service",
    "RunStudy": "workbench.services.runs.study",
    "RunWorker": "workbench.services.runs.worker",
    "WorkerSettings": "workbench.services.runs.worker",
}

__all__ = [
    "RunHandle",
    "RunResults",
    "RunService",
    "RunStudy",
    "RunWorker",
    "StoredRun",
    "WorkerSettings",
]


__getattr__ = lazy_attributes(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
