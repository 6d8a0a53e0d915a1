"""The scenario list: filters, sort and paging, with turn and expectation counts, in one query.

The counts are correlated scalar subqueries on the indexed `scenarioId` columns, evaluated only
for the rows of the page, so a page costs the same however many scenarios other users have (no
GROUP BY over every user's turns, which is what Prisma's `_count` does). The total number of
matches, when asked for, is an uncorrelated subquery in the same statement: one statement per
page either way (a second only for a page past the end, to still report the total).

This is the workbench's hottest read, with a target of 1.35x a hand-written query through
psycopg, so it is one: plain SQL (built from fixed fragments, every value a parameter) run on
the session's own connection and transaction. SQLAlchemy's statement and row machinery would
roughly double the cost of a page. psycopg prepares the statement after a few runs. A long
list is streamed (`STREAM_ROWS`): its summaries are built while the server still computes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

import psycopg

from workbench.db.enums import ScenarioStatus
from workbench.db.security.sql import COUNTS_FUNCTION
from workbench.errors import ValidationError, quoted
from workbench.services._fields import page_problems, raise_problems
from workbench.services.common import Page, coerce_enum
from workbench.services.scenarios.bulk import wrapped_driver_errors
from workbench.services.scenarios.types import ScenarioSummary

SortKey = Literal["updated_at", "name"]
TagMatch = Literal["any", "all"]

PAGE_COLUMNS: Final = (
    "s.id, s.name, s.description, s.locale, s.status::text AS status, s.version, s.tags,"
    ' s."createdAt", s."updatedAt"'
)
COLUMNS: Final = f"""{PAGE_COLUMNS},
    (SELECT count(*) FROM "ScenarioTurn" t WHERE t."scenarioId" = s.id),
    (SELECT count(*) FROM "ScenarioExpectation" e WHERE e."scenarioId" = s.id)"""
ORDERS: Final = {
    ("updated_at", True): 's."updatedAt" DESC, s.id DESC',
    ("updated_at", False): 's."updatedAt" ASC, s.id ASC',
    ("name", True): "s.name DESC, s.id DESC",
    ("name", False): "s.name ASC, s.id ASC",
}
STATUSES: Final = {status.value: status for status in ScenarioStatus}
STREAM_ROWS: Final = 1000
"""A list longer than this is read in chunks of it (libpq's chunked rows), each turned into
summaries while PostgreSQL still computes the next: fetched whole, the 10,000 summaries were
built only after the last row arrived, a third of the floor's time on top of it (issue 24)."""


def list_scenarios(
    driver: psycopg.Connection[Any],
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
    definer_counts: bool = False,
) -> Page[ScenarioSummary]:
    """One page of the user's scenario summaries; see `ScenarioService.list`.

    `definer_counts`: connected as a per-user role, count through `workbench.scenario_counts`
    (see workbench/db/security/sql.py) rather than under the child tables' policies."""
    check_paging(offset, limit)
    order = ordering(sort, descending)
    params: dict[str, Any] = {"user": user_id, "limit": limit, "offset": offset}
    where = filters(params, statuses(status), tag_list(tags), tag_match, search)
    total = f',\n    (SELECT count(*) FROM "Scenario" s WHERE {where})' if count_total else ""
    if definer_counts:
        sql = counted_by_definer(where, order, total)
    else:
        sql = (
            f'SELECT {COLUMNS}{total}\nFROM "Scenario" s WHERE {where}\n'
            f"ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
        )
    with wrapped_driver_errors(sql):
        if limit is None or limit > STREAM_ROWS:
            items, first = streamed(driver, sql, params)
        else:
            rows = driver.execute(sql, params).fetchall()
            items, first = tuple(summary_of(row) for row in rows), (rows[0] if rows else None)
        counted: int | None = None
        if count_total:
            if first is not None:
                counted = first[11]
            elif offset == 0:
                counted = 0
            else:  # past the end: no row carried the total, so ask for it alone
                counted = count_of(
                    driver.execute(
                        f'SELECT count(*) FROM "Scenario" s WHERE {where}', params
                    ).fetchone()
                )
    return Page(items=items, total=counted, offset=offset, limit=limit)


def streamed(
    driver: psycopg.Connection[Any], sql: str, params: Mapping[str, Any]
) -> tuple[tuple[ScenarioSummary, ...], tuple[Any, ...] | None]:
    """The summaries of a long list, built chunk by chunk as the rows arrive; its first row."""
    with driver.cursor() as cursor:
        rows = iter(cursor.stream(sql, params, size=STREAM_ROWS))
        first = next(rows, None)
        if first is None:
            return (), None
        return (summary_of(first), *map(summary_of, rows)), first


def counted_by_definer(where: str, order: str, total: str) -> str:
    """The same page and columns, the counts from one call of the definer function."""
    page_total, outer_total = (f"{total} AS total", ", s.total") if total else ("", "")
    return (
        f"WITH page AS MATERIALIZED (\nSELECT {PAGE_COLUMNS}{page_total}\n"
        f'FROM "Scenario" s WHERE {where}\nORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s)\n'
        "SELECT s.id, s.name, s.description, s.locale, s.status, s.version, s.tags,"
        ' s."createdAt", s."updatedAt", coalesce(c.turns, 0), coalesce(c.expectations, 0)'
        f"{outer_total}\nFROM page s LEFT JOIN {COUNTS_FUNCTION}(ARRAY(SELECT id FROM page)) c"
        f" ON c.id = s.id\nORDER BY {order}"
    )


def count_of(row: tuple[Any, ...] | None) -> int:
    return 0 if row is None else int(row[0])


def filters(
    params: dict[str, Any],
    statuses: list[ScenarioStatus] | None,
    tags: list[str] | None,
    tag_match: TagMatch,
    search: str | None,
) -> str:
    """The WHERE clause for alias `s`; its values go into `params`."""
    clauses = ["s.user_id = %(user)s"]
    if statuses is not None:
        params["statuses"] = [status.value for status in statuses]
        clauses.append('s.status = ANY(%(statuses)s::"ScenarioStatus"[])')
    if tag_match not in ("any", "all"):
        raise ValidationError(f"tag_match must be 'any' or 'all', not {quoted(tag_match)}.")
    if search is not None and not isinstance(search, str):
        raise ValidationError(f"search must be text, not {type(search).__name__}.")
    if tags:
        params["tags"] = tags
        # any: the arrays overlap (&&); all: the scenario's tags contain every one (@>).
        operator = "&&" if tag_match == "any" else "@>"
        clauses.append(f"s.tags {operator} %(tags)s::text[]")
    if search:
        params["pattern"] = "%" + like_escaped(search) + "%"
        clauses.append("(s.name ILIKE %(pattern)s OR s.description ILIKE %(pattern)s)")
    return " AND ".join(clauses)


def like_escaped(text: str) -> str:
    """`text` matching itself in LIKE: `%` and `_` (and the escape, `\\`) taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ordering(sort: SortKey, descending: bool | None) -> str:
    """Newest first by default for `updated_at`, A to Z for `name`; the id breaks ties."""
    if sort not in ("updated_at", "name"):
        raise ValidationError(f"sort must be 'updated_at' or 'name', not {quoted(sort)}.")
    if descending is None:
        descending = sort == "updated_at"
    return ORDERS[(sort, bool(descending))]


def check_paging(offset: int, limit: int | None) -> None:
    raise_problems("Cannot list scenarios", page_problems(limit, offset))


def statuses(
    status: ScenarioStatus | str | Iterable[ScenarioStatus | str] | None,
) -> list[ScenarioStatus] | None:
    if status is None:
        return None
    given = _listed(status, "status", "'DRAFT' or ['DRAFT', 'ACTIVE']")
    converted = [coerce_enum(ScenarioStatus, value) for value in given]
    unknown = [value for value in converted if not isinstance(value, ScenarioStatus)]
    if unknown:
        allowed = ", ".join(member.value for member in ScenarioStatus)
        raise ValidationError(f"status: unknown status {quoted(unknown[0])}; use one of {allowed}.")
    return converted


def tag_list(tags: str | Iterable[str] | None) -> list[str] | None:
    if tags is None:
        return None
    given = _listed(tags, "tags", "'smoke' or ['smoke', 'billing']")
    if not all(isinstance(tag, str) for tag in given):
        raise ValidationError("tags must be text or a list of text.")
    return [tag.strip() for tag in given]


def _listed(value: object, field: str, example: str) -> list[Any]:
    """One value or a list of them, as a list; anything else (a number) is a ValidationError."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(f"{field} must be one value or a list of them, e.g. {example}.")
    return list(value)


_new = object.__new__
_set = object.__setattr__
_combine = datetime.combine


def summary_of(row: tuple[Any, ...]) -> ScenarioSummary:
    """A row of `COLUMNS` as a summary, built without the dataclass's `__init__`.

    A list of 10,000 builds 10,000 summaries, and the frozen `__init__` (one `object.__setattr__`
    per field) plus `datetime.replace` were a third of the whole call; filling `__dict__` in one
    step and making the naive UTC timestamps aware with `combine` is several times cheaper. The
    result is an ordinary `ScenarioSummary` (tests check it equals one built the usual way).
    """
    summary = _new(ScenarioSummary)
    created, updated = row[7], row[8]
    _set(
        summary,
        "__dict__",
        {
            "id": row[0],
            "name": row[1],
            "description": row[2],
            "locale": row[3],
            "status": STATUSES[row[4]],
            "version": row[5],
            "tags": tuple(row[6] or ()),
            "created_at": _combine(created.date(), created.time(), UTC),
            "updated_at": _combine(updated.date(), updated.time(), UTC),
            "turn_count": row[9],
            "expectation_count": row[10],
        },
    )
    return summary
