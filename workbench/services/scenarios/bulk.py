"""Bulk writes of scenarios, turns, expectations, versions and suites, through PostgreSQL's COPY.

Saving one scenario and importing ten thousand take the same path: a handful of statements
whatever the number of rows, never one round trip (or one statement) per turn or expectation.
COPY is the fastest way into PostgreSQL by far (an import of 10,000 scenarios writes 110,000
rows); turn ids, which expectations point to, are drawn from the turn table's own sequence in
one query first.

COPY runs on the session's own connection, inside its transaction, so it commits or rolls back
with everything else. psycopg raises its own exceptions from COPY; they are wrapped as
SQLAlchemy's, so the service boundary translates them like any other (a unique violation
becomes `Duplicate`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workbench.db.columns import new_uuid
from workbench.services.scenarios.extensions import TOOLS, tools_document, write_documents
from workbench.services.scenarios.simulated import SIMULATED, simulated_document
from workbench.services.scenarios.types import ExpectationSpec, ScenarioCreate, TurnSpec
from workbench.services.scenarios.versions import snapshot_of

# Column orders of the COPY rows built below.
SCENARIO_COLUMNS = (
    "id", "user_id", "name", "description", "locale", "status", "version", "tags", "createdAt",
    "updatedAt",
)  # fmt: skip
TURN_COLUMNS = ("id", "scenarioId", "orderIndex", "turnType", "userText")
EXPECTATION_COLUMNS = (
    "scenarioId", "turnId", "orderIndex", "type", "value", "values", "caseSensitive", "threshold",
)  # fmt: skip

TURN_IDS = text(
    """SELECT nextval(pg_get_serial_sequence('"ScenarioTurn"', 'id'))
    FROM generate_series(1, :count)"""
)


@dataclass(frozen=True)
class NewScenario:
    """A validated scenario about to be inserted, with the id and time it will get."""

    id: str
    spec: ScenarioCreate
    created_at: datetime
    note: str | None


def naive_utc(moment: datetime) -> datetime:
    """What a `timestamp(3)` column holds: UTC without a zone (COPY skips SQLAlchemy's types)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


@contextmanager
def wrapped_driver_errors(statement: str) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as error:
        raise DBAPIError.instance(statement, None, error, psycopg.Error) from None


def driver_of(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under the session's, inside the session's transaction."""
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def row_security_applies(driver: psycopg.Connection[Any], table: str) -> bool:
    """Whether RLS filters this connection's rows of `table` (never for the tables' owner)."""
    row = driver.execute("SELECT row_security_active(%s::regclass)", (f'"{table}"',)).fetchone()
    return bool(row and row[0])


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY `rows` (tuples in `columns` order) into `table`, in the session's transaction."""
    names = ", ".join(f'"{column}"' for column in columns)
    statement = f'COPY "{table}" ({names}) FROM STDIN'
    driver = driver_of(session)
    if row_security_applies(driver, table):
        # PostgreSQL refuses COPY FROM into a table whose row-level security applies to the
        # caller (a per-user role on a secured hub); the same rows go in as one batched INSERT.
        marks = ", ".join(["%s"] * len(columns))
        insert = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        with wrapped_driver_errors(insert), driver.cursor() as cursor:
            cursor.executemany(insert, list(rows))
        return
    with (
        wrapped_driver_errors(statement),
        driver.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def insert_scenarios(session: Session, user_id: str, items: Sequence[NewScenario]) -> None:
    """Insert scenarios at version 1 with their turns, expectations and first snapshots."""
    if not items:
        return
    copy_rows(
        session,
        "Scenario",
        SCENARIO_COLUMNS,
        (
            (
                item.id,
                user_id,
                item.spec.name,
                item.spec.description,
                item.spec.locale,
                str(item.spec.status),
                1,
                list(item.spec.tags),
                naive_utc(item.created_at),
                naive_utc(item.created_at),
            )
            for item in items
        ),
    )
    turn_ids = insert_turns(session, [(item.id, item.spec.turns) for item in items])
    insert_versions(
        session, [(item.id, 1, item.spec, item.note, item.created_at) for item in items]
    )
    documents = []
    for item, ids in zip(items, turn_ids, strict=True):
        document = tools_document(item.spec.tools, item.spec.turns, ids)
        if document is not None:
            documents.append((item.id, 1, TOOLS, document))
        simulated = simulated_document(item.spec.turns, ids)
        if simulated is not None:
            documents.append((item.id, 1, SIMULATED, simulated))
    write_documents(session, user_id, documents)


def insert_turns(
    session: Session, scenarios: Sequence[tuple[str, Sequence[TurnSpec]]]
) -> list[list[int]]:
    """Insert the turns of many scenarios, then their expectations; each scenario's turn ids."""
    count = sum(len(turns) for _, turns in scenarios)
    if not count:
        return [[] for _ in scenarios]
    all_ids = session.scalars(TURN_IDS, {"count": count}).all()
    turn_ids = iter(all_ids)
    turn_rows: list[tuple[Any, ...]] = []
    expectation_rows: list[tuple[Any, ...]] = []
    for scenario_id, turns in scenarios:
        for index, turn in enumerate(turns):
            turn_id = next(turn_ids)
            turn_rows.append((turn_id, scenario_id, index, str(turn.type), turn.text))
            expectation_rows.extend(
                expectation_row(scenario_id, turn_id, position, spec)
                for position, spec in enumerate(turn.expectations)
            )
    copy_rows(session, "ScenarioTurn", TURN_COLUMNS, turn_rows)
    if expectation_rows:
        copy_rows(
            session,
            "ScenarioExpectation",
            EXPECTATION_COLUMNS,
            expectation_rows,
        )
    out, start = [], 0
    for _, turns in scenarios:
        out.append(list(all_ids[start : start + len(turns)]))
        start += len(turns)
    return out


def expectation_row(
    scenario_id: str, turn_id: int, index: int, spec: ExpectationSpec
) -> tuple[Any, ...]:
    return (
        scenario_id,
        turn_id,
        index,
        str(spec.type),
        spec.value,
        list(spec.values),
        spec.case_sensitive,
        None if spec.threshold is None else float(spec.threshold),
    )


def insert_versions(
    session: Session, versions: Sequence[tuple[str, int, ScenarioCreate, str | None, datetime]]
) -> None:
    """Write one snapshot per (scenario id, version, content, note, time)."""
    copy_rows(
        session,
        "ScenarioVersion",
        ("id", "scenarioId", "version", "snapshot", "note", "createdAt"),
        (
            (
                new_uuid(),
                scenario_id,
                version,
                json.dumps(snapshot_of(spec), ensure_ascii=False),
                note,
                naive_utc(at),
            )
            for scenario_id, version, spec, note, at in versions
        ),
    )
