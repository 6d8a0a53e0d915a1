"""Every validation rule: its message names the field and the position, and all are reported."""

from __future__ import annotations

import pytest

from workbench.db.enums import ExpectationType, ScenarioStatus, ScenarioTurnType
from workbench.errors import ValidationError
from workbench.services.scenarios.types import (
    ExpectationSpec,
    ScenarioCreate,
    ScenarioUpdate,
    TurnSpec,
    expect,
    must_contain,
    must_contain_any,
    must_not_contain,
    regex,
    semantic,
    user,
)
from workbench.services.scenarios.validation import validate_scenario, validate_update


def problems_of(**fields: object) -> list[str]:
    spec = ScenarioCreate(**{"name": "Valid", **fields})  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as raised:
        validate_scenario(spec)
    return raised.value.problems


def one_problem(**fields: object) -> str:
    problems = problems_of(**fields)
    assert len(problems) == 1, problems
    return problems[0]


def with_expectation(spec: ExpectationSpec) -> str:
    return one_problem(turns=[user("Hi"), expect(must_contain("ok"), spec)])


def test_a_valid_scenario_is_returned_normalised() -> None:
    spec = ScenarioCreate(
        name="  Greeting  ",
        status="published",
        tags=[" smoke ", "smoke", "fast"],
        turns=[user("Hi"), expect(must_contain("hello"))],
    )
    normalised = validate_scenario(spec)
    assert normalised.name == "Greeting"
    assert normalised.status is ScenarioStatus.PUBLISHED
    assert normalised.tags == ("smoke", "fast")


def test_empty_name_is_refused() -> None:
    assert one_problem(name="   ") == "name: is empty; give it a name"


def test_missing_name_is_refused() -> None:
    assert one_problem(name=None) == "name: is required"


def test_name_over_200_characters_is_refused() -> None:
    assert one_problem(name="x" * 201) == "name: is 201 characters long; the limit is 200"


def test_name_of_exactly_200_characters_is_accepted() -> None:
    assert validate_scenario(ScenarioCreate(name="é" * 200)).name == "é" * 200


def test_name_that_is_not_text_is_refused() -> None:
    assert one_problem(name=42) == "name: must be text, not int"


def test_expect_turn_before_any_user_turn_is_refused() -> None:
    problem = one_problem(turns=[expect(must_contain("hi")), user("Hi")])
    assert problem.startswith("turn 1, turn: an EXPECT turn must come after a USER turn")


def test_user_turn_without_text_is_refused() -> None:
    assert one_problem(turns=[user("Hi"), user("")]) == "turn 2, text: a USER turn needs text"


def test_user_turn_with_only_whitespace_is_refused() -> None:
    assert one_problem(turns=[user(" \n ")]) == "turn 1, text: a USER turn needs text"


def test_user_turn_with_none_text_is_refused() -> None:
    problem = one_problem(turns=[TurnSpec(ScenarioTurnType.USER, None)])
    assert problem == "turn 1, text: a USER turn needs text"


def test_expect_turn_without_expectations_is_refused() -> None:
    problem = one_problem(turns=[user("Hi"), expect()])
    assert problem == "turn 2, expectations: an EXPECT turn needs at least one expectation"


def test_must_contain_without_value_names_turn_and_expectation() -> None:
    problem = with_expectation(ExpectationSpec(ExpectationType.MUST_CONTAIN))
    assert problem == "turn 2, expectation 2, value: MUST_CONTAIN needs a value"


def test_must_not_contain_with_empty_value_is_refused() -> None:
    problem = with_expectation(must_not_contain(""))
    assert problem == "turn 2, expectation 2, value: MUST_NOT_CONTAIN needs a value"


def test_must_contain_any_without_values_is_refused() -> None:
    problem = with_expectation(must_contain_any())
    assert problem == "turn 2, expectation 2, values: MUST_CONTAIN_ANY needs at least one value"


