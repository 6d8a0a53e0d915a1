"""SuiteService: create, rename, update, delete, list; add, remove, reorder; items; scoping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import insert_user
from tests.statement_count import counting_statements
from workbench.db.engine import Database
from workbench.db.enums import ScenarioStatus
from workbench.db.models import ScenarioSuite, ScenarioSuiteItem
from workbench.errors import Duplicate, NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
from workbench.services.suites.service import SuiteItem

TRICKY = 'It\'s "quoted"; DROP TABLE suite; -- 🙂 \u200fمرحبا\u200e e\u0301'
MISSING = "00000000-0000-0000-0000-000000000000"


def scenario(wb: Workbench, name: str, exchanges: int = 1) -> str:
    """A scenario of `exchanges` USER + EXPECT pairs, each EXPECT with two expectations."""
    turns = []
    for index in range(exchanges):
        turns += [user(f"message {index}"), expect(must_contain("a"), must_contain("b"))]
    return wb.scenarios.create(ScenarioCreate(name=name, turns=turns)).id


def scenarios(wb: Workbench, count: int) -> list[str]:
    return [scenario(wb, f"scenario {index}") for index in range(count)]


def stored_order(database: Database, suite_id: str) -> list[tuple[str, int]]:
    """(scenario id, orderIndex) as stored, by orderIndex."""
    with database.transaction() as session:
        rows = session.execute(
            select(ScenarioSuiteItem.scenario_id, ScenarioSuiteItem.order_index)
            .where(ScenarioSuiteItem.suite_id == suite_id)
            .order_by(ScenarioSuiteItem.order_index)
        )
        return [(scenario_id, index) for scenario_id, index in rows]


def suite_count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ScenarioSuite)) or 0


def set_updated_at(database: Database, suite_id: str, when: datetime) -> None:
    with database.transaction() as session:
        session.execute(
            update(ScenarioSuite).where(ScenarioSuite.id == suite_id).values(updated_at=when)
        )


# --- create, get, update, delete ---------------------------------------------------------------


def test_create_returns_an_empty_suite(wb: Workbench) -> None:
    suite = wb.suites.create(name=" smoke ", description="fast checks", tags=["ci", " ci", "x"])
    assert (suite.name, suite.description, suite.tags) == ("smoke", "fast checks", ("ci", "x"))
    assert suite.scenario_ids == ()
    assert suite.created_at == suite.updated_at
    assert suite.created_at.tzinfo is UTC
    assert wb.suites.get(suite.id) == suite


def test_create_with_scenarios_keeps_their_order(wb: Workbench) -> None:
    a, b, c = scenarios(wb, 3)
    suite = wb.suites.create(name="s", scenario_ids=[c, a, b])
    assert suite.scenario_ids == (c, a, b)
    assert stored_order(wb.database, suite.id) == [(c, 0), (a, 1), (b, 2)]


def test_text_round_trips_exactly(wb: Workbench) -> None:
    suite = wb.suites.create(name=TRICKY, description=TRICKY + "\n  ", tags=[TRICKY])
    stored = wb.suites.get(suite.id)
    assert (stored.name, stored.description, stored.tags) == (TRICKY, TRICKY + "\n  ", (TRICKY,))


def test_duplicate_name_is_refused_naming_the_field(wb: Workbench) -> None:
    wb.suites.create(name="smoke")
    with pytest.raises(Duplicate) as caught:
        wb.suites.create(name="smoke")
    assert caught.value.field == "name"
    assert suite_count(wb.database) == 1


def test_names_are_unique_per_user_only(wb: Workbench, other_wb: Workbench) -> None:
    wb.suites.create(name="smoke")
    assert other_wb.suites.create(name="smoke").name == "smoke"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, "name: is empty"),
        ({"name": "x" * 201}, "name: is 201 characters long; the limit is 200"),
        ({"name": "a\x00b"}, "name: contains a NUL character"),
        ({"name": "ok", "description": "a\x00"}, "description: contains a NUL character"),
        ({"name": "ok", "tags": "ci"}, "tags: must be a list of text"),
        ({"name": "ok", "tags": ["a\x00"]}, "tags[0]: contains a NUL character"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(
    wb: Workbench, fields: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        wb.suites.create(**fields)
    assert expected in str(caught.value)
    assert suite_count(wb.database) == 0


def test_name_of_200_characters_is_accepted(wb: Workbench) -> None:
    assert wb.suites.create(name="n" * 200).name == "n" * 200


def test_rename_changes_the_name(wb: Workbench) -> None:
    suite = wb.suites.create(name="old")
    assert wb.suites.rename(suite.id, "new").name == "new"
    assert wb.suites.get(suite.id).name == "new"


def test_rename_to_a_taken_name_is_duplicate_and_changes_nothing(wb: Workbench) -> None:
    wb.suites.create(name="taken")
    suite = wb.suites.create(name="mine")
    with pytest.raises(Duplicate) as caught:
        wb.suites.rename(suite.id, "taken")
    assert caught.value.field == "name"
    assert wb.suites.get(suite.id).name == "mine"


def test_rename_to_an_empty_name_is_refused(wb: Workbench) -> None:
    suite = wb.suites.create(name="mine")
    with pytest.raises(ValidationError, match="name: is empty"):
        wb.suites.rename(suite.id, "  ")


def test_update_changes_description_and_tags_and_bumps_updated_at(wb: Workbench) -> None:
    suite = wb.suites.create(name="s", description="old", tags=["a"])
    earlier = suite.updated_at - timedelta(hours=1)
    set_updated_at(wb.database, suite.id, earlier)
    updated = wb.suites.update(suite.id, description=None, tags=["b", "c"])
    assert (updated.name, updated.description, updated.tags) == ("s", None, ("b", "c"))
    assert updated.updated_at > earlier
    assert updated.created_at == suite.created_at


def test_delete_removes_the_suite_but_not_its_scenarios(wb: Workbench) -> None:
    (a,) = scenarios(wb, 1)
    suite = wb.suites.create(name="s", scenario_ids=[a])
    wb.suites.delete(suite.id)
    with pytest.raises(NotFound, match="No suite with id"):
        wb.suites.get(suite.id)
    assert wb.scenarios.get(a).id == a
    assert stored_order(wb.database, suite.id) == []


# --- membership --------------------------------------------------------------------------------


def test_add_one_then_many_appends_in_order(wb: Workbench) -> None:
    a, b, c = scenarios(wb, 3)
    suite = wb.suites.create(name="s")
    assert wb.suites.add(suite.id, b).scenario_ids == (b,)
    assert wb.suites.add(suite.id, [c, a]).scenario_ids == (b, c, a)
    assert stored_order(wb.database, suite.id) == [(b, 0), (c, 1), (a, 2)]


def test_add_bumps_updated_at(wb: Workbench) -> None:
    (a,) = scenarios(wb, 1)
    suite = wb.suites.create(name="s")
    earlier = suite.updated_at - timedelta(hours=1)
    set_updated_at(wb.database, suite.id, earlier)
    assert wb.suites.add(suite.id, a).updated_at > earlier


def test_a_scenario_can_be_in_many_suites(wb: Workbench) -> None:
    (a,) = scenarios(wb, 1)
    first, second = wb.suites.create(name="one"), wb.suites.create(name="two")
    wb.suites.add(first.id, a)
    assert wb.suites.add(second.id, a).scenario_ids == (a,)
    assert wb.suites.get(first.id).scenario_ids == (a,)


def test_adding_a_scenario_already_in_the_suite_is_duplicate_and_adds_nothing(
    wb: Workbench,
) -> None:
    a, b = scenarios(wb, 2)
    suite = wb.suites.create(name="s", scenario_ids=[a])
    with pytest.raises(Duplicate) as caught:
        wb.suites.add(suite.id, [b, a])
    assert caught.value.field == "scenario"
    assert stored_order(wb.database, suite.id) == [(a, 0)]


def test_adding_the_same_scenario_twice_in_one_call_is_duplicate(wb: Workbench) -> None:
    (a,) = scenarios(wb, 1)
    suite = wb.suites.create(name="s")
    with pytest.raises(Duplicate):
        wb.suites.add(suite.id, [a, a])
    assert stored_order(wb.database, suite.id) == []


def test_adding_another_users_scenario_is_not_found_like_a_missing_one(
    wb: Workbench, other_wb: Workbench
) -> None:
    (mine,) = scenarios(wb, 1)
    theirs = scenario(other_wb, "theirs")
    suite = wb.suites.create(name="s")
    with pytest.raises(NotFound) as foreign:
        wb.suites.add(suite.id, [mine, theirs])
    with pytest.raises(NotFound) as missing:
        wb.suites.add(suite.id, [mine, MISSING])
    assert str(foreign.value) == str(missing.value).replace(MISSING, theirs)
    assert (
        str(foreign.value) == f"No scenario with id {theirs!r}; check the id (wb.scenarios.list())."
    )
    assert stored_order(wb.database, suite.id) == []


def test_creating_a_suite_with_another_users_scenario_writes_nothing(
    wb: Workbench, other_wb: Workbench
) -> None:
    theirs = scenario(other_wb, "theirs")
    with pytest.raises(NotFound):
        wb.suites.create(name="s", scenario_ids=[theirs])
    assert suite_count(wb.database) == 0


def test_several_missing_scenarios_are_all_named(wb: Workbench) -> None:
    suite = wb.suites.create(name="s")
    with pytest.raises(NotFound, match="'x', 'y'"):
        wb.suites.add(suite.id, ["x", "y"])


def test_remove_keeps_the_order_of_the_rest_dense(wb: Workbench) -> None:
    a, b, c, d = scenarios(wb, 4)
    suite = wb.suites.create(name="s", scenario_ids=[a, b, c, d])
    assert wb.suites.remove(suite.id, b).scenario_ids == (a, c, d)
    assert wb.suites.remove(suite.id, [d, a]).scenario_ids == (c,)
    assert stored_order(wb.database, suite.id) == [(c, 0)]


def test_removing_a_scenario_not_in_the_suite_is_not_found_and_removes_nothing(
    wb: Workbench,
) -> None:
    a, b = scenarios(wb, 2)
    suite = wb.suites.create(name="s", scenario_ids=[a])
    with pytest.raises(NotFound, match="nothing removed"):
        wb.suites.remove(suite.id, [a, b])
    assert stored_order(wb.database, suite.id) == [(a, 0)]


def test_reorder_puts_scenarios_in_the_order_given(wb: Workbench) -> None:
    a, b, c = scenarios(wb, 3)
    suite = wb.suites.create(name="s", scenario_ids=[a, b, c])
    assert wb.suites.reorder(suite.id, [c, a, b]).scenario_ids == (c, a, b)
    assert stored_order(wb.database, suite.id) == [(c, 0), (a, 1), (b, 2)]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (lambda a, b, c: [a, b], ["is missing from the new order"]),
        (lambda a, b, c: [a, b, c, "x"], ["'x' is not in the suite"]),
        (lambda a, b, c: [a, a, b, c], ["appears 2 times"]),
        (
            lambda a, b, c: [a, a, "x"],
            ["appears 2 times", "'x' is not in", "is missing", "is missing"],
        ),
    ],
    ids=["missing", "extra", "repeated", "several"],
)
def test_reorder_that_is_not_a_permutation_is_refused_and_changes_nothing(
    wb: Workbench, order: Any, expected: list[str]
) -> None:
    a, b, c = scenarios(wb, 3)
    suite = wb.suites.create(name="s", scenario_ids=[a, b, c])
    with pytest.raises(ValidationError) as caught:
        wb.suites.reorder(suite.id, order(a, b, c))
    assert len(caught.value.problems) == len(expected)
    for text, problem in zip(expected, caught.value.problems, strict=True):
        assert text in problem
    assert wb.suites.get(suite.id) == suite


def test_a_scenario_deleted_elsewhere_leaves_the_order_dense_after_the_next_change(
    wb: Workbench,
) -> None:
    a, b, c, d = scenarios(wb, 4)
    suite = wb.suites.create(name="s", scenario_ids=[a, b, c])
    wb.scenarios.delete(b)
    assert wb.suites.get(suite.id).scenario_ids == (a, c)
    assert [item.position for item in wb.suites.items(suite.id)] == [1, 2]
    wb.suites.add(suite.id, d)
    assert stored_order(wb.database, suite.id) == [(a, 0), (c, 1), (d, 2)]


def test_concurrent_adds_to_one_suite_keep_the_order_dense(committed_db: Database) -> None:
    wb = Workbench(committed_db, insert_user(committed_db))
    ids = scenarios(wb, 20)
    suite = wb.suites.create(name="s")
    errors: list[BaseException] = []

    def add_all(chunk: list[str]) -> None:
        try:
            for scenario_id in chunk:
                wb.suites.add(suite.id, scenario_id)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=add_all, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(index for _, index in stored_order(committed_db, suite.id)) == list(range(20))


def test_another_users_scenario_written_into_a_suite_elsewhere_is_never_shown(
    wb: Workbench, other_wb: Workbench
) -> None:
    (mine,) = scenarios(wb, 1)
    theirs = scenario(other_wb, "theirs")
    suite = wb.suites.create(name="s", scenario_ids=[mine])
    with wb.database.transaction() as session:  # as a second writer (the web app) could
        session.add(ScenarioSuiteItem(suite_id=suite.id, scenario_id=theirs, order_index=1))
    assert wb.suites.get(suite.id).scenario_ids == (mine,)
    assert [item.scenario_id for item in wb.suites.items(suite.id)] == [mine]
    assert [s.scenario_count for s in wb.suites.list()] == [1]


# --- scoping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        lambda suites, sid, sc: suites.get(sid),
        lambda suites, sid, sc: suites.update(sid, description="stolen"),
        lambda suites, sid, sc: suites.rename(sid, "stolen"),
        lambda suites, sid, sc: suites.delete(sid),
        lambda suites, sid, sc: suites.add(sid, sc["mine"]),
        lambda suites, sid, sc: suites.remove(sid, sc["theirs"]),
        lambda suites, sid, sc: suites.reorder(sid, [sc["theirs"]]),
        lambda suites, sid, sc: suites.items(sid),
        lambda suites, sid, sc: suites.frame(sid),
    ],
    ids=["get", "update", "rename", "delete", "add", "remove", "reorder", "items", "frame"],
)
def test_another_users_suite_is_not_found_like_a_missing_one(
    wb: Workbench, other_wb: Workbench, action: Any
) -> None:
    ids = {"mine": scenario(wb, "mine"), "theirs": scenario(other_wb, "theirs")}
    theirs = other_wb.suites.create(name="theirs", scenario_ids=[ids["theirs"]])
    with pytest.raises(NotFound) as foreign:
        action(wb.suites, theirs.id, ids)
    with pytest.raises(NotFound) as missing:
        action(wb.suites, MISSING, ids)
    assert str(foreign.value) == str(missing.value).replace(MISSING, theirs.id)
    assert other_wb.suites.get(theirs.id) == theirs


# --- list and items ----------------------------------------------------------------------------


def test_list_shows_your_suites_with_their_scenario_counts(
    wb: Workbench, other_wb: Workbench
) -> None:
    a, b = scenarios(wb, 2)
    full = wb.suites.create(name="full", scenario_ids=[a, b])
    empty = wb.suites.create(name="empty")
    other_wb.suites.create(name="theirs")
    page = wb.suites.list(sort="name")
    assert [(s.id, s.scenario_count) for s in page] == [(empty.id, 0), (full.id, 2)]
    assert page.total == 2
    assert page.items[1].tags == () and page.items[1].name == "full"


def test_list_filters_by_tags_and_search(wb: Workbench) -> None:
    ci = wb.suites.create(name="Nightly", tags=["ci", "slow"])
    quick = wb.suites.create(name="quick", description="runs in CI fast", tags=["ci"])
    wb.suites.create(name="other", tags=["manual"])
    assert {s.id for s in wb.suites.list(tags="ci")} == {ci.id, quick.id}
    assert [s.id for s in wb.suites.list(tags=["ci", "slow"], tag_match="all")] == [ci.id]
    assert [s.id for s in wb.suites.list(search="ci fast")] == [quick.id]
    assert [s.id for s in wb.suites.list(search="NIGHT")] == [ci.id]


def test_list_sorts_and_pages(wb: Workbench) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for index, name in enumerate(["c", "a", "b"]):
        suite = wb.suites.create(name=name)
        set_updated_at(wb.database, suite.id, base + timedelta(days=index))
    assert [s.name for s in wb.suites.list()] == ["b", "a", "c"]
    assert [s.name for s in wb.suites.list(sort="name")] == ["a", "b", "c"]
    page = wb.suites.list(sort="name", descending=True, offset=1, limit=1)
    assert [s.name for s in page] == ["b"] and page.total == 3


def test_one_statement_per_list_page(wb: Workbench) -> None:
    ids = scenarios(wb, 2)
    for index in range(3):
        wb.suites.create(name=f"s{index}", scenario_ids=ids, tags=["t"])
    with counting_statements() as statements:
        page = wb.suites.list(tags=["t"], search="s", limit=2)
    assert [s.scenario_count for s in page] == [2, 2] and page.total == 3
    assert len(statements) == 1


@pytest.mark.parametrize(
    "arguments", [{"limit": 0}, {"offset": -1}, {"sort": "size"}, {"tag_match": "x"}]
)
def test_list_refuses_invalid_arguments(wb: Workbench, arguments: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        wb.suites.list(**arguments)


def test_items_list_scenarios_in_order_with_counts(wb: Workbench) -> None:
    short, long = scenario(wb, "short", exchanges=1), scenario(wb, "long", exchanges=3)
    wb.scenarios.publish(long)
    suite = wb.suites.create(name="s", scenario_ids=[long, short])
    with counting_statements() as statements:
        items = wb.suites.items(suite.id)
    assert len(statements) == 1
    assert items == [
        SuiteItem(1, long, "long", ScenarioStatus.PUBLISHED, 2, 6, 6),
        SuiteItem(2, short, "short", ScenarioStatus.DRAFT, 1, 2, 2),
    ]


def test_items_of_an_empty_suite_are_empty(wb: Workbench) -> None:
    assert wb.suites.items(wb.suites.create(name="s").id) == []


def test_service_reached_through_the_handle_is_cached(wb: Workbench) -> None:
    assert wb.suites is wb.suites
