"""Stated limits, each refused past with a `ValidationError` naming it; names that cannot
impersonate another in a list."""

from __future__ import annotations

import time

import pytest

from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.limits import (
    MAX_EXPECTATIONS_PER_TURN,
    MAX_PATTERN_LENGTH,
    MAX_SCENARIO_TEXT,
    MAX_TAGS,
    MAX_TEXT_LENGTH,
    MAX_TURNS,
)
from workbench.services.scenarios.types import (
    ScenarioCreate,
    expect,
    must_contain,
    must_contain_any,
    regex,
    user,
)


def refused(wb: Workbench, spec: ScenarioCreate, limit: int) -> str:
    started = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        wb.scenarios.create(spec)
    assert time.perf_counter() - started < 2
    assert f"the limit is {limit:,}" in str(caught.value)
    assert not wb.scenarios.list()
    return str(caught.value)


def test_a_turn_over_the_text_limit_is_refused(wb: Workbench) -> None:
    text = "x" * (MAX_TEXT_LENGTH + 1)
    assert "turn 1, text" in refused(wb, ScenarioCreate("s", turns=(user(text),)), MAX_TEXT_LENGTH)


def test_more_turns_than_the_limit_are_refused(wb: Workbench) -> None:
    turns = tuple(user(f"hi {i}") for i in range(MAX_TURNS + 1))
    refused(wb, ScenarioCreate("s", turns=turns), MAX_TURNS)


def test_more_expectations_than_the_limit_are_refused(wb: Workbench) -> None:
    many = expect(*(must_contain(str(i)) for i in range(MAX_EXPECTATIONS_PER_TURN + 1)))
    refused(wb, ScenarioCreate("s", turns=(user("hi"), many)), MAX_EXPECTATIONS_PER_TURN)
    values = [str(i) for i in range(MAX_EXPECTATIONS_PER_TURN + 1)]
    spec = ScenarioCreate("s", turns=(user("hi"), expect(must_contain_any(*values))))
    refused(wb, spec, MAX_EXPECTATIONS_PER_TURN)


def test_100000_tags_are_refused_at_once(wb: Workbench) -> None:
    tags = tuple(f"t{i}" for i in range(100_000))
    message = refused(wb, ScenarioCreate("s", tags=tags), MAX_TAGS)
    assert len(message) < 500


def test_a_1_mb_regex_is_refused_before_compiling(wb: Workbench) -> None:
    pattern = "(a|b)*" * (1_000_000 // 6)
    spec = ScenarioCreate("s", turns=(user("hi"), expect(regex(pattern))))
    refused(wb, spec, MAX_PATTERN_LENGTH)


def test_all_text_together_is_limited(wb: Workbench) -> None:
    turns = tuple(user("x" * (MAX_TEXT_LENGTH // 2)) for _ in range(5))
    refused(wb, ScenarioCreate("s", turns=turns), MAX_SCENARIO_TEXT)


def test_a_scenario_just_inside_every_limit_saves(wb: Workbench) -> None:
    turns = (user("x" * 1_000), expect(regex("a" * MAX_PATTERN_LENGTH)))
    tags = tuple(f"t{i}" for i in range(MAX_TAGS))
    created = wb.scenarios.create(ScenarioCreate("s", tags=tags, turns=turns))
    assert len(created.tags) == MAX_TAGS


def test_prompt_content_and_tags_are_limited(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match=f"the limit is {MAX_TEXT_LENGTH:,}"):
        wb.prompts.create(name="p", content="x" * (MAX_TEXT_LENGTH + 1))
    with pytest.raises(ValidationError, match=f"the limit is {MAX_TAGS:,}"):
        wb.prompts.create(name="p", content="x", tags=[f"t{i}" for i in range(MAX_TAGS + 1)])


INVISIBLE = ["\u200b", "\u200b\u200c\u200d", "\ufeff\u2060", "\u200b \u200b"]
BIDI = ["Invoice\u202egnp.exe", "a\u202ab", "\u2066x\u2069", "\u2067y"]


@pytest.mark.parametrize("name", INVISIBLE + BIDI)
def test_names_that_could_impersonate_another_are_refused_everywhere(
    wb: Workbench, name: str
) -> None:
    message = "no visible characters" if name in INVISIBLE else "bidirectional control"
    with pytest.raises(ValidationError, match=message):
        wb.scenarios.create(ScenarioCreate(name))
    with pytest.raises(ValidationError, match=message):
        wb.scenarios.create(ScenarioCreate("ok", tags=(name,)))
    with pytest.raises(ValidationError, match=message):
        wb.suites.create(name=name)
    with pytest.raises(ValidationError, match=message):
        wb.prompts.create(name=name, content="x")
    with pytest.raises(ValidationError, match=message):
        wb.prompts.create(name="ok", content="x", tags=[name])


def test_visible_names_in_any_script_are_kept(wb: Workbench) -> None:
    for name in ["שלום", "مرحبا", "é\u0301", "👩‍💻 dev", "名前"]:
        assert wb.scenarios.create(ScenarioCreate(name)).name == name
