"""ScenarioService: create, get, update, delete, duplicate, names, exact text and scoping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from workbench.db.enums import ScenarioStatus
from workbench.db.models import Scenario, ScenarioExpectation, ScenarioTurn, ScenarioVersion
from workbench.errors import Conflict, Duplicate, NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    ScenarioView,
    expect,
    must_contain,
    must_contain_any,
    must_not_contain,
    regex,
    semantic,
    user,
)


def greeting(name: str = "Greeting", **fields: Any) -> ScenarioCreate:
    return ScenarioCreate(
        name=name,
        description="Says hello back",
        tags=("smoke",),
        turns=(
            user("Hi, I'm Ada"),
            expect(must_contain("Ada"), must_contain_any("hello", "hi"), regex(r"\bAda\b")),
            user("Thanks"),
            expect(must_not_contain("error"), semantic("The reply is friendly")),
        ),
        **fields,
    )


def row_counts(wb: Workbench) -> tuple[int, int, int, int]:
    """Scenarios, turns, expectations and versions stored for `wb`'s user."""
    with wb.database.transaction() as session:
        mine = select(Scenario.id).where(Scenario.user_id == wb.user.id)
        return (
            session.scalar(select(func.count()).where(Scenario.user_id == wb.user.id)) or 0,
            session.scalar(select(func.count()).where(ScenarioTurn.scenario_id.in_(mine))) or 0,
            session.scalar(select(func.count()).where(ScenarioExpectation.scenario_id.in_(mine)))
            or 0,
            session.scalar(select(func.count()).where(ScenarioVersion.scenario_id.in_(mine))) or 0,
        )


