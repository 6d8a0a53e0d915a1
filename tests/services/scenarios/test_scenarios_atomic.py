"""Real commits and real concurrency: saves are all or nothing, and racing saves cannot both win."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.conftest import insert_user
from workbench.db.engine import Database
from workbench.errors import Conflict
from workbench.handle import Workbench
from workbench.services.scenarios import bulk as scenario_bulk
from workbench.services.scenarios import save as scenario_save
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    expect,
    must_contain,
    user,
)

SPEC = ScenarioCreate(
    "Atomic", tags=("a",), turns=(user("Hi"), expect(must_contain("hello")), user("Bye"))
)


@pytest.fixture
def committed_wb(committed_db: Database) -> Workbench:
    return Workbench(committed_db, insert_user(committed_db))


def fail_in_the_database(session: Session, *args: Any) -> None:
    """Stands in for the last write of a save: a real database error, after the others ran."""
    session.execute(text("SELECT 1 / 0"))


def test_a_database_error_mid_update_leaves_the_previous_version(
    committed_wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = committed_wb.scenarios.create(SPEC)
    monkeypatch.setattr(scenario_save, "insert_versions", fail_in_the_database)
    with pytest.raises(DBAPIError, match="division by zero"):
        committed_wb.scenarios.update(
            created.id, ScenarioUpdate(name="Half", turns=()), expected_version=1
        )
    monkeypatch.undo()
    assert committed_wb.scenarios.get(created.id) == created
    assert [v.version for v in committed_wb.scenarios.history(created.id)] == [1]


def test_a_database_error_mid_create_leaves_nothing(
    committed_wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenario_bulk, "insert_versions", fail_in_the_database)
    with pytest.raises(DBAPIError):
        committed_wb.scenarios.create(SPEC)
    monkeypatch.undo()
    assert committed_wb.scenarios.list().total == 0
    with committed_wb.database.transaction() as session:
        assert session.scalar(text('SELECT count(*) FROM "ScenarioTurn"')) == 0


def run_in_thread(action: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = action()
        except Exception as error:  # handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def test_an_update_racing_a_save_in_progress_gets_conflict(committed_wb: Workbench) -> None:
    """The version check is in the UPDATE itself: it waits for the other save, then refuses."""
    created = committed_wb.scenarios.create(SPEC)
    with committed_wb.database.engine.connect() as other:
        other.execute(
            text('UPDATE "Scenario" SET version = version + 1, name = :n WHERE id = :id'),
            {"n": "Saved by someone else", "id": created.id},
        )  # holds the row lock until commit
        thread, outcome = run_in_thread(
            lambda: committed_wb.scenarios.update(
                created.id, ScenarioUpdate(name="Mine"), expected_version=1
            )
        )
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the update should wait for the other transaction"
        other.commit()
    thread.join(timeout=10)
    assert isinstance(outcome.get("error"), Conflict)
    assert committed_wb.scenarios.get(created.id).name == "Saved by someone else"


def test_duplicate_racing_another_copy_takes_the_next_name(committed_wb: Workbench) -> None:
    """The copy's name is not pre-checked and trusted: a name taken meanwhile means retry."""
    created = committed_wb.scenarios.create(SPEC)
    with committed_wb.database.engine.connect() as other:
        other.execute(
            text(
                'INSERT INTO "Scenario" (id, user_id, name, "updatedAt") '
                "VALUES ('racer', :user, 'Atomic (copy)', now())"
            ),
            {"user": committed_wb.user.id},
        )  # uncommitted: invisible to the copy's look-up, but it holds the unique key
        thread, outcome = run_in_thread(lambda: committed_wb.scenarios.duplicate(created.id))
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the copy should wait on the unique index"
        other.commit()
    thread.join(timeout=10)
    assert "error" not in outcome, outcome
    assert outcome["value"].name == "Atomic (copy 2)"
    names = {s.name for s in committed_wb.scenarios.list()}
    assert names == {"Atomic", "Atomic (copy)", "Atomic (copy 2)"}
