"""Names a newcomer types: a scenario name given to `get`, repeated prompt names, and a key set
without a key name."""

from __future__ import annotations

import re

import pytest

from workbench.errors import NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.prompts.names import DuplicatePromptName
from workbench.services.scenarios.types import ScenarioCreate


def test_get_with_a_name_points_to_get_by_name(wb: Workbench) -> None:
    wb.scenarios.create(ScenarioCreate(name="Greeting"))
    with pytest.raises(NotFound) as caught:
        wb.scenarios.get("Greeting")
    assert "wb.scenarios.get_by_name('Greeting')" in str(caught.value)
    assert wb.scenarios.get_by_name("Greeting").name == "Greeting"


def test_get_with_an_unknown_id_says_only_that(wb: Workbench) -> None:
    missing = "0b6f2c1e-9a4d-4e1f-8c3b-2d7e5f6a9b01"
    with pytest.raises(NotFound, match=re.escape(f"No scenario with id '{missing}'; check")):
        wb.scenarios.get(missing)


def test_a_repeated_prompt_name_warns_and_get_by_name_lists_the_ids(wb: Workbench) -> None:
    first = wb.prompts.create(name="Support", content="One")
    assert wb.prompts.get_by_name("Support").id == first.id
    with pytest.warns(
        DuplicatePromptName, match=rf"already have a prompt named 'Support' \(ids {first.id}\)"
    ):
        second = wb.prompts.create(name="Support", content="Two")
    with pytest.raises(ValidationError) as caught:
        wb.prompts.get_by_name("Support")
    message = str(caught.value)
    assert "ambiguous" in message and first.id in message and second.id in message
    with pytest.raises(NotFound, match="No prompt named 'Nobody'"):
        wb.prompts.get_by_name("Nobody")


def test_a_unique_prompt_name_does_not_warn(wb: Workbench) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wb.prompts.create(name="Alone", content="Hi")


def test_a_key_without_a_key_name_gets_a_default_and_a_bad_provider_is_the_only_problem(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "workbench-test-names-secret")
    with pytest.raises(ValidationError) as caught:
        wb.api_keys.set(provider="OpenAI", api_key="sk-test-1234567890")
    assert [p.split(":")[0] for p in caught.value.problems] == ["provider"]
    assert "key_name" not in str(caught.value)
    assert "(did you mean 'openai'?)" in caught.value.problems[0]
    assert wb.api_keys.set(provider="openai", api_key="sk-test-1234567890").key_name == "OpenAI"
