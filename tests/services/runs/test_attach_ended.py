"""`wb.runs.attach` on a run that already ended shows it ended, at once, with its counts."""

from __future__ import annotations

import workbench
from tests.runs.conftest import Setup


def test_attach_to_a_finished_run_is_done_at_once_with_its_counts(setup: Setup) -> None:
    played = setup.wb.runs.start(
        suite=setup.suite_id,
        prompt=setup.prompt_id,
        target=workbench.offline(),
        repeats=3,
        progress=False,
    ).wait(60)
    attached = setup.wb.runs.attach(played.id, progress=False)
    assert attached.done  # no waiting for a watcher's first poll
    assert attached.status == "finished"
    assert repr(attached) == f"<Run {played.id} finished: 6/6 attempts: 3 failed, 3 passed>"
    assert attached.wait(0.5) is attached


def test_attach_to_a_cancelled_run_says_cancelled(setup: Setup) -> None:
    run = setup.wb.runs.start(
        suite=setup.suite_id,
        prompt=setup.prompt_id,
        target=workbench.offline(),
        progress=False,
    ).wait(60)
    from sqlalchemy import text

    with setup.wb.database.transaction() as session:
        session.execute(text("UPDATE workbench.run SET status = 'cancelled'"))
    attached = setup.wb.runs.attach(run.id, progress=False)
    assert attached.done and repr(attached).startswith(f"<Run {run.id} cancelled: 2/2 attempts")
