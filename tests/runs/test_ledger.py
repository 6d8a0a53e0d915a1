"""The ledger: leased claims, lease expiry, idempotent results, batched writes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup
from workbench.runs.engine import AttemptResult, ExpectationRow, TurnRow
from workbench.runs.ledger import DatabaseThread, Finished, claim, write_results
from workbench.runs.providers import Completion


@pytest.fixture
def ledger_run(setup: Setup) -> tuple[Setup, str]:
    """A run's rows (2 scenarios x 3 repeats, all pending), with no executor started."""
    service = setup.wb.runs
    plan = service._plan(setup.suite_id, setup.prompt_id, None)
    service._insert("run-1", "owner-0", plan, workbench.offline(), None, 3, False)
    return setup, "run-1"


def db_thread(setup: Setup) -> DatabaseThread:
    return DatabaseThread(setup.wb.database)


def ids(setup: Setup) -> dict[str, str]:
    return {"run_id": "run-1", "user_id": setup.wb.user.id}


def result(reply: str) -> AttemptResult:
    done = Completion(reply, "m", 0.01, 3, 2, None)
    turn = TurnRow(1, 2, done, None)
    check = ExpectationRow(1, 0, "MUST_CONTAIN", "PASSED", {"found": True})
    return AttemptResult("passed", None, 0.02, (turn,), (check,))


def count(setup: Setup, table: str) -> int:
    with setup.wb.database.transaction() as session:
        return int(session.scalar(text(f"SELECT count(*) FROM workbench.{table}")) or 0)


def test_claims_never_overlap_and_run_out(ledger_run: tuple[Setup, str]) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    first = db.run_sync(claim, owner="a", limit=4, **ids(setup))
    second = db.run_sync(claim, owner="b", limit=4, **ids(setup))
    assert len(first) == 4 and len(second) == 2
    assert not {c.attempt_id for c in first} & {c.attempt_id for c in second}
    assert db.run_sync(claim, owner="c", limit=4, **ids(setup)) == []


def test_an_expired_lease_is_claimed_again(ledger_run: tuple[Setup, str]) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    taken = db.run_sync(claim, owner="dead", limit=6, lease_s=0.0, **ids(setup))
    again = db.run_sync(claim, owner="alive", limit=6, **ids(setup))
    assert sorted(c.attempt_id for c in again) == sorted(c.attempt_id for c in taken)
    with setup.wb.database.transaction() as session:
        tries = session.scalars(text("SELECT tries FROM workbench.run_attempt")).all()
    assert set(tries) == {2}


def test_two_writers_of_one_attempt_leave_one_result(ledger_run: tuple[Setup, str]) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    (item,) = db.run_sync(claim, owner="a", limit=1, lease_s=0.0, **ids(setup))
    db.run_sync(claim, owner="b", limit=1, **ids(setup))  # b takes it over at lease expiry
    first = Finished(item.attempt_id, result("from b"))
    late = Finished(item.attempt_id, result("from a, late"))
    db.run_sync(write_results, owner="b", finished=[first], **ids(setup))
    db.run_sync(write_results, owner="a", finished=[late], **ids(setup))
    assert count(setup, "turn_result") == 1 and count(setup, "expectation_result") == 1
    with setup.wb.database.transaction() as session:
        reply = session.scalar(text("SELECT reply FROM workbench.turn_result"))
        status = session.scalar(
            text("SELECT status FROM workbench.run_attempt WHERE id = :i"), {"i": item.attempt_id}
        )
    assert (reply, status) == ("from b", "passed")


def test_one_batch_is_three_statements_however_many_rows(
    ledger_run: tuple[Setup, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    claimed = db.run_sync(claim, owner="a", limit=6, **ids(setup))
    executed: list[Any] = []

    def counting(conn: Any, **kwargs: Any) -> None:
        original = conn.execute
        conn.execute = lambda *a, **k: executed.append(a[0]) or original(*a, **k)
        try:
            write_results(conn, **kwargs)
        finally:
            del conn.execute

    finished = [Finished(c.attempt_id, result("r")) for c in claimed]
    db.run_sync(counting, owner="a", finished=finished, **ids(setup))
    assert len(executed) == 3
    assert count(setup, "turn_result") == 6 and count(setup, "expectation_result") == 6
