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
"""

from __future__ import annotations

from workbench.services.runs.handle import RunHandle, RunResults, StoredRun
from workbench.services.runs.service import RunService
from workbench.services.runs.study import RunStudy
from workbench.services.runs.worker import RunWorker, WorkerSettings

__all__ = [
    "RunHandle",
    "RunResults",
    "RunService",
    "RunStudy",
    "RunWorker",
    "StoredRun",
    "WorkerSettings",
]
