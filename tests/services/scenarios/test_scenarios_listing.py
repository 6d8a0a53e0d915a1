"""The scenario list: filters, sort, paging, counts, and one statement per page."""

from __future__ import annotations

import dataclasses
from datetime import UTC
from typing import Any

import psycopg
import pytest
from sqlalchemy import insert, update

from tests.conftest import insert_user
from tests.statement_count import counting_statements
from workbench.db.columns import new_uuid
from workbench.db.engine import Database
from workbench.db.models import Scenario
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios import listing
from workbench.services.scenarios.bulk import NewScenario, insert_scenarios
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioSummary,
    expect,
    must_contain,
    must_contain_any,
    user,
)
from workbench.timeutil import utcnow


def make(wb: Workbench, name: str, **fields: Any) -> str:
    return wb.scenarios.create(ScenarioCreate(name=name, **fields)).id


def names(page: Any) -> list[str]:
    return [item.name for item in page]


def test_summaries_carry_turn_and_expectation_counts(wb: Workbench) -> None:
    make(
        wb,
        "Counted",
        turns=[user("a"), expect(must_contain("x"), must_contain_any("y", "z")), user("b")],
    )
    make(wb, "Empty")
    page = wb.scenarios.list(sort="name")
    assert [(s.name, s.turn_count, s.expectation_count) for s in page] == [
        ("Counted", 3, 2),
        ("Empty", 0, 0),
    ]


def test_summary_fields_match_the_scenario(wb: Workbench) -> None:
    created = wb.scenarios.create(
        ScenarioCreate("S", description="d", locale="fr", tags=["a", "b"], status="PUBLISHED")
    )
    (summary,) = wb.scenarios.list()
    assert (summary.id, summary.description, summary.locale, summary.tags) == (
        created.id,
        "d",
        "fr",
        ("a", "b"),
    )
    assert (summary.status, summary.version) == (created.status, 1)
    assert (summary.created_at, summary.updated_at) == (created.created_at, created.updated_at)


def test_newest_first_by_default(wb: Workbench) -> None:
    for name in ("old", "middle", "new"):
        make(wb, name)
    set_updated_at(wb, {"old": 1, "middle": 2, "new": 3})
    assert names(wb.scenarios.list()) == ["new", "middle", "old"]
    assert names(wb.scenarios.list(descending=False)) == ["old", "middle", "new"]


def set_updated_at(wb: Workbench, order: dict[str, int]) -> None:
    """Give scenarios distinct update times (the clock may not tick between creates)."""
    now = utcnow()
    with wb.database.transaction() as session:
        for name, seconds in order.items():
            session.execute(
                update(Scenario)
                .where(Scenario.user_id == wb.user.id, Scenario.name == name)
                .values(updated_at=now.replace(second=seconds))
            )


def test_sort_by_name_a_to_z_and_reversed(wb: Workbench) -> None:
    for name in ("b", "c", "a"):
        make(wb, name)
    assert names(wb.scenarios.list(sort="name")) == ["a", "b", "c"]
    assert names(wb.scenarios.list(sort="name", descending=True)) == ["c", "b", "a"]


def test_unknown_sort_is_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="sort must be 'updated_at' or 'name'"):
        wb.scenarios.list(sort="size")  # type: ignore[arg-type]


def test_filter_by_status_one_or_several(wb: Workbench) -> None:
    make(wb, "draft")
    make(wb, "published", status="PUBLISHED")
    make(wb, "archived", status="ARCHIVED")
    assert names(wb.scenarios.list(status="published")) == ["published"]
    both = wb.scenarios.list(status=["DRAFT", "ARCHIVED"], sort="name")
    assert names(both) == ["archived", "draft"]


def test_unknown_status_filter_is_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="unknown status 'LIVE'"):
        wb.scenarios.list(status="LIVE")


def test_filter_by_tags_any_or_all(wb: Workbench) -> None:
    make(wb, "ab", tags=["a", "b"])
    make(wb, "a", tags=["a"])
    make(wb, "c", tags=["c"])
    assert names(wb.scenarios.list(tags=["a", "b"], sort="name")) == ["a", "ab"]
    assert names(wb.scenarios.list(tags=["a", "b"], tag_match="all")) == ["ab"]
    assert names(wb.scenarios.list(tags="c")) == ["c"]


def test_search_matches_name_or_description_ignoring_case(wb: Workbench) -> None:
    make(wb, "Refund request")
    make(wb, "Other", description="asks for a REFUND")
    make(wb, "Unrelated")
    assert names(wb.scenarios.list(search="refund", sort="name")) == ["Other", "Refund request"]


def test_search_takes_percent_and_underscore_literally(wb: Workbench) -> None:
    make(wb, "100% sure")
    make(wb, "1000 sure")
    make(wb, "a_b")
    make(wb, "axb")
    assert names(wb.scenarios.list(search="0%")) == ["100% sure"]
    assert names(wb.scenarios.list(search="a_b")) == ["a_b"]


def test_filters_combine(wb: Workbench) -> None:
    make(wb, "smoke draft", tags=["smoke"])
    make(wb, "smoke published", tags=["smoke"], status="PUBLISHED")
    make(wb, "other published", status="PUBLISHED")
    page = wb.scenarios.list(status="PUBLISHED", tags=["smoke"], search="smoke")
    assert names(page) == ["smoke published"]
    assert page.total == 1