def test_must_contain_any_with_an_empty_alternative_is_refused() -> None:
    problem = with_expectation(must_contain_any("yes", " "))
    assert problem == "turn 2, expectation 2, values[1]: is empty"


def test_regex_that_does_not_compile_is_refused_with_the_reason() -> None:
    problem = with_expectation(regex("(unclosed"))
    assert problem.startswith("turn 2, expectation 2, value: REGEX does not compile: missing )")


def test_regex_without_pattern_is_refused() -> None:
    problem = with_expectation(ExpectationSpec(ExpectationType.REGEX))
    assert problem == "turn 2, expectation 2, value: REGEX needs a value"


@pytest.mark.parametrize("threshold", [-0.01, 1.01, float("nan"), float("inf")])
def test_threshold_outside_zero_to_one_is_refused(threshold: float) -> None:
    problem = with_expectation(semantic("It is polite", threshold=threshold))
    assert problem == f"turn 2, expectation 2, threshold: must be between 0 and 1, got {threshold}"


@pytest.mark.parametrize("threshold", [0, 0.0, 0.5, 1, 1.0])
def test_threshold_bounds_are_accepted(threshold: float) -> None:
    spec = ScenarioCreate("T", turns=[user("Hi"), expect(semantic("ok", threshold=threshold))])
    assert validate_scenario(spec).turns[1].expectations[0].threshold == threshold


def test_threshold_on_another_type_is_refused() -> None:
    spec = ExpectationSpec(ExpectationType.MUST_CONTAIN, value="x", threshold=0.5)
    problem = with_expectation(spec)
    assert problem == (
        "turn 2, expectation 2, threshold: only SEMANTIC_ASSERT takes a threshold, not MUST_CONTAIN"
    )


def test_semantic_assert_without_statement_is_refused() -> None:
    problem = with_expectation(ExpectationSpec(ExpectationType.SEMANTIC_ASSERT, threshold=0.5))
    assert problem == "turn 2, expectation 2, value: SEMANTIC_ASSERT needs a value"


def test_values_on_must_contain_are_refused() -> None:
    spec = ExpectationSpec(ExpectationType.MUST_CONTAIN, value="a", values=("b",))
    problem = with_expectation(spec)
    assert problem == "turn 2, expectation 2, values: MUST_CONTAIN takes `value`, not `values`"


def test_unknown_expectation_type_lists_the_allowed_ones() -> None:
    problem = with_expectation(ExpectationSpec("CONTAINS_SOMETHING", value="x"))
    assert problem == (
        "turn 2, expectation 2, type: unknown expectation type 'CONTAINS_SOMETHING'; use one of "
        "MUST_CONTAIN, MUST_CONTAIN_ANY, MUST_NOT_CONTAIN, REGEX, SEMANTIC_ASSERT"
    )


def test_unknown_turn_type_lists_the_allowed_ones() -> None:
    problem = one_problem(turns=[TurnSpec("ASSISTANT", text="hi")])
    assert problem == "turn 1, type: unknown turn type 'ASSISTANT'; use one of USER, EXPECT"


def test_unknown_status_lists_the_allowed_ones() -> None:
    problem = one_problem(status="LIVE")
    assert problem == "status: unknown status 'LIVE'; use one of DRAFT, PUBLISHED, ARCHIVED"


def test_enum_names_are_accepted_in_any_case() -> None:
    spec = ExpectationSpec("must_contain", value="x")
    assert spec.type is ExpectationType.MUST_CONTAIN
    assert TurnSpec("user", text="Hi").type is ScenarioTurnType.USER


@pytest.mark.parametrize("locale", ["english", "en_US", "", "e", "en-"])
def test_malformed_locale_is_refused(locale: str) -> None:
    assert one_problem(locale=locale).startswith("locale: ")


@pytest.mark.parametrize("locale", ["en", "pt-BR", "zh-Hant-TW", "es-419", "fil"])
def test_locale_tags_are_accepted(locale: str) -> None:
    assert validate_scenario(ScenarioCreate("T", locale=locale)).locale == locale


