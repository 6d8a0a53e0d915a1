"""DataFrame views: exact columns and dtypes, values, order, filters, and one query per frame."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import insert_user
from tests.statement_count import counting_statements
from workbench import frames
from workbench.db.engine import Database
from workbench.db.enums import ExpectationType, PromptStatus, ScenarioStatus, ScenarioTurnType
from workbench.errors import NotFound
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    expect,
    must_contain,
    must_contain_any,
    regex,
    semantic,
    user,
)

STRING = pd.StringDtype()
UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
INT = pd.Int64Dtype()
OBJECT = np.dtype("O")


def category(members: Any) -> pd.CategoricalDtype:
    return pd.CategoricalDtype([member.value for member in members])


SCENARIO_DTYPES = {
    "name": STRING,
    "description": STRING,
    "locale": STRING,
    "status": category(ScenarioStatus),
    "version": INT,
    "tags": OBJECT,
    "turn_count": INT,
    "expectation_count": INT,
    "created_at": UTC_NS,
    "updated_at": UTC_NS,
    "id": STRING,
}
SUITE_DTYPES = {
    "position": INT,
    "name": STRING,
    "status": category(ScenarioStatus),
    "version": INT,
    "turn_count": INT,
    "expectation_count": INT,
    "scenario_id": STRING,
}
TURN_DTYPES = {
    "turn": INT,
    "turn_type": category(ScenarioTurnType),
    "user_text": STRING,
    "expectation": INT,
    "expectation_type": category(ExpectationType),
    "value": STRING,
    "values": OBJECT,
    "case_sensitive": pd.BooleanDtype(),
    "threshold": pd.Float64Dtype(),
}
PROMPT_DTYPES = {
    "name": STRING,
    "description": STRING,
    "status": category(PromptStatus),
    "tags": OBJECT,
    "placeholders": OBJECT,
    "content": STRING,
    "created_at": UTC_NS,
    "updated_at": UTC_NS,
    "id": STRING,
}
VARIABLE_DTYPES = {
    "key": STRING,
    "value": STRING,
    "description": STRING,
    "created_at": UTC_NS,
    "updated_at": UTC_NS,
}


class OrderedDtypes(dict[str, Any]):
    """Column → dtype, equal only with the same columns in the same order (ids come last)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and list(self.items()) == list(other.items())

    __hash__ = None  # type: ignore[assignment]


def dtypes(frame: pd.DataFrame) -> OrderedDtypes:
    return OrderedDtypes((str(name), dtype) for name, dtype in frame.dtypes.items())


def simple_scenario(wb: Workbench, name: str, exchanges: int = 1, **fields: Any) -> str:
    turns = []
    for index in range(exchanges):
        turns += [user(f"message {index}"), expect(must_contain("x"))]
    return wb.scenarios.create(ScenarioCreate(name=name, turns=turns, **fields)).id


# --- scenarios ---------------------------------------------------------------------------------


def test_scenarios_frame_has_one_typed_row_per_scenario(wb: Workbench) -> None:
    first = simple_scenario(wb, "first", exchanges=2, tags=["smoke"], description="d")
    wb.scenarios.publish(first)
    frame = frames.scenarios_frame(wb, sort="name")
    assert dtypes(frame) == SCENARIO_DTYPES
    row = frame.iloc[0]
    summary = wb.scenarios.list().items[0]
    assert (row["id"], row["name"], row["description"], row["locale"]) == (
        first,
        "first",
        "d",
        "en",
    )
    assert (row["status"], row["version"], row["tags"]) == ("PUBLISHED", 2, ["smoke"])
    assert (row["turn_count"], row["expectation_count"]) == (4, 2)
    assert row["updated_at"] == pd.Timestamp(summary.updated_at)
    assert row["created_at"] == pd.Timestamp(summary.created_at)


def test_scenarios_frame_includes_every_scenario_not_just_a_page(wb: Workbench) -> None:
    for index in range(51):
        simple_scenario(wb, f"s{index:02d}")
    assert len(frames.scenarios_frame(wb)) == 51
    assert len(frames.scenarios_frame(wb, limit=5)) == 5


def test_scenarios_frame_passes_filters_to_the_list(wb: Workbench) -> None:
    simple_scenario(wb, "tagged", tags=["smoke"])
    simple_scenario(wb, "plain")
    frame = frames.scenarios_frame(wb.scenarios, tags=["smoke"])
    assert frame["name"].tolist() == ["tagged"]


def test_scenarios_frame_of_nothing_keeps_its_dtypes(wb: Workbench) -> None:
    frame = frames.scenarios_frame(wb)
    assert frame.empty
    assert dtypes(frame) == SCENARIO_DTYPES


