"""What the prompt and suite lists share: text search, tag filter, sort order and paging.

The arguments and their meaning are the scenario list's (scenarios/listing.py), so every list in
the workbench reads the same: `tags` with `tag_match` "any" or "all", `search` in the name or
description (case-insensitive, `%` and `_` literal), `sort` "updated_at" (newest first) or
"name" (A to Z), `descending` to reverse, `offset`/`limit` to page, and the total number of
matches as an uncorrelated subquery of the same statement: one round trip per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from workbench.errors import quoted
from workbench.services._fields import clean_tags, page_problems, text_problems
from workbench.services.common import Page

SortKey = Literal["updated_at", "name"]
TagMatch = Literal["any", "all"]

T = TypeVar("T")


@dataclass(frozen=True)
class ListArgs:
    """A list call's arguments, checked."""

    tags: list[str]
    tag_match: TagMatch
    search: str | None
    sort: SortKey
    descending: bool | None
    offset: int
    limit: int | None
    count_total: bool


def list_args(
    *,
    tags: str | Iterable[str] | None,
    tag_match: str,
    search: str | None,
    sort: str,
    descending: bool | None,
    offset: int,
    limit: int | None,
    count_total: bool,
) -> tuple[ListArgs, list[str]]:
    """The arguments of a list call, and every problem with them."""
    problems = text_problems(search, "search", optional=True) + page_problems(limit, offset)
    wanted: list[str] = []
    if tags is not None:
        wanted, found = clean_tags([tags] if isinstance(tags, str) else tags)
        problems += found
    if tag_match not in ("any", "all"):
        problems.append(f"tag_match: must be 'any' or 'all', not {quoted(tag_match)}")
    if sort not in ("updated_at", "name"):
        problems.append(f"sort: must be 'updated_at' or 'name', not {quoted(sort)}")
    args = ListArgs(
        tags=wanted,
        tag_match=cast(TagMatch, tag_match),
        search=search,
        sort=cast(SortKey, sort),
        descending=descending,
        offset=offset,
        limit=limit,
        count_total=count_total,
    )
    return args, problems


def common_filters(entity: Any, user_id: str, args: ListArgs) -> list[ColumnElement[bool]]:
    """WHERE clauses for `entity` (a model or an alias): owner, tags and search text."""
    clauses: list[ColumnElement[bool]] = [entity.user_id == user_id]
    if args.tags:
        # any: the arrays overlap (&&); all: the row's tags contain every one (@>).
        match = entity.tags.overlap if args.tag_match == "any" else entity.tags.contains
        clauses.append(match(args.tags))
    if args.search:
        clauses.append(
            entity.name.icontains(args.search, autoescape=True)
            | entity.description.icontains(args.search, autoescape=True)
        )
    return clauses


def ordering(entity: Any, args: ListArgs) -> list[Any]:
    """Newest first by `updated_at`, A to Z by `name` (`descending` reverses); id breaks ties."""
    key = entity.updated_at if args.sort == "updated_at" else entity.name
    descending = args.descending
    if descending is None:
        descending = args.sort == "updated_at"
    if descending:
        return [key.desc(), entity.id.desc()]
    return [key.asc(), entity.id.asc()]


def fetch_page(
    session: Session,
    entity: Any,
    columns: list[Any],
    filters: Callable[[Any], list[ColumnElement[bool]]],
    args: ListArgs,
    convert: Callable[[Any], T],
) -> Page[T]:
    """Run one list page: `columns` of `entity` rows matching `filters(entity)`, in order."""
    other = aliased(entity)
    total = select(func.count()).select_from(other).where(*filters(other)).scalar_subquery()
    if args.count_total:
        columns = [*columns, total.label("total")]
    statement = select(*columns).where(*filters(entity)).order_by(*ordering(entity, args))
    statement = statement.offset(args.offset)
    if args.limit is not None:
        statement = statement.limit(args.limit)
    rows = session.execute(statement).all()
    count: int | None = None
    if args.count_total:
        if rows:
            count = rows[0].total
        elif args.offset == 0:
            count = 0
        else:  # past the end: no row carried the total, so ask for it alone
            count = session.execute(select(total)).scalar_one()
    return Page(
        items=tuple(convert(row) for row in rows),
        total=count,
        offset=args.offset,
        limit=args.limit,
    )