def test_create_returns_the_stored_scenario_at_version_1(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    assert created.version == 1
    assert created.status is ScenarioStatus.DRAFT
    assert created.to_create() == greeting()
    assert created.created_at == created.updated_at
    assert created.created_at.tzinfo is not None


def test_get_reads_back_exactly_what_create_stored(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    assert wb.scenarios.get(created.id) == created


def test_create_writes_turns_expectations_and_one_version(wb: Workbench) -> None:
    wb.scenarios.create(greeting())
    assert row_counts(wb) == (1, 4, 5, 1)


def test_turns_and_expectations_keep_their_order(wb: Workbench) -> None:
    turns = [user(f"message {i}") for i in range(12)]
    turns.insert(1, expect(*[must_contain(f"word {i}") for i in range(11)]))
    created = wb.scenarios.create(ScenarioCreate("Ordered", turns=turns))
    assert wb.scenarios.get(created.id).turns == tuple(turns)


def test_get_by_name_finds_the_scenario(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    assert wb.scenarios.get_by_name("Greeting") == created


def test_get_by_name_of_a_missing_name_is_not_found(wb: Workbench) -> None:
    with pytest.raises(NotFound, match="No scenario named 'Nope'"):
        wb.scenarios.get_by_name("Nope")


def test_a_scenario_without_turns_can_be_saved(wb: Workbench) -> None:
    created = wb.scenarios.create(ScenarioCreate("Empty"))
    assert (created.turns, created.turn_count, created.expectation_count) == ((), 0, 0)


def test_duplicate_name_on_create_is_refused_naming_the_field(wb: Workbench) -> None:
    wb.scenarios.create(greeting())
    with pytest.raises(Duplicate) as raised:
        wb.scenarios.create(greeting())
    assert raised.value.field == "name"
    assert "you already have a scenario with this name" in str(raised.value)
    assert row_counts(wb) == (1, 4, 5, 1)


def test_the_same_name_is_fine_for_two_users(wb: Workbench, other_wb: Workbench) -> None:
    wb.scenarios.create(greeting())
    assert other_wb.scenarios.create(greeting()).name == "Greeting"


def test_invalid_scenario_writes_nothing(wb: Workbench) -> None:
    with pytest.raises(ValidationError):
        wb.scenarios.create(ScenarioCreate("Bad", turns=[user("Hi"), expect(regex("("))]))
    assert row_counts(wb) == (0, 0, 0, 0)


def test_nul_character_is_refused_and_nothing_is_written(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match=r"turn 1, text: contains a NUL character"):
        wb.scenarios.create(ScenarioCreate("NUL", turns=[user("a\x00b")]))
    assert row_counts(wb) == (0, 0, 0, 0)


def test_nul_character_in_an_update_leaves_the_scenario_as_it_was(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    with pytest.raises(ValidationError, match="NUL"):
        wb.scenarios.update(
            created.id, ScenarioUpdate(description="x\x00"), expected_version=created.version
        )
    assert wb.scenarios.get(created.id) == created


TRICKY_TEXTS = {
    "quotes": 'O\'Brien said "hi" `and` left',
    "sql": '\'; DROP TABLE "Scenario"; --',
    "percent and underscore": "100% of a_b",
    "emoji": "🎉👩‍👩‍👧‍👦 done ✅",
    "right-to-left marks": "\u200fשלום עולם\u200e and مرحبا",
    "combining characters": "e\u0301 vs \u00e9, a\u030a\u0328",
    "whitespace": "  leading\ttabs\r\nand trailing  ",
    "backslashes": r"C:\path\to\file \n not a newline",
    "zero-width": "a\u200bb\ufeffc",
}


@pytest.mark.parametrize("text", TRICKY_TEXTS.values(), ids=TRICKY_TEXTS.keys())
def test_text_is_stored_exactly(wb: Workbench, text: str) -> None:
    spec = ScenarioCreate(
        name=text.strip(),
        description=text,
        tags=(text.strip(),),
        turns=(
            user(text),
            expect(must_contain(text), must_contain_any(text, "x"), semantic(text)),
        ),
    )
    created = wb.scenarios.create(spec)
    assert wb.scenarios.get(created.id).to_create() == spec


def test_update_changes_only_the_fields_given(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    updated = wb.scenarios.update(
        created.id, ScenarioUpdate(name="Hello"), expected_version=created.version
    )
    assert updated.version == 2
    assert updated.to_create() == greeting(name="Hello")
    assert updated.updated_at >= created.updated_at
    assert updated.created_at == created.created_at
    assert wb.scenarios.get(created.id) == updated


def test_update_replaces_every_turn(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    new_turns = (user("Bye"), expect(must_contain("bye")))
    updated = wb.scenarios.update(created.id, ScenarioUpdate(turns=new_turns), expected_version=1)
    assert wb.scenarios.get(created.id).turns == updated.turns == new_turns
    assert row_counts(wb)[:3] == (1, 2, 1)


def test_update_can_clear_the_description(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    updated = wb.scenarios.update(created.id, ScenarioUpdate(description=None), expected_version=1)
    assert updated.description is None


def test_update_at_a_stale_version_is_a_conflict_and_overwrites_nothing(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    saved = wb.scenarios.update(created.id, ScenarioUpdate(name="First"), expected_version=1)
    with pytest.raises(Conflict, match=r"you had version 1, it is now at 2"):
        wb.scenarios.update(created.id, ScenarioUpdate(name="Second", turns=()), expected_version=1)
    assert wb.scenarios.get(created.id) == saved
    assert row_counts(wb) == (1, 4, 5, 2)


def test_rename_to_a_taken_name_is_a_duplicate_and_changes_nothing(wb: Workbench) -> None:
    wb.scenarios.create(greeting("Taken"))
    created = wb.scenarios.create(greeting())
    with pytest.raises(Duplicate) as raised:
        wb.scenarios.update(created.id, ScenarioUpdate(name="Taken", turns=()), expected_version=1)
    assert raised.value.field == "name"
    assert wb.scenarios.get(created.id) == created


def test_delete_removes_the_scenario_and_everything_under_it(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    wb.scenarios.update(created.id, ScenarioUpdate(name="Two"), expected_version=1)
    wb.scenarios.delete(created.id)
    assert row_counts(wb) == (0, 0, 0, 0)
    with pytest.raises(NotFound):
        wb.scenarios.get(created.id)


def test_delete_at_a_stale_version_is_a_conflict(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    wb.scenarios.update(created.id, ScenarioUpdate(name="Two"), expected_version=1)
    with pytest.raises(Conflict):
        wb.scenarios.delete(created.id, expected_version=1)
    assert row_counts(wb)[0] == 1


def test_duplicate_names_the_copies_in_sequence(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    names = [wb.scenarios.duplicate(created.id).name for _ in range(3)]
    assert names == ["Greeting (copy)", "Greeting (copy 2)", "Greeting (copy 3)"]


def test_duplicate_of_a_copy_continues_the_sequence(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    first = wb.scenarios.duplicate(created.id)
    assert wb.scenarios.duplicate(first.id).name == "Greeting (copy 2)"


def test_duplicate_skips_names_taken_by_other_scenarios(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    wb.scenarios.create(ScenarioCreate("Greeting (copy)"))
    wb.scenarios.create(ScenarioCreate("Greeting (copy 2)"))
    assert wb.scenarios.duplicate(created.id).name == "Greeting (copy 3)"


def test_duplicate_with_percent_and_underscore_in_the_name(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting("100%_sure"))
    wb.scenarios.create(ScenarioCreate("100X_sure (copy)"))
    assert wb.scenarios.duplicate(created.id).name == "100%_sure (copy)"


def test_duplicate_of_a_200_character_name_stays_within_the_limit(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting("n" * 200))
    copy = wb.scenarios.duplicate(created.id)
    assert copy.name == "n" * 193 + " (copy)"


def test_duplicate_copies_content_as_a_new_draft(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting(status="PUBLISHED"))
    copy = wb.scenarios.duplicate(created.id)
    assert copy.id != created.id
    assert (copy.version, copy.status) == (1, ScenarioStatus.DRAFT)
    assert copy.to_create() == greeting("Greeting (copy)")
    assert wb.scenarios.history(copy.id)[0].note == "duplicated from 'Greeting' version 1"


def test_duplicate_with_a_taken_name_is_a_duplicate(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    wb.scenarios.create(ScenarioCreate("Other"))
    with pytest.raises(Duplicate) as raised:
        wb.scenarios.duplicate(created.id, name="Other")
    assert raised.value.field == "name"
    assert row_counts(wb)[0] == 2


def test_duplicate_with_a_free_name_uses_it(wb: Workbench) -> None:
    created = wb.scenarios.create(greeting())
    assert wb.scenarios.duplicate(created.id, name=" Fresh ").name == "Fresh"


OPERATIONS: dict[str, Callable[[Workbench, ScenarioView], object]] = {
    "get": lambda wb, s: wb.scenarios.get(s.id),
    "update": lambda wb, s: wb.scenarios.update(s.id, ScenarioUpdate(name="X"), expected_version=1),
    "delete": lambda wb, s: wb.scenarios.delete(s.id),
    "duplicate": lambda wb, s: wb.scenarios.duplicate(s.id),
    "duplicate with name": lambda wb, s: wb.scenarios.duplicate(s.id, name="Y"),
    "publish": lambda wb, s: wb.scenarios.publish(s.id),
    "archive": lambda wb, s: wb.scenarios.archive(s.id),
    "set_status": lambda wb, s: wb.scenarios.set_status(s.id, "PUBLISHED"),
    "history": lambda wb, s: wb.scenarios.history(s.id),
    "get_version": lambda wb, s: wb.scenarios.get_version(s.id, 1),
    "diff": lambda wb, s: wb.scenarios.diff(s.id, 1, 1),
    "restore": lambda wb, s: wb.scenarios.restore(s.id, 1),
    "export": lambda wb, s: wb.export_scenarios(scenario_ids=[s.id]),
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_another_users_scenario_is_not_found_and_unchanged(
    wb: Workbench, other_wb: Workbench, operation: Callable[[Workbench, ScenarioView], object]
) -> None:
    theirs = other_wb.scenarios.create(greeting())
    with pytest.raises(NotFound) as raised:
        operation(wb, theirs)
    assert str(raised.value) == (
        f"No scenario with id {theirs.id!r}; check the id (wb.scenarios.list())."
    )
    assert other_wb.scenarios.get(theirs.id) == theirs
    assert row_counts(other_wb) == (1, 4, 5, 1)
    assert row_counts(wb) == (0, 0, 0, 0)


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_a_missing_scenario_is_not_found_with_the_same_message(
    wb: Workbench, operation: Callable[[Workbench, ScenarioView], object]
) -> None:
    ghost = wb.scenarios.create(greeting())
    wb.scenarios.delete(ghost.id)
    with pytest.raises(NotFound) as raised:
        operation(wb, ghost)
    assert str(raised.value) == (
        f"No scenario with id {ghost.id!r}; check the id (wb.scenarios.list())."
    )
