"""Whole-workspace export and import: lossless, all or nothing, every bad entry by its path, and
API keys never exported."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from workbench.db.models import Prompt, Scenario, ScenarioSuite, Variable
from workbench.errors import Duplicate, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
from workbench.services.workspace.document import FORMAT

API_KEY = "sk-never-exported-1234567890"


@pytest.fixture(autouse=True)
def master_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "workbench-test-workspace-secret")


def fill(wb: Workbench) -> None:
    greeting = wb.scenarios.create(
        ScenarioCreate(
            name="Greeting",
            tags=("smoke",),
            turns=(user("Hi\nthere"), expect(must_contain("hello", case_sensitive=True))),
        )
    )
    wb.suites.create(name="Smoke", scenario_ids=[greeting.id], tags=["ci"])
    wb.prompts.create(name="Support", content="You help {{ company }}.", tags=["support"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a repeated prompt name is allowed, and must survive
        wb.prompts.create(name="Support", content="Second {{ tone }}", status="PUBLISHED")
    wb.variables.set_many({"company": "Acme ü", "tone": "warm"})
    wb.api_keys.set(provider="openai", api_key=API_KEY)


def counts(wb: Workbench) -> dict[str, int]:
    with wb.database.transaction() as session:
        return {
            model.__name__: session.scalar(
                select(func.count()).select_from(model).where(model.user_id == wb.user.id)
            )
            or 0
            for model in (Scenario, ScenarioSuite, Prompt, Variable)
        }


def test_round_trip_is_lossless_and_never_holds_api_keys(
    wb: Workbench, other_wb: Workbench, tmp_path: Path
) -> None:
    fill(wb)
    path = tmp_path / "workspace.yaml"
    exported = wb.export_workspace(path=path)
    assert API_KEY not in exported and "openai" not in exported
    document = yaml.safe_load(exported)
    assert document["format"] == FORMAT
    assert [p["name"] for p in document["prompts"]] == ["Support", "Support"]
    assert document["variables"][0] == {"key": "company", "value": "Acme ü", "description": None}

    result = other_wb.import_workspace(path)
    assert [name for name, _ in result.prompts] == ["Support", "Support"]
    assert result.variables == ("company", "tone")
    assert set(result.scenarios.scenario_ids) == {"Greeting"}
    assert other_wb.export_workspace() == exported
    assert other_wb.export_workspace(format="json") == wb.export_workspace(format="json")
    assert other_wb.api_keys.list() == []


def test_every_bad_entry_is_reported_with_its_path_and_nothing_is_written(
    wb: Workbench,
) -> None:
    document = {
        "format": FORMAT,
        "scenarios": [{"name": "Fine"}, {"name": ""}],
        "suites": [{"name": "S", "scenarios": ["Nowhere"]}],
        "prompts": [
            {"name": "ok", "content": "Hi"},
            {"name": "bad", "content": "{{ unclosed"},
            {"content": "no name", "colour": "red"},
            "not a mapping",
        ],
        "variables": [
            {"key": "a", "value": "1"},
            {"key": "not a key", "value": "x"},
            {"key": "a", "value": "2"},
            {"key": "b"},
        ],
        "api_keys": [],
    }
    with pytest.raises(ValidationError) as caught:
        wb.import_workspace(document)
    problems = caught.value.problems
    for path in (
        "scenarios[1].name",
        "suites[0].scenarios[0]",
        "prompts[1].",
        "prompts[2].name",
        "prompts[2].colour: unknown key",
        "prompts[3]: must be a mapping",
        "variables[1].key",
        "variables[2].key: 'a' is already variables[0]",
        "variables[3].value: is required",
        "api_keys: unknown key",
    ):
        assert any(problem.startswith(path) for problem in problems), (path, problems)
    assert counts(wb) == {"Scenario": 0, "ScenarioSuite": 0, "Prompt": 0, "Variable": 0}


def test_a_wrong_format_and_a_non_mapping_are_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match=r"format: must be 'workbench\.workspace/v1'"):
        wb.import_workspace({"format": "workbench.scenarios/v1"})
    with pytest.raises(ValidationError, match="document: must be a mapping"):
        wb.import_workspace(json.dumps([1, 2]))


def test_clashes_are_listed_together_and_nothing_is_written(wb: Workbench) -> None:
    fill(wb)
    exported = wb.export_workspace(format="json")
    before = counts(wb)
    with pytest.raises(Duplicate) as caught:
        wb.import_workspace(exported)
    message = str(caught.value)
    for clash in ("scenarios[0] 'Greeting'", "suites[0] 'Smoke'", "prompts[1] 'Support'"):
        assert clash in message
    assert "variables[0] 'company'" in message and "variables[1] 'tone'" in message
    assert counts(wb) == before


def test_skip_keeps_yours_and_rename_renames_all_but_variables(wb: Workbench) -> None:
    fill(wb)
    exported = wb.export_workspace(format="json")
    wb.variables.update("company", value="Changed")
    skipped = wb.import_workspace(exported, on_conflict="skip")
    assert skipped.prompts == () and skipped.variables == ()
    assert skipped.skipped_prompts == ("Support", "Support")
    assert skipped.skipped_variables == ("company", "tone")
    assert wb.variables.get("company").value == "Changed"

    renamed = wb.import_workspace(exported, on_conflict="rename")
    assert [name for name, _ in renamed.prompts] == ["Support (imported)", "Support (imported 2)"]
    assert renamed.scenarios.renamed_scenarios == {"Greeting": "Greeting (imported)"}
    assert renamed.skipped_variables == ("company", "tone")
    assert counts(wb) == {"Scenario": 2, "ScenarioSuite": 2, "Prompt": 4, "Variable": 2}


def test_an_unknown_on_conflict_is_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="on_conflict: must be"):
        wb.import_workspace({"format": FORMAT}, on_conflict="merge")


def test_history_round_trips_and_the_version_is_the_last_one(
    wb: Workbench, other_wb: Workbench
) -> None:
    from workbench.services.scenarios.types import ScenarioUpdate

    made = wb.scenarios.create(ScenarioCreate(name="Versioned", turns=(user("v1"),)))
    wb.scenarios.update(made.id, ScenarioUpdate(turns=(user("v2"),)), expected_version=1)
    exported = wb.export_workspace(format="json", include_history=True)
    document = json.loads(exported)
    [entry] = document["history"]
    assert entry["scenario"] == "Versioned"
    assert [v["version"] for v in entry["versions"]] == [1, 2]
    assert entry["versions"][0]["content"]["turns"] == [{"user": "v1"}]

    other_wb.import_workspace(exported)
    mine = other_wb.scenarios.get_by_name("Versioned")
    assert mine.version == 2
    assert sorted(v.version for v in other_wb.scenarios.history(mine.id)) == [1, 2]
    assert other_wb.export_workspace(format="json", include_history=True) == exported
    assert "history" not in json.loads(wb.export_workspace(format="json"))


def test_bad_history_entries_are_reported_by_path(wb: Workbench) -> None:
    content = {"name": "S", "turns": [{"user": "hi"}]}
    document = {
        "format": FORMAT,
        "scenarios": [content],
        "history": [
            {"scenario": "Nobody", "versions": []},
            {
                "scenario": "S",
                "versions": [
                    {"version": 2, "created_at": "yesterday", "content": content},
                    {"version": 2, "created_at": "2026-01-01T00:00:00+00:00", "content": {}},
                ],
            },
        ],
    }
    with pytest.raises(ValidationError) as caught:
        wb.import_workspace(document)
    problems = caught.value.problems
    for path in (
        "history[0].scenario: 'Nobody' is not a scenario",
        "history[1].versions[0].version: must be 1",
        "history[1].versions[0].created_at",
        "history[1].versions[1].content.name",
    ):
        assert any(problem.startswith(path) for problem in problems), (path, problems)
    assert counts(wb)["Scenario"] == 0
