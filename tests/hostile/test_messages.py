"""Messages stay bounded whatever the input, and never carry what could be a password."""

from __future__ import annotations

import pytest

from workbench.db.engine import Database
from workbench.errors import ValidationError, quoted
from workbench.handle import Workbench
from workbench.services.accounts import credentials
from workbench.services.prompts.templates import parse_template
from workbench.services.scenarios.types import ScenarioCreate


def test_quoted_shows_a_bounded_prefix_and_counts_the_rest() -> None:
    assert quoted("abc") == "'abc'"
    assert quoted("x" * 10_000_000) == repr("x" * 60) + "…(9,999,940 more characters)"
    nested: list[object] = []
    for _ in range(30):
        nested = [nested, nested]  # repr() of this is 2**30 deep copies
    assert len(quoted(nested)) <= 80


def test_a_validation_error_lists_20_problems_and_keeps_all_on_problems() -> None:
    problems = [f"problem {i}" for i in range(20_000)]
    error = ValidationError("Header:\n" + "\n".join(f"- {p}" for p in problems), problems=problems)
    assert str(error).count("\n- ") == 21
    assert str(error).endswith("- and 19,980 more (see .problems)")
    assert error.problems == problems


def test_a_10_mb_name_gives_a_short_message(wb: Workbench) -> None:
    with pytest.raises(ValidationError) as caught:
        wb.scenarios.create(ScenarioCreate(name="n" * 10_000_000))
    assert len(str(caught.value)) < 2_000


def test_100000_bad_placeholders_give_a_bounded_message_with_every_problem_kept() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template("{{1}} " * 100_000)
    assert len(str(caught.value)) < 10_000
    assert "and 99,980 more" in str(caught.value)
    assert len(caught.value.problems) == 100_000


def test_a_placeholder_with_a_huge_name_is_quoted_as_a_prefix() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template("{{" + "é" * 1_000_000 + "}}")
    assert len(str(caught.value)) < 1_000
    assert "more characters" in str(caught.value)


PASSWORD = "Pw-Sw4pped-Secret-Value"


def test_sign_in_with_swapped_arguments_never_echoes_the_password(db: Database) -> None:
    with pytest.raises(ValidationError) as caught:
        credentials.sign_in_with_password(db, email=PASSWORD, password="ada@example.com")
    message = str(caught.value)
    assert PASSWORD.lower() not in message.lower()
    assert "not a valid email address" in message
    assert "'@'" in message  # says what is wrong instead


@pytest.mark.parametrize("email", ["no-at-sign", "two@@example.com", "ada@localhost"])
def test_an_invalid_email_is_described_not_quoted(db: Database, email: str) -> None:
    with pytest.raises(ValidationError) as caught:
        credentials.sign_in_with_password(db, email=email, password="whatever")
    assert email not in str(caught.value)