def test_status_categories_include_every_status(wb: Workbench) -> None:
    simple_scenario(wb, "draft")
    frame = frames.scenarios_frame(wb)
    assert list(frame["status"].cat.categories) == ["DRAFT", "PUBLISHED", "ARCHIVED"]
    assert frame["status"].value_counts().to_dict() == {"DRAFT": 1, "PUBLISHED": 0, "ARCHIVED": 0}


def test_scenarios_frame_is_one_query(wb: Workbench) -> None:
    simple_scenario(wb, "a")
    simple_scenario(wb, "b")
    with counting_statements() as statements:
        frames.scenarios_frame(wb)
    assert len(statements) == 1


# --- one suite ---------------------------------------------------------------------------------


def test_suite_frame_lists_scenarios_in_suite_order_with_counts(wb: Workbench) -> None:
    short = simple_scenario(wb, "short")
    long = simple_scenario(wb, "long", exchanges=3)
    wb.scenarios.archive(short)
    suite = wb.suites.create(name="s", scenario_ids=[long, short])
    with counting_statements() as statements:
        frame = frames.suite_frame(wb, suite.id)
    assert len(statements) == 1
    assert dtypes(frame) == SUITE_DTYPES
    assert frame.to_dict("records") == [
        {
            "position": 1,
            "scenario_id": long,
            "name": "long",
            "status": "DRAFT",
            "version": 1,
            "turn_count": 6,
            "expectation_count": 3,
        },
        {
            "position": 2,
            "scenario_id": short,
            "name": "short",
            "status": "ARCHIVED",
            "version": 2,
            "turn_count": 2,
            "expectation_count": 1,
        },
    ]


def test_scenarios_frame_method_matches_the_function(wb: Workbench) -> None:
    simple_scenario(wb, "tagged", tags=["smoke"])
    simple_scenario(wb, "plain")
    pd.testing.assert_frame_equal(wb.scenarios.frame(), frames.scenarios_frame(wb))
    assert wb.scenarios.frame(tags=["smoke"])["name"].tolist() == ["tagged"]


def test_suite_frame_method_matches_the_function(wb: Workbench) -> None:
    suite = wb.suites.create(name="s", scenario_ids=[simple_scenario(wb, "a")])
    pd.testing.assert_frame_equal(wb.suites.frame(suite.id), frames.suite_frame(wb, suite.id))


def test_suite_frame_of_an_empty_suite_keeps_its_dtypes(wb: Workbench) -> None:
    frame = frames.suite_frame(wb.suites, wb.suites.create(name="s").id)
    assert frame.empty
    assert dtypes(frame) == SUITE_DTYPES


def test_suite_frame_of_another_users_suite_is_not_found(
    wb: Workbench, other_wb: Workbench
) -> None:
    theirs = other_wb.suites.create(name="theirs")
    with pytest.raises(NotFound):
        frames.suite_frame(wb, theirs.id)


# --- one scenario's turns ----------------------------------------------------------------------


def test_turns_frame_has_one_row_per_expectation_and_per_user_turn(wb: Workbench) -> None:
    scenario = wb.scenarios.create(
        ScenarioCreate(
            name="long form",
            turns=[
                user("Hi 🙂"),
                expect(
                    must_contain("hello", case_sensitive=True),
                    must_contain_any("a", "b"),
                    semantic("is polite", threshold=0.8),
                ),
                user("Bye"),
                expect(regex(r"bye\b")),
            ],
        )
    )
    frame = frames.scenario_turns_frame(wb, scenario.id)
    assert dtypes(frame) == TURN_DTYPES
    na = None  # typed_frame turns None into each column's missing value
    rows = [
        [1, "USER", "Hi 🙂", na, na, na, [], na, na],
        [2, "EXPECT", na, 1, "MUST_CONTAIN", "hello", [], True, na],
        [2, "EXPECT", na, 2, "MUST_CONTAIN_ANY", na, ["a", "b"], False, na],
        [2, "EXPECT", na, 3, "SEMANTIC_ASSERT", "is polite", [], False, 0.8],
        [3, "USER", "Bye", na, na, na, [], na, na],
        [4, "EXPECT", na, 1, "REGEX", r"bye\b", [], False, na],
    ]
    expected = frames.typed_frame(
        [dict(zip(TURN_DTYPES, row, strict=True)) for row in rows], frames.TURN_COLUMNS
    )
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["user_text"].isna().tolist() == [False, True, True, True, False, True]
    assert frame["expectation_type"].isna().tolist() == [True, False, False, False, True, False]
    assert frame["threshold"].tolist()[3] == 0.8
    assert frame.loc[0, "values"] == []  # lists: an empty list, never None or NaN
    assert frame.loc[2, "values"] == ["a", "b"]
    # One missing marker per column type: pd.NA in the nullable columns.
    for column in ("expectation", "value", "case_sensitive", "threshold"):
        assert frame.loc[0, column] is pd.NA, column
    assert frame.loc[1, "user_text"] is pd.NA


