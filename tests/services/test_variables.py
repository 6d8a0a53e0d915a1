"""VariableService: create, read, update, delete, list, and set_many (dict or DataFrame)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from tests.conftest import insert_user
from tests.statement_count import counting_statements
from workbench.db.engine import Database
from workbench.db.models import Variable
from workbench.errors import Duplicate, NotFound, ValidationError
from workbench.handle import Workbench

TRICKY = 'It\'s "quoted"; DROP TABLE variable; -- 🙂 \u200fمرحبا\u200e e\u0301\n\t '


def stored(database: Database, user_id: str) -> dict[str, tuple[str, str | None]]:
    with database.transaction() as session:
        rows = session.execute(
            select(Variable.key, Variable.value, Variable.description).where(
                Variable.user_id == user_id
            )
        )
        return {key: (value, description) for key, value, description in rows}


def variable_count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Variable)) or 0


# --- create, get, update, delete ---------------------------------------------------------------


def test_create_returns_the_variable(wb: Workbench) -> None:
    variable = wb.variables.create(key="company", value="Acme", description="who we are")
    assert (variable.key, variable.value, variable.description) == ("company", "Acme", "who we are")
    assert variable.created_at == variable.updated_at
    assert wb.variables.get("company") == variable


def test_value_round_trips_exactly(wb: Workbench) -> None:
    wb.variables.create(key="tricky", value=TRICKY, description=TRICKY)
    variable = wb.variables.get("tricky")
    assert (variable.value, variable.description) == (TRICKY, TRICKY)


def test_empty_value_is_allowed(wb: Workbench) -> None:
    assert wb.variables.create(key="blank", value="").value == ""


def test_duplicate_key_is_refused_naming_the_key(wb: Workbench) -> None:
    wb.variables.create(key="company", value="Acme")
    with pytest.raises(Duplicate) as caught:
        wb.variables.create(key="company", value="Other")
    assert caught.value.field == "key"
    assert wb.variables.get("company").value == "Acme"


def test_keys_are_unique_per_user_only(wb: Workbench, other_wb: Workbench) -> None:
    wb.variables.create(key="company", value="Acme")
    assert other_wb.variables.create(key="company", value="Other").value == "Other"


@pytest.mark.parametrize("key", ["1abc", "a-b", "a b", "", "é", "k" * 201, "a\x00"])
def test_key_that_is_not_identifier_shaped_is_refused(wb: Workbench, key: str) -> None:
    with pytest.raises(ValidationError, match="key"):
        wb.variables.create(key=key, value="v")
    assert variable_count(wb.database) == 0


def test_nul_in_value_is_refused_up_front(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match=r"value: contains a NUL character \(\\x00\) at"):
        wb.variables.create(key="k", value="a\x00b")
    assert variable_count(wb.database) == 0


def test_update_changes_value_and_keeps_description(wb: Workbench) -> None:
    created = wb.variables.create(key="k", value="old", description="d")
    with wb.database.transaction() as session:
        earlier = created.updated_at - timedelta(hours=1)
        session.execute(
            update(Variable).where(Variable.id == created.id).values(updated_at=earlier)
        )
    updated = wb.variables.update("k", value="new")
    assert (updated.value, updated.description) == ("new", "d")
    assert updated.updated_at > earlier
    assert updated.created_at == created.created_at


def test_update_description_none_clears_it(wb: Workbench) -> None:
    wb.variables.create(key="k", value="v", description="d")
    assert wb.variables.update("k", description=None).description is None


def test_update_with_invalid_value_changes_nothing(wb: Workbench) -> None:
    created = wb.variables.create(key="k", value="v")
    with pytest.raises(ValidationError):
        wb.variables.update("k", value=None)  # type: ignore[arg-type]
    assert wb.variables.get("k") == created


def test_delete_removes_the_variable(wb: Workbench) -> None:
    wb.variables.create(key="k", value="v")
    wb.variables.delete("k")
    with pytest.raises(NotFound, match="No variable with key 'k'"):
        wb.variables.get("k")


@pytest.mark.parametrize(
    "action",
    [
        lambda variables: variables.get("secret"),
        lambda variables: variables.update("secret", value="stolen"),
        lambda variables: variables.delete("secret"),
    ],
    ids=["get", "update", "delete"],
)
def test_another_users_variable_is_not_found_like_a_missing_one(
    wb: Workbench, other_wb: Workbench, action: Any
) -> None:
    other_wb.variables.create(key="secret", value="theirs")
    with pytest.raises(NotFound) as caught:
        action(wb.variables)
    assert str(caught.value) == "No variable with key 'secret'."
    assert other_wb.variables.get("secret").value == "theirs"


# --- list --------------------------------------------------------------------------------------


def test_list_is_yours_by_key(wb: Workbench, other_wb: Workbench) -> None:
    wb.variables.set_many({"b": "2", "a": "1"})
    other_wb.variables.create(key="c", value="3")
    assert [variable.key for variable in wb.variables.list()] == ["a", "b"]
    assert wb.variables.as_dict() == {"a": "1", "b": "2"}


def test_list_searches_key_and_description_and_pages(wb: Workbench) -> None:
    wb.variables.set_many({"tone": "x", "company": "y", "city": "z"})
    wb.variables.update("city", description="Where the COMPANY is")
    assert [v.key for v in wb.variables.list(search="company")] == ["city", "company"]
    assert [v.key for v in wb.variables.list(offset=1, limit=1)] == ["company"]


def test_list_is_one_statement(wb: Workbench) -> None:
    wb.variables.set_many({"a": "1", "b": "2"})
    with counting_statements() as statements:
        wb.variables.list()
    assert len(statements) == 1


# --- set_many ----------------------------------------------------------------------------------


def test_set_many_from_a_dict_inserts_and_updates(wb: Workbench) -> None:
    wb.variables.create(key="a", value="old", description="kept")
    result = wb.variables.set_many({"b": "2", "a": "1"})
    assert [(v.key, v.value, v.description) for v in result] == [
        ("b", "2", None),
        ("a", "1", "kept"),
    ]
    assert stored(wb.database, wb.user.id) == {"a": ("1", "kept"), "b": ("2", None)}


def test_set_many_is_one_statement_for_any_number_of_rows(wb: Workbench) -> None:
    data = {f"key_{index}": f"value {index}" for index in range(500)}
    with counting_statements() as statements:
        wb.variables.set_many(data)
    assert len(statements) == 1
    assert "ON CONFLICT" in statements[0]
    assert len(stored(wb.database, wb.user.id)) == 500


def test_set_many_updates_the_timestamp_of_existing_rows(wb: Workbench) -> None:
    created = wb.variables.create(key="a", value="old")
    with wb.database.transaction() as session:
        earlier = created.updated_at - timedelta(hours=1)
        session.execute(
            update(Variable).where(Variable.id == created.id).values(updated_at=earlier)
        )
    (updated,) = wb.variables.set_many({"a": "new"})
    assert updated.id == created.id
    assert updated.created_at == created.created_at
    assert updated.updated_at > earlier


def test_set_many_from_a_dataframe_writes_descriptions(wb: Workbench) -> None:
    wb.variables.create(key="a", value="old", description="old description")
    frame = pd.DataFrame({"key": ["a", "b"], "value": ["1", TRICKY], "description": [None, "new"]})
    wb.variables.set_many(frame)
    assert stored(wb.database, wb.user.id) == {"a": ("1", None), "b": (TRICKY, "new")}


def test_set_many_from_a_dataframe_without_descriptions_keeps_them(wb: Workbench) -> None:
    wb.variables.create(key="a", value="old", description="kept")
    wb.variables.set_many(pd.DataFrame({"key": ["a"], "value": ["new"]}))
    assert stored(wb.database, wb.user.id) == {"a": ("new", "kept")}


def test_set_many_accepts_the_variables_frame_back(wb: Workbench) -> None:
    wb.variables.set_many({"a": "1", "b": "2"})
    frame = wb.variables.frame()
    frame.loc[frame["key"] == "b", "value"] = "changed"
    wb.variables.set_many(frame)
    assert wb.variables.as_dict() == {"a": "1", "b": "changed"}


def test_set_many_with_nothing_writes_nothing(wb: Workbench) -> None:
    assert wb.variables.set_many({}) == []
    assert wb.variables.set_many(pd.DataFrame({"key": [], "value": []})) == []


def test_set_many_never_touches_another_users_variables(wb: Workbench, other_wb: Workbench) -> None:
    other_wb.variables.create(key="a", value="theirs")
    wb.variables.set_many({"a": "mine"})
    assert other_wb.variables.get("a").value == "theirs"
    assert wb.variables.get("a").value == "mine"


def test_set_many_reports_every_invalid_entry_of_a_dict(wb: Workbench) -> None:
    with pytest.raises(ValidationError) as caught:
        wb.variables.set_many({"ok": "1", "1bad": "2", "also-bad": "3", "n": 4})  # type: ignore[dict-item]
    problems = caught.value.problems
    assert len(problems) == 3
    assert "'1bad'" in problems[0] and "'also-bad'" in problems[1]
    assert "value of 'n': must be text" in problems[2]
    assert variable_count(wb.database) == 0


def test_set_many_reports_every_invalid_row_of_a_frame(wb: Workbench) -> None:
    frame = pd.DataFrame(
        {
            "key": ["ok", "1bad", None, "dup", "dup", "nul"],
            "value": ["1", "2", "3", "4", "5", "a\x00"],
        }
    )
    with pytest.raises(ValidationError) as caught:
        wb.variables.set_many(frame)
    problems = caught.value.problems
    assert problems[0].startswith("row 1: key: '1bad' is not a valid key")
    assert problems[1] == "row 2: key is missing"
    assert problems[2] == "row 4: key 'dup' is already set at row 3"
    assert problems[3].startswith("row 5: value: contains a NUL character")
    assert len(problems) == 4
    assert variable_count(wb.database) == 0


def test_set_many_refuses_a_frame_with_missing_or_unknown_columns(wb: Workbench) -> None:
    with pytest.raises(ValidationError) as caught:
        wb.variables.set_many(pd.DataFrame({"key": ["a"], "valeu": ["1"]}))
    assert caught.value.problems == [
        "the frame has no 'value' column",
        "unknown column(s) 'valeu'; expected key, value, description",
    ]


def test_set_many_refuses_a_missing_value_and_non_text_values(wb: Workbench) -> None:
    frame = pd.DataFrame({"key": ["a", "b"], "value": [None, 3]}, dtype=object)
    with pytest.raises(ValidationError) as caught:
        wb.variables.set_many(frame)
    assert caught.value.problems == [
        "row 0: value is missing",
        "row 1: value: must be text (a str), not int",
    ]


def test_set_many_refuses_other_inputs(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="takes a dict"):
        wb.variables.set_many([("a", "1")])  # type: ignore[arg-type]


def test_set_many_writes_nothing_when_the_database_refuses_a_row(
    committed_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing with real commits: when PostgreSQL itself refuses the batch (here a key
    given twice, slipped past the up-front checks on purpose), no row of it is written."""
    import workbench.services.variables as module
    from workbench.services._variable_input import VariableInput

    wb = Workbench(committed_db, insert_user(committed_db))
    wb.variables.create(key="kept", value="before")
    rows = [
        VariableInput("new_one", "fine", None),
        VariableInput("kept", "after", None),
        VariableInput("kept", "again", None),
    ]
    monkeypatch.setattr(module, "variable_inputs", lambda data: (rows, False))
    with pytest.raises(DBAPIError, match="cannot affect row a second time"):
        wb.variables.set_many({"ignored": "by the patched reader"})
    assert stored(committed_db, wb.user.id) == {"kept": ("before", None)}


def test_set_many_validation_failure_commits_nothing(committed_db: Database) -> None:
    wb = Workbench(committed_db, insert_user(committed_db))
    wb.variables.create(key="kept", value="before")
    with pytest.raises(ValidationError):
        wb.variables.set_many({"new_one": "fine", "kept": "after", "bad": "x\x00"})
    assert stored(committed_db, wb.user.id) == {"kept": ("before", None)}
