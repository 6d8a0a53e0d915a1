"""The ledger: leased claims, lease expiry, idempotent results, batched writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup
from tests.statement_count import counting_statements
from workbench.runs.engine import AttemptResult, ExpectationRow, TurnRow
from workbench.runs.ledger import (
    CLAIM,
    DatabaseThread,
    Finished,
    claim,
    heartbeat,
    results_statement,
    write_results,
)
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


def test_a_claim_starts_past_what_it_took_and_looks_back_only_when_short(
    ledger_run: tuple[Setup, str],
) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    first = db.run_sync(claim, owner="a", limit=2, lease_s=0.0, **ids(setup))  # expires at once
    after = first[-1].attempt_id
    # Enough after `after`: the expired leases before it wait (they are not scanned again).
    second = db.run_sync(claim, owner="a", limit=2, after=after, **ids(setup))
    assert len(second) == 2 and min(c.attempt_id for c in second) > after
    # Short after it: the claim goes back for the expired ones, so nothing is left behind.
    third = db.run_sync(claim, owner="a", limit=4, after=second[-1].attempt_id, **ids(setup))
    assert sorted(c.attempt_id for c in third) == sorted(
        [c.attempt_id for c in first] + [c.attempt_id for c in third if c.attempt_id > after]
    )
    assert len(third) == 4
    assert db.run_sync(claim, owner="a", limit=4, after=third[-1].attempt_id, **ids(setup)) == []


def test_a_late_claim_reads_no_more_rows_than_an_early_one(ledger_run: tuple[Setup, str]) -> None:
    """A claim past `after` reads only what lies after it, however much the run has finished
    (before, each claim scanned every earlier attempt again: quadratic in the run's size)."""
    setup, _ = ledger_run
    db = db_thread(setup)
    taken = db.run_sync(claim, owner="a", limit=5, **ids(setup))
    with setup.wb.database.transaction() as session:
        session.execute(text("UPDATE workbench.run_attempt SET status = 'passed'"
                             " WHERE status = 'claimed'"))  # fmt: skip

    def explained(conn: Any, **params: Any) -> Any:
        no_seq_scan(conn)
        return conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + CLAIM, params).fetchone()[0]

    params = {"owner": "a", "lease": 60.0, "limit": 1, "after": taken[-1].attempt_id}
    plan = db.run_sync(explained, **params, **ids(setup))
    # The one pending attempt, picked and then updated: none of the 5 passed ones.
    assert _rows_read(plan[0]["Plan"]) == 2
    params["after"] = 0  # from the start, as every claim did before
    assert _rows_read(db.run_sync(explained, **params, **ids(setup))[0]["Plan"]) >= 6


def no_seq_scan(conn: Any) -> None:
    """A test's run has a few rows, which a plan may read whole as cheaply as by any index (how
    cheap depends on what earlier tests left in the table). What is checked is that no index
    path reads past its range, as on a large run's stale statistics."""
    conn.execute("SET LOCAL enable_seqscan = off")


def _rows_read(node: dict[str, Any]) -> int:
    """Rows the plan's scans of tables returned plus the rows their filters removed."""
    own = 0
    if "Relation Name" in node and node["Node Type"] != "ModifyTable":
        own = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    return own + sum(_rows_read(child) for child in node.get("Plans", []))


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