def test_paging_walks_every_scenario_once(wb: Workbench) -> None:
    for index in range(7):
        make(wb, f"s{index}")
    pages = [wb.scenarios.list(sort="name", offset=offset, limit=3) for offset in (0, 3, 6)]
    assert [names(page) for page in pages] == [["s0", "s1", "s2"], ["s3", "s4", "s5"], ["s6"]]
    assert {page.total for page in pages} == {7}


def test_a_page_past_the_end_is_empty_but_still_counts(wb: Workbench) -> None:
    make(wb, "only")
    page = wb.scenarios.list(offset=5)
    assert (page.items, page.total, page.offset) == ((), 1, 5)


def test_count_total_false_leaves_total_out(wb: Workbench) -> None:
    make(wb, "only")
    assert wb.scenarios.list(count_total=False).total is None


def test_limit_none_returns_everything(wb: Workbench) -> None:
    for index in range(60):
        make(wb, f"s{index:02}")
    page = wb.scenarios.list(limit=None)
    assert (len(page), page.total, page.limit) == (60, 60, None)


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, -5), (True, 10)])
def test_bad_paging_is_refused(wb: Workbench, offset: int, limit: int) -> None:
    with pytest.raises(ValidationError):
        wb.scenarios.list(offset=offset, limit=limit)


def test_other_users_scenarios_are_not_listed(wb: Workbench, other_wb: Workbench) -> None:
    make(other_wb, "theirs")
    make(wb, "mine")
    page = wb.scenarios.list()
    assert (names(page), page.total) == (["mine"], 1)


def test_a_page_of_50_with_counts_and_total_is_one_statement(wb: Workbench) -> None:
    bulk_scenarios(wb, 120)
    with counting_statements() as seen:
        page = wb.scenarios.list(limit=50, tags=["t"], search="s", status="DRAFT")
    assert len(page) == 50
    assert page.total == 120
    assert {s.turn_count for s in page} == {4}
    assert {s.expectation_count for s in page} == {5}
    assert len(seen) == 1, seen


def test_the_counts_use_no_group_by_over_the_turn_table(wb: Workbench) -> None:
    with counting_statements() as seen:
        wb.scenarios.list()
    (sql,) = seen
    assert "GROUP BY" not in sql.upper()
    if wb.database.definer_counts:  # a per-user role counts through the definer function
        assert "workbench.scenario_counts(ARRAY(SELECT id FROM page))" in sql
    else:
        assert 'FROM "ScenarioTurn" t WHERE t."scenarioId" = s.id' in sql


def bulk_scenarios(wb: Workbench, count: int) -> None:
    """`count` scenarios of 4 turns and 5 expectations, written through the import path."""
    turns = [
        user("Hi"),
        expect(must_contain("a"), must_contain("b")),
        user("More"),
        expect(must_contain("c"), must_contain("d"), must_contain("e")),
    ]
    specs = [ScenarioCreate(f"s{i:04}", tags=["t"], turns=turns) for i in range(count)]
    now = utcnow()
    items = [NewScenario(new_uuid(), spec, now, None) for spec in specs]
    with wb.database.transaction() as session:
        insert_scenarios(session, wb.user.id, items)


def test_tags_stored_as_null_by_another_writer_read_as_empty(wb: Workbench) -> None:
    now = utcnow()
    with wb.database.transaction() as session:
        session.execute(
            insert(Scenario).values(
                id="web-app-row", user_id=wb.user.id, name="n", tags=None, updated_at=now
            )
        )
    assert wb.scenarios.list().items[0].tags == ()
    assert wb.scenarios.get("web-app-row").tags == ()


def test_a_page_from_the_connection_pool_is_one_statement(committed_db: Database) -> None:
    """Outside tests the list reads through a pooled connection in autocommit: no BEGIN."""
    wb = Workbench(committed_db, insert_user(committed_db))
    bulk_scenarios(wb, 60)
    with counting_statements() as seen:
        page = wb.scenarios.list(limit=50)
    assert (len(page), page.total) == (50, 60)
    assert {(s.turn_count, s.expectation_count) for s in page} == {(4, 5)}
    assert len(seen) == 1, seen


def test_summaries_equal_ones_built_the_usual_way(wb: Workbench) -> None:
    make(wb, "s", tags=["a"], description=None)
    (summary,) = wb.scenarios.list()
    assert dataclasses.replace(summary) == summary
    assert vars(summary) == vars(ScenarioSummary(**vars(summary)))
    assert summary.created_at.tzinfo is UTC


@pytest.mark.parametrize("count_total", [True, False])
def test_a_long_list_is_streamed_in_chunks_with_the_same_summaries(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch, count_total: bool
) -> None:
    bulk_scenarios(wb, 7)
    whole = wb.scenarios.list(limit=None, count_total=count_total)
    monkeypatch.setattr(listing, "STREAM_ROWS", 2)  # 7 rows: chunks of 2, 2, 2 and 1
    chunks: list[int] = []
    original = psycopg.Cursor.stream

    def stream(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        chunks.append(kwargs["size"])
        return original(cursor, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "stream", stream)
    streamed = wb.scenarios.list(limit=None, count_total=count_total)
    assert chunks == [2]
    assert streamed == whole and len(streamed) == 7
    assert streamed.total == (7 if count_total else None)
    assert wb.scenarios.list(limit=3, count_total=count_total).items == whole.items[:3]  # whole
    assert chunks == [2, 2]  # a limit above STREAM_ROWS streams too


def test_an_empty_streamed_list_counts_zero(wb: Workbench) -> None:
    page = wb.scenarios.list(limit=None)
    assert (page.items, page.total) == ((), 0)
