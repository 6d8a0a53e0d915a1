"""Export and import: the document format, lossless round trips, every problem at once, no half
imports, name clashes, and suites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, insert, select

from workbench.db.columns import new_uuid
from workbench.db.models import Scenario, ScenarioSuite, ScenarioSuiteItem, ScenarioVersion
from workbench.errors import Duplicate, NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    expect,
    must_contain,
    must_contain_any,
    must_not_contain,
    regex,
    semantic,
    user,
)
from workbench.timeutil import utcnow

GREETING = ScenarioCreate(
    name="Greeting",
    description="Says hello",
    locale="en-GB",
    status="PUBLISHED",
    tags=("smoke",),
    turns=(
        user("Hi, I'm Ada\nNice to meet you"),
        expect(
            must_contain("Ada", case_sensitive=True),
            must_contain_any("hello", "hi"),
            must_not_contain("error"),
            regex(r"\bAda\b"),
            semantic("The reply is friendly", threshold=0.8),
        ),
    ),
)
FAREWELL = ScenarioCreate(name="Farewell", turns=(user("Bye"), expect(must_contain("bye"))))

GREETING_YAML = """\
format: workbench.scenarios/v1
scenarios:
- name: Greeting
  description: Says hello
  locale: en-GB
  status: PUBLISHED
  tags:
  - smoke
  turns:
  - user: |-
      Hi, I'm Ada
      Nice to meet you
  - expect:
    - type: MUST_CONTAIN
      value: Ada
      case_sensitive: true
    - type: MUST_CONTAIN_ANY
      values:
      - hello
      - hi
    - type: MUST_NOT_CONTAIN
      value: error
    - type: REGEX
      value: \\bAda\\b
    - type: SEMANTIC_ASSERT
      value: The reply is friendly
      threshold: 0.8