def test_one_batch_is_one_statement_however_many_rows(
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
    assert len(executed) == 1
    assert count(setup, "turn_result") == 6 and count(setup, "expectation_result") == 6
    with setup.wb.database.transaction() as session:
        statuses = session.scalars(text("SELECT DISTINCT status FROM workbench.run_attempt")).all()
    assert statuses == ["passed"]


UPDATED_BY_THE_LEDGER = {"status", "lease_owner", "lease_expires_at", "tries", "started_at",
                         "finished_at", "error", "latency_s"}  # fmt: skip


def test_no_index_holds_a_column_the_ledger_updates(setup: Setup) -> None:
    # An indexed column (or one in an index's predicate or expression) that an update changes
    # makes the update write every index again: claims and results would not stay HOT.
    with setup.wb.database.transaction() as session:
        indexed = session.execute(
            text(
                "SELECT i.indexrelid::regclass::text, a.attname FROM pg_index i"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum > 0"
                " AND (a.attnum = ANY(i.indkey)"
                "      OR pg_get_expr(i.indpred, i.indrelid) ~ ('\\m' || a.attname || '\\M')"
                "      OR pg_get_expr(i.indexprs, i.indrelid) ~ ('\\m' || a.attname || '\\M'))"
                " WHERE i.indrelid = 'workbench.run_attempt'::regclass"
            )
        ).all()
        options = session.scalar(
            text("SELECT reloptions FROM pg_class WHERE oid = 'workbench.run_attempt'::regclass")
        )
    assert {column for _, column in indexed} == {"id", "run_id", "user_id", "position", "repeat"}
    assert not {column for _, column in indexed} & UPDATED_BY_THE_LEDGER
    assert "fillfactor=30" in (options or [])  # room on the page for the new versions


def test_a_heartbeat_is_one_statement_that_extends_only_the_owners_leases(
    ledger_run: tuple[Setup, str],
) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    db.run_sync(claim, owner="a", limit=2, lease_s=5.0, **ids(setup))
    db.run_sync(claim, owner="b", limit=2, lease_s=5.0, **ids(setup))
    with counting_statements() as seen:
        db.run_sync(heartbeat, owner="a", lease_s=600.0, **ids(setup))
    assert len(seen) == 1
    with setup.wb.database.transaction() as session:
        leases = session.execute(
            text(
                "SELECT lease_owner, bool_and(lease_expires_at > (now() AT TIME ZONE 'UTC')"
                " + interval '5 minutes') FROM workbench.run_attempt"
                " WHERE lease_owner IS NOT NULL GROUP BY lease_owner"
            )
        ).all()
    assert dict(leases) == {"a": True, "b": False}


def test_finishing_a_batch_is_one_statement_and_touches_only_its_attempts(
    ledger_run: tuple[Setup, str],
) -> None:
    setup, _ = ledger_run
    db = db_thread(setup)
    claimed = db.run_sync(claim, owner="a", limit=6, **ids(setup))
    failed = AttemptResult("failed", "boom \x00", float("nan"), (), ())
    finished = [
        Finished(claimed[0].attempt_id, result("r")),
        Finished(claimed[1].attempt_id, failed),
    ]
    with counting_statements() as seen:
        db.run_sync(write_results, owner="a", finished=finished, **ids(setup))
    assert len(seen) == 1
    # The update reads the batch's range of the run, never the rest (the test's tables have
    # no statistics: the plan is the one a fresh run gets).
    done = [{"a": f.attempt_id, "s": "passed", "e": None, "l": None} for f in finished]
    params = {"finished": json.dumps(done), "owner": "a", **ids(setup)}
    params["first"], params["last"] = min(d["a"] for d in done), max(d["a"] for d in done)

    def explained(conn: Any, **params: Any) -> Any:
        no_seq_scan(conn)
        finish = results_statement(())  # the final status alone
        return conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + finish, params).fetchone()[0]

    assert _rows_read(db.run_sync(explained, **params)[0]["Plan"]) <= 2
    with setup.wb.database.transaction() as session:
        rows = session.execute(
            text("SELECT id, status, error, latency_s FROM workbench.run_attempt ORDER BY id")
        ).all()
    by_id = {row[0]: row[1:] for row in rows}
    assert by_id[claimed[0].attempt_id] == ("passed", None, 0.02)
    assert by_id[claimed[1].attempt_id] == ("failed", "boom \ufffd", None)  # stored, made storable
    assert [by_id[c.attempt_id][0] for c in claimed[2:]] == ["claimed"] * 4