def test_empty_tag_is_refused_with_its_index() -> None:
    assert one_problem(tags=["ok", "  "]) == "tags[1]: is empty"


def test_tag_over_100_characters_is_refused() -> None:
    assert one_problem(tags=["t" * 101]) == "tags[0]: is 101 characters long; the limit is 100"


def test_tags_given_as_one_string_are_refused() -> None:
    assert one_problem(tags="smoke") == "tags: must be a list of text, not str"


def test_nul_character_is_refused_wherever_it_is() -> None:
    problems = problems_of(
        name="a\x00b",
        description="\x00",
        tags=["t\x00"],
        turns=[user("hi\x00"), expect(must_contain("x\x00"), must_contain_any("ok", "\x00"))],
    )
    nul = "contains a NUL character (\\x00), which PostgreSQL cannot store; remove it"
    assert problems == [
        f"name: {nul}",
        f"description: {nul}",
        f"tags[0]: {nul}",
        f"turn 1, text: {nul}",
        f"turn 2, expectation 1, value: {nul}",
        f"turn 2, expectation 2, values[1]: {nul}",
    ]


def test_lone_surrogate_is_refused() -> None:
    problem = one_problem(turns=[user("broken \ud800 text")])
    assert problem == (
        "turn 1, text: contains a lone surrogate, which is not valid Unicode text; remove it"
    )


def test_a_turn_that_is_not_a_turn_spec_says_how_to_make_one() -> None:
    problem = one_problem(turns=[{"user": "Hi"}])
    assert problem == "turn 1, turn: is a dict, not a turn; use user(...) or expect(...)"


def test_every_problem_is_reported_not_just_the_first() -> None:
    problems = problems_of(
        name="",
        locale="??",
        turns=[
            expect(must_contain("")),
            user(""),
            expect(),
            expect(regex("["), semantic("ok", threshold=2)),
        ],
    )
    assert problems == [
        "name: is empty; give it a name",
        "locale: '??' is not a locale tag like 'en', 'pt-BR' or 'zh-Hant-TW'",
        "turn 1, turn: an EXPECT turn must come after a USER turn (there is no reply to check yet)",
        "turn 1, expectation 1, value: MUST_CONTAIN needs a value",
        "turn 2, text: a USER turn needs text",
        "turn 3, expectations: an EXPECT turn needs at least one expectation",
        "turn 4, expectation 1, value: REGEX does not compile: unterminated character set at "
        "position 0",
        "turn 4, expectation 2, threshold: must be between 0 and 1, got 2",
    ]


def test_the_error_message_lists_every_problem() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_scenario(ScenarioCreate(name="Bad", turns=[user(""), expect()]))
    assert str(raised.value) == (
        "Scenario 'Bad' cannot be saved (2 problems):\n"
        "- turn 1, text: a USER turn needs text\n"
        "- turn 2, expectations: an EXPECT turn needs at least one expectation"
    )


def test_update_checks_only_the_fields_it_sets() -> None:
    normalised = validate_update(ScenarioUpdate(name=" Renamed ", tags=["a", "a"]))
    assert (normalised.name, normalised.tags) == ("Renamed", ("a",))


def test_update_reports_every_problem_of_the_fields_it_sets() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_update(ScenarioUpdate(name="", status="GONE", turns=[user("")]))
    assert raised.value.problems == [
        "name: is empty; give it a name",
        "status: unknown status 'GONE'; use one of DRAFT, PUBLISHED, ARCHIVED",
        "turn 1, text: a USER turn needs text",
    ]


def test_text_that_postgres_can_store_is_kept_exactly() -> None:
    text = '  O\'Brien "quoted" \'; DROP TABLE "Scenario"; -- 🎉 \u200fשלום\u200e e\u0301 \r\n'
    spec = ScenarioCreate("T", description=text, turns=[user(text), expect(must_contain(text))])
    normalised = validate_scenario(spec)
    assert normalised.description == text
    assert normalised.turns[0].text == text
    assert normalised.turns[1].expectations[0].value == text