suites: []
"""


def add_suite(wb: Workbench, name: str, scenario_ids: list[str], **fields: Any) -> str:
    """A suite written as rows (the suite service is not what is under test here)."""
    suite_id, now = new_uuid(), utcnow()
    with wb.database.transaction() as session:
        session.execute(
            insert(ScenarioSuite).values(
                id=suite_id, user_id=wb.user.id, name=name, updated_at=now, **fields
            )
        )
        for index, scenario_id in enumerate(scenario_ids):
            session.execute(
                insert(ScenarioSuiteItem).values(
                    suite_id=suite_id, scenario_id=scenario_id, order_index=index
                )
            )
    return suite_id


def scenario_count(wb: Workbench) -> int:
    with wb.database.transaction() as session:
        statement = select(func.count()).where(Scenario.user_id == wb.user.id)
        return session.scalar(statement) or 0


def suite_count(wb: Workbench) -> int:
    with wb.database.transaction() as session:
        statement = select(func.count()).where(ScenarioSuite.user_id == wb.user.id)
        return session.scalar(statement) or 0


def document(*scenarios: dict[str, Any], suites: list[dict[str, Any]] | None = None) -> Any:
    return {"format": "workbench.scenarios/v1", "scenarios": list(scenarios), "suites": suites}


def problems_of(wb: Workbench, source: Any) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        wb.import_scenarios(source)
    return raised.value.problems


# ---------------------------------------------------------------- export


def test_export_writes_the_documented_yaml(wb: Workbench) -> None:
    wb.scenarios.create(GREETING)
    assert wb.export_scenarios() == GREETING_YAML


def test_export_as_json_is_the_same_document(wb: Workbench) -> None:
    wb.scenarios.create(GREETING)
    exported = json.loads(wb.export_scenarios(format="json"))
    assert exported == yaml.safe_load(GREETING_YAML)


def test_export_to_a_path_takes_the_format_from_the_suffix(wb: Workbench, tmp_path: Path) -> None:
    wb.scenarios.create(GREETING)
    text = wb.export_scenarios(path=tmp_path / "out.json")
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == text
    assert json.loads(text)["scenarios"][0]["name"] == "Greeting"


def test_export_lists_scenarios_and_suites_by_name(wb: Workbench) -> None:
    farewell = wb.scenarios.create(FAREWELL)
    greeting = wb.scenarios.create(GREETING)
    add_suite(wb, "Smoke", [greeting.id, farewell.id], description="d", tags=["x"])
    exported = yaml.safe_load(wb.export_scenarios())
    assert [s["name"] for s in exported["scenarios"]] == ["Farewell", "Greeting"]
    assert exported["suites"] == [
        {"name": "Smoke", "description": "d", "tags": ["x"], "scenarios": ["Greeting", "Farewell"]}
    ]


def test_export_of_chosen_scenarios_leaves_suites_out(wb: Workbench) -> None:
    greeting = wb.scenarios.create(GREETING)
    wb.scenarios.create(FAREWELL)
    add_suite(wb, "Smoke", [greeting.id])
    exported = yaml.safe_load(wb.export_scenarios(scenario_ids=[greeting.id]))
    assert [s["name"] for s in exported["scenarios"]] == ["Greeting"]
    assert exported["suites"] == []


def test_export_of_a_suite_brings_its_scenarios(wb: Workbench) -> None:
    greeting = wb.scenarios.create(GREETING)
    wb.scenarios.create(FAREWELL)
    suite_id = add_suite(wb, "Smoke", [greeting.id])
    add_suite(wb, "Other", [])
    exported = yaml.safe_load(wb.export_scenarios(suite_ids=[suite_id]))
    assert [s["name"] for s in exported["scenarios"]] == ["Greeting"]
    assert [s["name"] for s in exported["suites"]] == ["Smoke"]


def test_export_of_another_users_suite_is_not_found(wb: Workbench, other_wb: Workbench) -> None:
    theirs = add_suite(other_wb, "Theirs", [])
    with pytest.raises(NotFound, match="No suite with id"):
        wb.export_scenarios(suite_ids=[theirs])


def test_export_with_an_unknown_format_is_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="format: must be 'yaml' or 'json'"):
        wb.export_scenarios(format="xml")


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_into_another_account_is_lossless(
    wb: Workbench, other_wb: Workbench, fmt: str
) -> None:
    greeting = wb.scenarios.create(GREETING)
    farewell = wb.scenarios.create(FAREWELL)
    add_suite(wb, "Smoke", [farewell.id, greeting.id], description=None, tags=["a", "b"])
    add_suite(wb, "Empty", [])
    exported = wb.export_scenarios(format=fmt)
    result = other_wb.import_scenarios(exported)
    assert set(result.scenario_ids) == {"Greeting", "Farewell"}
    assert set(result.suite_ids) == {"Smoke", "Empty"}
    assert other_wb.export_scenarios(format=fmt) == exported
    assert other_wb.scenarios.get(result.scenario_ids["Greeting"]).to_create() == GREETING


def test_imported_scenarios_start_at_version_1_with_a_snapshot(wb: Workbench) -> None:
    result = wb.import_scenarios(GREETING_YAML)
    scenario_id = result.scenario_ids["Greeting"]
    assert wb.scenarios.get(scenario_id).version == 1
    (version,) = wb.scenarios.history(scenario_id)
    assert (version.version, version.note, version.turns) == (1, "imported", GREETING.turns)


def test_import_from_a_file_path(wb: Workbench, tmp_path: Path) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(GREETING_YAML, encoding="utf-8")
    assert list(wb.import_scenarios(str(path)).scenario_ids) == ["Greeting"]


def test_import_of_a_missing_file_says_so(wb: Workbench, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="No file at"):
        wb.import_scenarios(tmp_path / "nope.json")


def test_import_from_a_parsed_dict(wb: Workbench) -> None:
    result = wb.import_scenarios(yaml.safe_load(GREETING_YAML))
    assert list(result.scenario_ids) == ["Greeting"]


def test_import_fills_in_defaults(wb: Workbench) -> None:
    result = wb.import_scenarios(document({"name": "Bare"}))
    bare = wb.scenarios.get(result.scenario_ids["Bare"])
    assert bare.to_create() == ScenarioCreate("Bare")


# ---------------------------------------------------------------- problems


def test_every_invalid_entry_is_reported_with_its_position(wb: Workbench) -> None:
    source = document(
        {"name": "Fine", "turns": [{"user": "Hi"}]},
        {
            "name": "",
            "locale": "english",
            "turns": [
                {"expect": [{"type": "MUST_CONTAIN"}]},
                {"user": ""},
                {"assistant": "hi"},
                {"expect": [{"type": "REGEX", "value": "("}, {"type": "NOPE", "value": "x"}]},
                {"expect": []},
                {"expect": [{"type": "SEMANTIC_ASSERT", "value": "ok", "threshold": 3}]},
            ],
        },
        {"name": "Fine", "colour": "red"},
        "not a mapping",
        suites=[{"name": "S", "scenarios": ["Fine", "Ghost", "Fine"]}],
    )
    assert problems_of(wb, source) == [
        "scenarios[1].turns[2]: must be {user: <text>} or {expect: [<expectations>]}, "
        "not {'assistant': 'hi'}",
        "scenarios[1].name: is empty; give it a name",
        "scenarios[1].locale: 'english' is not a locale tag like 'en', 'pt-BR' or 'zh-Hant-TW'",
        "scenarios[1].turns[0]: an EXPECT turn must come after a USER turn "
        "(there is no reply to check yet)",
        "scenarios[1].turns[0].expectations[0].value: MUST_CONTAIN needs a value",
        "scenarios[1].turns[1].text: a USER turn needs text",
        "scenarios[1].turns[3].expectations[0].value: REGEX does not compile: missing ), "
        "unterminated subpattern at position 0",
        "scenarios[1].turns[3].expectations[1].type: unknown expectation type 'NOPE'; use one of "
        "MUST_CONTAIN, MUST_CONTAIN_ANY, MUST_NOT_CONTAIN, REGEX, SEMANTIC_ASSERT",
        "scenarios[1].turns[4].expectations: an EXPECT turn needs at least one expectation",
        "scenarios[1].turns[5].expectations[0].threshold: must be between 0 and 1, got 3",
        "scenarios[2].colour: unknown key; known keys are name, description, locale, status, "
        "tags, turns, tools",
        "scenarios[3]: must be a mapping, not a str",
        "suites[0].scenarios[2]: 'Fine' is listed twice",
    ]
    assert scenario_count(wb) == 0


def test_one_bad_entry_among_many_imports_nothing(wb: Workbench) -> None:
    entries = [{"name": f"s{i}", "turns": [{"user": "Hi"}]} for i in range(50)]
    entries[37]["turns"].append({"expect": [{"type": "MUST_CONTAIN_ANY", "values": []}]})
    assert problems_of(wb, document(*entries)) == [
        "scenarios[37].turns[1].expectations[0].values: MUST_CONTAIN_ANY needs at least one value"
    ]
    assert scenario_count(wb) == 0


def test_duplicate_names_in_the_document_are_reported(wb: Workbench) -> None:
    problems = problems_of(wb, document({"name": "A"}, {"name": " A "}))
    assert problems == [
        "scenarios[1].name: 'A' is also the name of scenarios[0]; names must be unique"
    ]


def test_suite_members_must_exist(wb: Workbench) -> None:
    source = document({"name": "A"}, suites=[{"name": "S", "scenarios": ["A", "Ghost"]}])
    assert problems_of(wb, source) == [
        "suites[0].scenarios[1]: no scenario named 'Ghost' in the document or in your account"
    ]
    assert (scenario_count(wb), suite_count(wb)) == (0, 0)


def test_suite_members_may_be_scenarios_already_in_the_account(wb: Workbench) -> None:
    existing = wb.scenarios.create(FAREWELL)
    result = wb.import_scenarios(
        document({"name": "A"}, suites=[{"name": "S", "scenarios": ["A", "Farewell"]}])
    )
    exported = yaml.safe_load(wb.export_scenarios(suite_ids=[result.suite_ids["S"]]))
    assert exported["suites"][0]["scenarios"] == ["A", "Farewell"]
    assert wb.scenarios.get(existing.id) == existing


def test_wrong_format_marker_is_refused(wb: Workbench) -> None:
    source = {"format": "workbench.scenarios/v9", "scenarios": []}
    assert problems_of(wb, source) == [
        "format: must be 'workbench.scenarios/v1', got 'workbench.scenarios/v9'"
    ]


def test_invalid_yaml_is_refused_clearly(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="not valid YAML"):
        wb.import_scenarios("format: [unclosed\nscenarios: x\n")


def test_invalid_json_is_refused_with_line_and_column(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match=r"not valid JSON: .* at line 2, column 1"):
        wb.import_scenarios('{"format": "workbench.scenarios/v1",\n}')


def test_nul_characters_are_refused_and_nothing_is_written(wb: Workbench) -> None:
    source = document({"name": "A", "turns": [{"user": "a\x00b"}]})
    assert problems_of(wb, source) == [
        "scenarios[0].turns[0].text: contains a NUL character (\\x00), which PostgreSQL cannot "
        "store; remove it"
    ]
    assert scenario_count(wb) == 0


def test_unknown_on_conflict_is_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="on_conflict"):
        wb.import_scenarios(GREETING_YAML, on_conflict="overwrite")  # type: ignore[arg-type]


# ---------------------------------------------------------------- name clashes


def test_a_name_you_already_have_is_a_duplicate_listing_every_clash(wb: Workbench) -> None:
    wb.scenarios.create(GREETING)
    wb.scenarios.create(FAREWELL)
    add_suite(wb, "Smoke", [])
    source = document(
        {"name": "New"},
        {"name": "Greeting"},
        {"name": "Farewell"},
        suites=[{"name": "Smoke", "scenarios": []}],
    )
    with pytest.raises(Duplicate) as raised:
        wb.import_scenarios(source)
    assert raised.value.field == "name"
    assert "scenarios[1] 'Greeting', scenarios[2] 'Farewell', suites[0] 'Smoke'" in str(
        raised.value
    )
    assert (scenario_count(wb), suite_count(wb)) == (2, 1)


def test_on_conflict_skip_keeps_yours_and_suites_use_it(wb: Workbench) -> None:
    mine = wb.scenarios.create(FAREWELL)
    source = document(
        {"name": "Farewell", "description": "theirs"},
        {"name": "New"},
        suites=[{"name": "S", "scenarios": ["New", "Farewell"]}],
    )
    result = wb.import_scenarios(source, on_conflict="skip")
    assert result.skipped_scenarios == ("Farewell",)
    assert list(result.scenario_ids) == ["New"]
    assert wb.scenarios.get(mine.id) == mine
    exported = yaml.safe_load(wb.export_scenarios(suite_ids=[result.suite_ids["S"]]))
    assert exported["suites"][0]["scenarios"] == ["New", "Farewell"]


def test_on_conflict_rename_stores_under_a_free_name(wb: Workbench) -> None:
    mine = wb.scenarios.create(FAREWELL)
    wb.scenarios.create(ScenarioCreate("Farewell (imported)"))
    add_suite(wb, "S", [])
    source = document(
        {"name": "Farewell", "description": "theirs"},
        suites=[{"name": "S", "scenarios": ["Farewell"]}],
    )
    result = wb.import_scenarios(source, on_conflict="rename")
    assert result.renamed_scenarios == {"Farewell": "Farewell (imported 2)"}
    assert result.renamed_suites == {"S": "S (imported)"}
    imported = wb.scenarios.get(result.scenario_ids["Farewell (imported 2)"])
    assert imported.description == "theirs"
    assert wb.scenarios.get(mine.id) == mine
    exported = yaml.safe_load(wb.export_scenarios(suite_ids=[result.suite_ids["S (imported)"]]))
    assert exported["suites"][0]["scenarios"] == ["Farewell (imported 2)"]


def test_other_users_names_do_not_clash(wb: Workbench, other_wb: Workbench) -> None:
    other_wb.scenarios.create(GREETING)
    assert list(wb.import_scenarios(GREETING_YAML).scenario_ids) == ["Greeting"]


def test_import_writes_one_version_per_scenario(wb: Workbench) -> None:
    entries = [{"name": f"s{i}", "turns": [{"user": "Hi"}]} for i in range(25)]
    result = wb.import_scenarios(document(*entries))
    with wb.database.transaction() as session:
        versions = session.scalar(
            select(func.count()).where(
                ScenarioVersion.scenario_id.in_(list(result.scenario_ids.values()))
            )
        )
    assert versions == 25
