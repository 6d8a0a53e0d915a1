"""The scenario list: filters, sort and paging, with turn and expectation counts, in one query.

The counts are correlated scalar subqueries on the indexed `scenarioId` columns, evaluated only
for the rows of the page, so a page costs the same however many scenarios other users have (no
GROUP BY over every user's turns, which is what Prisma's `_count` does). The total number of
matches, when asked for, is an uncorrelated subquery in the same statement: one round trip per
page either way (two only when the page is past the end, to still report the total).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased

from workbench.db.enums import ScenarioStatus
from workbench.db.models import Scenario, ScenarioExpectation, ScenarioTurn
from workbench.errors import ValidationError
from workbench.services.scenario_store import SCENARIO_COLUMNS
from workbench.services.scenario_types import Page, ScenarioSummary, coerce_enum

SortKey = Literal["updated_at", "name"]
TagMatch = Literal["any", "all"]


def list_scenarios(
    session: Session,
    user_id: str,
    *,
    status: ScenarioStatus | str | Iterable[ScenarioStatus | str] | None = None,
    tags: str | Iterable[str] | None = None,
    tag_match: TagMatch = "any",
    search: str | None = None,
    sort: SortKey = "updated_at",
    descending: bool | None = None,
    offset: int = 0,
    limit: int | None = 50,
    count_total: bool = True,
) -> Page[ScenarioSummary]:
    """One page of the user's scenario summaries; see `ScenarioService.list`."""
    check_paging(offset, limit)
    filters = Filters(user_id, statuses(status), tag_list(tags), tag_match, search)
    statement = page_statement(filters, sort, descending, count_total).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    rows = session.execute(statement).all()
    items = tuple(summary_of(row) for row in rows)
    total: int | None = None
    if count_total:
        if rows:
            total = rows[0].total
        elif offset == 0:
            total = 0
        else:
            total = session.execute(select(total_count(filters))).scalar_one()
    return Page(items=items, total=total, offset=offset, limit=limit)


class Filters:
    """The WHERE clause of a list, buildable against `Scenario` or an alias of it."""

    def __init__(
        self,
        user_id: str,
        statuses: list[ScenarioStatus] | None,
        tags: list[str] | None,
        tag_match: TagMatch,
        search: str | None,
    ) -> None:
        if tag_match not in ("any", "all"):
            raise ValidationError(f"tag_match must be 'any' or 'all', not {tag_match!r}.")
        if search is not None and not isinstance(search, str):
            raise ValidationError(f"search must be text, not {type(search).__name__}.")
        self.user_id, self.statuses, self.tags = user_id, statuses, tags
        self.tag_match, self.search = tag_match, search

    def on(self, entity: Any) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [entity.user_id == self.user_id]
        if self.statuses is not None:
            clauses.append(entity.status.in_(self.statuses))
        if self.tags:
            # any: the arrays overlap (&&); all: the scenario's tags contain every one (@>).
            match = entity.tags.overlap if self.tag_match == "any" else entity.tags.contains
            clauses.append(match(self.tags))
        if self.search:
            # autoescape: % and _ in the search text match themselves, not as wildcards.
            clauses.append(
                entity.name.icontains(self.search, autoescape=True)
                | entity.description.icontains(self.search, autoescape=True)
            )
        return clauses


def page_statement(
    filters: Filters, sort: SortKey, descending: bool | None, count_total: bool
) -> Select[Any]:
    turn_count = (
        select(func.count())
        .select_from(ScenarioTurn)
        .where(ScenarioTurn.scenario_id == Scenario.id)
        .correlate(Scenario)
        .scalar_subquery()
    )
    expectation_count = (
        select(func.count())
        .select_from(ScenarioExpectation)
        .where(ScenarioExpectation.scenario_id == Scenario.id)
        .correlate(Scenario)
        .scalar_subquery()
    )
    columns: list[Any] = [
        *SCENARIO_COLUMNS,
        turn_count.label("turn_count"),
        expectation_count.label("expectation_count"),
    ]
    if count_total:
        columns.append(total_count(filters).label("total"))
    return select(*columns).where(*filters.on(Scenario)).order_by(*ordering(sort, descending))


def total_count(filters: Filters) -> Any:
    """Every match, counted over an alias so it does not correlate with the page's rows."""
    other = aliased(Scenario)
    return select(func.count()).select_from(other).where(*filters.on(other)).scalar_subquery()


def ordering(sort: SortKey, descending: bool | None) -> list[Any]:
    """Newest first by default for `updated_at`, A to Z for `name`; the id breaks ties."""
    if sort == "updated_at":
        key: Any = Scenario.updated_at
        descending = True if descending is None else descending
    elif sort == "name":
        key = Scenario.name
        descending = False if descending is None else descending
    else:
        raise ValidationError(f"sort must be 'updated_at' or 'name', not {sort!r}.")
    if descending:
        return [key.desc(), Scenario.id.desc()]
    return [key.asc(), Scenario.id.asc()]


def check_paging(offset: int, limit: int | None) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValidationError(f"offset must be a whole number, 0 or more, not {offset!r}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationError(f"limit must be a whole number, 1 or more (or None), not {limit!r}.")


def statuses(
    status: ScenarioStatus | str | Iterable[ScenarioStatus | str] | None,
) -> list[ScenarioStatus] | None:
    if status is None:
        return None
    given = [status] if isinstance(status, str) else list(status)
    converted = [coerce_enum(ScenarioStatus, value) for value in given]
    unknown = [value for value in converted if not isinstance(value, ScenarioStatus)]
    if unknown:
        allowed = ", ".join(member.value for member in ScenarioStatus)
        raise ValidationError(f"status: unknown status {unknown[0]!r}; use one of {allowed}.")
    return converted


def tag_list(tags: str | Iterable[str] | None) -> list[str] | None:
    if tags is None:
        return None
    given = [tags] if isinstance(tags, str) else list(tags)
    if not all(isinstance(tag, str) for tag in given):
        raise ValidationError("tags must be text or a list of text.")
    return [tag.strip() for tag in given]


def summary_of(row: Any) -> ScenarioSummary:
    return ScenarioSummary(
        id=row.id,
        name=row.name,
        description=row.description,
        locale=row.locale,
        status=row.status,
        version=row.version,
        tags=tuple(row.tags or ()),
        created_at=row.created_at,
        updated_at=row.updated_at,
        turn_count=row.turn_count,
        expectation_count=row.expectation_count,
    )
