"""Suites: named, ordered sets of the user's scenarios, run together. A scenario can be in many.

>>> smoke = wb.suites.create(name="smoke", tags=["ci"])            # doctest: +SKIP
>>> wb.suites.add(smoke.id, [greeting.id, refund.id])              # doctest: +SKIP
>>> wb.suites.reorder(smoke.id, [refund.id, greeting.id])          # doctest: +SKIP
>>> wb.suites.frame(smoke.id)                                      # doctest: +SKIP

Order is kept in `"orderIndex"`, dense 0..n-1 after every change made here. A scenario deleted
elsewhere leaves a gap until the next change; reads number the items 0..n-1 regardless.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.models import ScenarioSuite
from workbench.db.security.deletes import delete_rows
from workbench.errors import NotFound, quoted
from workbench.services._base import UserScopedService
from workbench.services._fields import (
    UNSET,
    Unset,
    checked_id,
    clean_name,
    clean_tags,
    raise_problems,
    text_problems,
)
from workbench.services._listing import SortKey, TagMatch, common_filters, fetch_page, list_args
from workbench.services.common import Page
from workbench.services.scenarios.store import not_found as scenario_not_found
from workbench.services.suites import sql
from workbench.services.suites.types import SuiteItem, SuiteSummary, SuiteView, suite_fields
from workbench.tables import SUITE_COLUMNS, suite_records, typed_frame
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SuiteItem", "SuiteService", "SuiteSummary", "SuiteView"]


def id_list(scenario_ids: str | Iterable[str], field: str = "scenario_ids") -> builtins.list[str]:
    """One id or many, as a list; every id must be text."""
    ids = [scenario_ids] if isinstance(scenario_ids, str) else builtins.list(scenario_ids)
    problems = [p for i, value in enumerate(ids) for p in text_problems(value, f"{field}[{i}]")]
    raise_problems("Cannot change the suite", problems)
    return ids


def suite_not_found(suite_id: str) -> NotFound:
    return NotFound(f"No suite with id {quoted(suite_id)}; check the id (wb.suites.list()).")


def scenarios_not_found(missing: Sequence[str]) -> NotFound:
    # The scenario service's own words, so "not yours" reads exactly as "not there".
    if len(missing) == 1:
        return scenario_not_found(missing[0])
    listed = ", ".join(repr(scenario_id) for scenario_id in missing)
    return NotFound(f"No scenarios with ids {listed}; check the ids (wb.scenarios.list()).")


def permutation_problems(current: Sequence[str], given: Sequence[str]) -> builtins.list[str]:
    """What keeps `given` from being a reordering of `current` (each member exactly once)."""
    members = set(current)
    counts = Counter(given)
    problems = [f"scenario {quoted(s)} appears {n} times" for s, n in counts.items() if n > 1]
    problems += [f"scenario {quoted(s)} is not in the suite" for s in counts if s not in members]
    problems += [
        f"scenario {quoted(s)} is missing from the new order" for s in current if s not in counts
    ]
    return problems


class SuiteService(UserScopedService):
    """The signed-in user's suites. Reach it as `wb.suites`."""

    def create(
        self,
        *,
        name: str,
        description: str | None = None,
        tags: Iterable[str] = (),
        scenario_ids: str | Iterable[str] = (),
    ) -> SuiteView:
        """A new suite, optionally with scenarios (in that order). Names are unique per user."""
        name, problems = clean_name(name)
        tag_list, tag_problems = clean_tags(tags)
        problems += text_problems(description, "description", optional=True) + tag_problems
        raise_problems("Cannot create the suite", problems)
        ids = id_list(scenario_ids)
        now = utcnow()
        row = ScenarioSuite(
            user_id=self._user_id,
            name=name,
            description=description,
            tags=tag_list,
            created_at=now,
            updated_at=now,
        )
        with self._transaction() as session:
            session.add(row)
            session.flush()
            self._append(session, row.id, ids)
            return self._view(session, row.id)

    def get(self, suite_id: str) -> SuiteView:
        """The suite with its scenario ids in order; `NotFound` if it is not yours."""
        with self._single_statement_read() as session:
            return self._view(session, suite_id)

    def list(
        self,
        *,
        tags: str | Iterable[str] | None = None,
        tag_match: TagMatch = "any",
        search: str | None = None,
        sort: SortKey = "updated_at",
        descending: bool | None = None,
        offset: int = 0,
        limit: int | None = 50,
        count_total: bool = True,
    ) -> Page[SuiteSummary]:
        """A page of your suites with their scenario counts, in one query.

        Arguments as for `wb.scenarios.list`: `tags` (any of them, or all with
        `tag_match="all"`), `search` in name or description, `sort` "updated_at" (newest
        first) or "name" (A to Z), `descending`, `offset`, `limit` (None: all), `count_total`.
        """
        args, problems = list_args(
            tags=tags,
            tag_match=tag_match,
            search=search,
            sort=sort,
            descending=descending,
            offset=offset,
            limit=limit,
            count_total=count_total,
        )
        raise_problems("Cannot list suites", problems)
        columns = [ScenarioSuite, sql.scenario_count_of(ScenarioSuite).label("scenario_count")]

        def summary(row: Any) -> SuiteSummary:
            return SuiteSummary(**suite_fields(row[0]), scenario_count=row.scenario_count)

        with self._single_statement_read() as session:
            return fetch_page(
                session,
                ScenarioSuite,
                columns,
                lambda entity: common_filters(entity, self._user_id, args),
                args,
                summary,
            )

    def update(
        self,
        suite_id: str,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
        tags: Iterable[str] | Unset = UNSET,
    ) -> SuiteView:
        """Change the fields given; the others stay. `description=None` clears it."""
        changes: dict[str, Any] = {}
        problems: builtins.list[str] = []
        if not isinstance(name, Unset):
            changes["name"], found = clean_name(name)
            problems += found
        if not isinstance(description, Unset):
            changes["description"] = description
            problems += text_problems(description, "description", optional=True)
        if not isinstance(tags, Unset):
            changes["tags"], found = clean_tags(tags)
            problems += found
        raise_problems("Cannot update the suite", problems)
        with self._transaction() as session:
            row = self._row(session, suite_id)
            for field, value in changes.items():
                setattr(row, field, value)
            if changes:
                row.updated_at = utcnow()
                session.flush()
            return self._view(session, suite_id)

    def rename(self, suite_id: str, name: str) -> SuiteView:
        """Give the suite a new name; `Duplicate` (field "name") if you have one called that."""
        return self.update(suite_id, name=name)

    def delete(self, suite_id: str) -> None:
        """Delete the suite (its scenarios stay; only the membership goes)."""
        with self._transaction() as session:
            row = self._row(session, suite_id)
            delete_rows(session, ScenarioSuite, ScenarioSuite.id == row.id)

    def add(self, suite_id: str, scenario_ids: str | Iterable[str]) -> SuiteView:
        """Append one scenario or several, in the order given.

        Only your own scenarios: any other id is `NotFound` and nothing is added. A scenario
        already in the suite (or given twice) is `Duplicate` (field "scenario").
        """
        ids = id_list(scenario_ids)
        with self._transaction() as session:
            self._touch(session, suite_id)
            self._append(session, suite_id, ids)
            return self._view(session, suite_id)

    def remove(self, suite_id: str, scenario_ids: str | Iterable[str]) -> SuiteView:
        """Take one scenario or several out of the suite; the rest keep their order.

        An id that is not in the suite is `NotFound` and nothing is removed.
        """
        ids = id_list(scenario_ids)
        with self._transaction() as session:
            self._touch(session, suite_id)
            params = {"suite_id": suite_id, "scenario_ids": ids, "user_id": self._user_id}
            remove = sql.REMOVE_AS_ROLE if self._database.definer_deletes else sql.REMOVE
            removed = set(session.scalars(remove, params))
            missing = [scenario_id for scenario_id in ids if scenario_id not in removed]
            if missing:
                listed = ", ".join(repr(scenario_id) for scenario_id in missing)
                raise NotFound(
                    f"Not in suite {quoted(suite_id)}: scenario {listed}; nothing removed."
                )
            session.execute(sql.COMPACT, {"suite_id": suite_id})
            return self._view(session, suite_id)

    def reorder(self, suite_id: str, scenario_ids: Sequence[str]) -> SuiteView:
        """Put the suite's scenarios in the order given, which must list each exactly once."""
        ids = id_list(scenario_ids)
        with self._transaction() as session:
            self._touch(session, suite_id)
            current = self._view(session, suite_id).scenario_ids
            raise_problems(
                "Cannot reorder the suite; give every scenario of the suite exactly once",
                permutation_problems(current, ids),
            )
            session.execute(sql.REORDER, {"suite_id": suite_id, "scenario_ids": ids})
            session.execute(sql.COMPACT, {"suite_id": suite_id})
            return self._view(session, suite_id)

    def items(self, suite_id: str) -> builtins.list[SuiteItem]:
        """The suite's scenarios in order with their counts, in one query."""
        with self._single_statement_read() as session:
            rows = session.execute(sql.ITEMS, {"suite_id": suite_id, "user_id": self._user_id})
            found = rows.all()
        if not found:
            raise suite_not_found(suite_id)
        return [
            SuiteItem(
                position=row.position,
                scenario_id=row.scenario_id,
                name=row.name,
                status=row.status,
                version=row.version,
                turn_count=row.turn_count,
                expectation_count=row.expectation_count,
            )
            for row in found
            if row.scenario_id is not None
        ]

    def frame(self, suite_id: str) -> pd.DataFrame:
        """The suite's scenarios as a DataFrame (see `workbench.frames.suite_frame`)."""
        items = self.items(suite_id)
        return typed_frame(suite_records(items), SUITE_COLUMNS)

    def _append(self, session: Session, suite_id: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        first_index = session.scalar(sql.NEXT_INDEX, {"suite_id": suite_id})
        params = {
            "suite_id": suite_id,
            "scenario_ids": builtins.list(ids),
            "first_index": first_index,
            "user_id": self._user_id,
            "now": utcnow(),
        }
        # A scenario already in the suite fails here as a unique violation of the item's
        # primary key, which _transaction translates into Duplicate(field="scenario").
        added = set(session.scalars(sql.APPEND, params))
        missing = [scenario_id for scenario_id in dict.fromkeys(ids) if scenario_id not in added]
        if missing:
            raise scenarios_not_found(missing)
        session.execute(sql.COMPACT, {"suite_id": suite_id})

    def _touch(self, session: Session, suite_id: str) -> None:
        params = {"suite_id": suite_id, "user_id": self._user_id, "now": utcnow()}
        if session.scalar(sql.TOUCH, params) is None:
            raise suite_not_found(suite_id)

    def _row(self, session: Session, suite_id: str) -> ScenarioSuite:
        checked_id(suite_id, "suite_id")
        row = session.scalar(
            select(ScenarioSuite)
            .where(ScenarioSuite.id == suite_id, ScenarioSuite.user_id == self._user_id)
            .with_for_update()
        )
        if row is None:
            raise suite_not_found(suite_id)
        return row

    def _view(self, session: Session, suite_id: str) -> SuiteView:
        checked_id(suite_id, "suite_id")
        statement = select(ScenarioSuite, sql.scenario_ids_of(ScenarioSuite).label("ids")).where(
            ScenarioSuite.id == suite_id, ScenarioSuite.user_id == self._user_id
        )
        found = session.execute(statement).first()
        if found is None:
            raise suite_not_found(suite_id)
        return SuiteView(**suite_fields(found[0]), scenario_ids=tuple(found.ids or ()))