def test_turns_frame_of_another_users_scenario_is_not_found(
    wb: Workbench, other_wb: Workbench
) -> None:
    theirs = simple_scenario(other_wb, "theirs")
    with pytest.raises(NotFound):
        frames.scenario_turns_frame(wb, theirs)


def test_expect_turn_without_expectations_still_has_a_row() -> None:
    class Turn:
        type, text, expectations = ScenarioTurnType.EXPECT, None, ()

    frame = frames.typed_frame(frames.turn_records([Turn()]), frames.TURN_COLUMNS)
    assert frame["turn"].tolist() == [1]
    assert frame["expectation"].isna().all()


# --- prompts and variables ---------------------------------------------------------------------


def test_prompts_frame_has_one_typed_row_per_prompt(wb: Workbench) -> None:
    prompt = wb.prompts.create(name="p", content="{{b}} {{ a }} {{b}}", tags=["t"])
    frame = frames.prompts_frame(wb)
    assert dtypes(frame) == PROMPT_DTYPES
    row = frame.iloc[0]
    assert (row["id"], row["name"], row["status"]) == (prompt.id, "p", "DRAFT")
    assert pd.isna(row["description"])
    assert (row["tags"], row["placeholders"]) == (["t"], ["b", "a"])
    assert row["content"] == prompt.content
    assert row["updated_at"] == pd.Timestamp(prompt.updated_at)


def test_prompts_frame_passes_filters_and_includes_every_match(wb: Workbench) -> None:
    for index in range(3):
        wb.prompts.create(name=f"p{index}", content="x", status="PUBLISHED")
    wb.prompts.create(name="draft", content="x")
    frame = wb.prompts.frame(status="PUBLISHED", sort="name")
    assert frame["name"].tolist() == ["p0", "p1", "p2"]
    pd.testing.assert_frame_equal(
        frame, frames.prompts_frame(wb.prompts, status="PUBLISHED", sort="name")
    )


def test_prompts_frame_of_nothing_keeps_its_dtypes(wb: Workbench) -> None:
    assert dtypes(frames.prompts_frame(wb)) == PROMPT_DTYPES


def test_variables_frame_lists_variables_by_key(wb: Workbench) -> None:
    wb.variables.set_many({"b": "2", "a": "it's 🙂"})
    wb.variables.update("b", description="second")
    frame = wb.variables.frame()
    assert dtypes(frame) == VARIABLE_DTYPES
    assert frame["key"].tolist() == ["a", "b"]
    assert frame["value"].tolist() == ["it's 🙂", "2"]
    assert frame["description"].isna().tolist() == [True, False]
    pd.testing.assert_frame_equal(frame, frames.variables_frame(wb))


def test_variables_frame_of_nothing_keeps_its_dtypes(wb: Workbench) -> None:
    assert dtypes(frames.variables_frame(wb.variables)) == VARIABLE_DTYPES


def test_importing_frames_does_not_import_pandas() -> None:
    code = "import sys, workbench.frames; assert 'pandas' not in sys.modules, 'pandas loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_frames_read_a_committed_database_outside_any_test_transaction(
    committed_db: Database,
) -> None:
    """The single-statement reads run in autocommit there, not inside a test's savepoint."""
    wb = Workbench(committed_db, insert_user(committed_db))
    scenario_id = simple_scenario(wb, "a", exchanges=2)
    suite = wb.suites.create(name="s", scenario_ids=[scenario_id])
    wb.prompts.create(name="p", content="{{x}}")
    wb.variables.set_many({"x": "1"})
    assert frames.suite_frame(wb, suite.id)["turn_count"].tolist() == [4]
    assert wb.suites.get(suite.id).scenario_ids == (scenario_id,)
    assert [s.scenario_count for s in wb.suites.list()] == [1]
    assert frames.prompts_frame(wb)["placeholders"].tolist() == [["x"]]
    assert frames.variables_frame(wb)["value"].tolist() == ["1"]
    assert wb.variables.get("x").value == "1" and wb.variables.as_dict() == {"x": "1"}
    assert wb.prompts.render(wb.prompts.list().items[0].id) == "1"
