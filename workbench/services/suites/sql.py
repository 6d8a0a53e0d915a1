"""The statements behind suite membership: append, remove, reorder, compact, and the item list.

Each is one statement whatever the number of scenarios: ids travel as one text[] parameter and
`unnest ... WITH ORDINALITY` turns the array into rows with their positions. A suite's items are
read ordered by ("orderIndex", "addedAt", "scenarioId"), so a gap (left by a scenario deleted
elsewhere) never changes the order, and `COMPACT` closes gaps after every change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, Text, and_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from workbench.db.base import UTCDateTime
from workbench.db.enums import SCENARIO_STATUS
from workbench.db.models import Scenario
from workbench.db.models import ScenarioSuiteItem as Item
from workbench.db.security.deletes import definer_delete_sql

ITEM_ORDER = 'item."orderIndex", item."addedAt", item."scenarioId"'

# Only the user's own scenarios join: another user's id (or a missing one) inserts nothing,
# and the caller compares what came back with what was asked for.
APPEND = text(
    """
INSERT INTO "ScenarioSuiteItem" ("suiteId", "scenarioId", "orderIndex", "addedAt")
SELECT :suite_id, scenario.id, :first_index + given.position - 1, :now
FROM unnest(CAST(:scenario_ids AS text[])) WITH ORDINALITY AS given(id, position)
JOIN "Scenario" AS scenario ON scenario.id = given.id AND scenario.user_id = :user_id
RETURNING "scenarioId"
"""
).bindparams(bindparam("now", type_=UTCDateTime()))

NEXT_INDEX = text(
    """
SELECT COALESCE(MAX("orderIndex") + 1, 0) FROM "ScenarioSuiteItem" WHERE "suiteId" = :suite_id
"""
)

_REMOVED = """"suiteId" = :suite_id AND "scenarioId" = ANY(CAST(:scenario_ids AS text[]))
  AND "scenarioId" IN (SELECT id FROM "Scenario" WHERE user_id = :user_id)"""
REMOVE = text(f'DELETE FROM "ScenarioSuiteItem"\nWHERE {_REMOVED}\nRETURNING "scenarioId"')
# A per-user role holds no DELETE privilege (workbench/db/security/deletes.py).
REMOVE_AS_ROLE = text(definer_delete_sql('"public"."ScenarioSuiteItem"', _REMOVED, '"scenarioId"'))

REORDER = text(
    """
UPDATE "ScenarioSuiteItem" AS item SET "orderIndex" = given.position - 1
FROM unnest(CAST(:scenario_ids AS text[])) WITH ORDINALITY AS given(id, position)
WHERE item."suiteId" = :suite_id AND item."scenarioId" = given.id
"""
)

COMPACT = text(
    f"""
UPDATE "ScenarioSuiteItem" AS target SET "orderIndex" = ranked.position
FROM (
    SELECT item."scenarioId", row_number() OVER (ORDER BY {ITEM_ORDER}) - 1 AS position
    FROM "ScenarioSuiteItem" AS item WHERE item."suiteId" = :suite_id
) AS ranked
WHERE target."suiteId" = :suite_id AND target."scenarioId" = ranked."scenarioId"
  AND target."orderIndex" <> ranked.position
"""
)

# Owner check and bump of updatedAt in one statement; the row lock it takes serialises
# concurrent changes to the same suite, which keeps the order dense.
TOUCH = text(
    """
UPDATE "ScenarioSuite" SET "updatedAt" = :now
WHERE id = :suite_id AND user_id = :user_id
RETURNING id
"""
).bindparams(bindparam("now", type_=UTCDateTime()))

# The suite row always comes back (scenario columns null for an empty suite), so "no row"
# means "no such suite of yours" and the caller can tell it from "empty" in one round trip.
# Counts are correlated subqueries on indexed columns, evaluated for this suite's rows only.
ITEMS = text(
    f"""
SELECT suite.id AS suite_id,
       row_number() OVER (ORDER BY {ITEM_ORDER}) AS position,  -- shown: from 1
       scenario.id AS scenario_id, scenario.name, scenario.status, scenario.version,
       (SELECT count(*) FROM "ScenarioTurn" AS turn
         WHERE turn."scenarioId" = scenario.id) AS turn_count,
       (SELECT count(*) FROM "ScenarioExpectation" AS expectation
         WHERE expectation."scenarioId" = scenario.id) AS expectation_count
FROM "ScenarioSuite" AS suite
LEFT JOIN ("ScenarioSuiteItem" AS item
           JOIN "Scenario" AS scenario
             ON scenario.id = item."scenarioId" AND scenario.user_id = :user_id)
       ON item."suiteId" = suite.id
WHERE suite.id = :suite_id AND suite.user_id = :user_id
ORDER BY position
"""
).columns(
    suite_id=Text,
    position=Integer,
    scenario_id=Text,
    name=Text,
    status=SCENARIO_STATUS,
    version=Integer,
    turn_count=Integer,
    expectation_count=Integer,
)


def owned_items(suite: Any) -> ColumnElement[bool]:
    """Join condition: items whose scenario belongs to the suite's owner (defensive: the web
    app could write a foreign one; it is never shown)."""
    return and_(Scenario.id == Item.scenario_id, Scenario.user_id == suite.user_id)


def scenario_ids_of(suite: Any) -> Any:
    """The suite's scenario ids in order, as one array column (NULL for an empty suite)."""
    ordered = aggregate_order_by(
        Item.scenario_id, Item.order_index, Item.added_at, Item.scenario_id
    )
    return (
        select(func.array_agg(ordered))
        .select_from(Item)
        .join(Scenario, owned_items(suite))
        .where(Item.suite_id == suite.id)
        .correlate(suite)
        .scalar_subquery()
    )


def scenario_count_of(suite: Any) -> Any:
    """How many scenarios the suite holds, counted in SQL for each listed suite."""
    return (
        select(func.count())
        .select_from(Item)
        .join(Scenario, owned_items(suite))
        .where(Item.suite_id == suite.id)
        .correlate(suite)
        .scalar_subquery()
    )
