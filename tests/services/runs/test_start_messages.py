"""What `wb.runs.start` (and `workbench run`) says when it cannot start: the missing prompt
variables with the way to pass them here, and the closest names for a mistyped suite or prompt."""

from __future__ import annotations

from typing import Any

import pytest

import workbench
from tests.runs.conftest import Setup
from workbench.cli import main
from workbench.cli import runs as runs_cli
from workbench.errors import NotFound, ValidationError


def start(setup: Setup, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "suite": setup.suite_id,
        "prompt": setup.prompt_id,
        "target": workbench.offline(),
        "progress": False,
    }
    return setup.wb.runs.start(**{**options, **kwargs})


def test_a_missing_variable_names_start_variables(setup: Setup) -> None:
    setup.wb.prompts.create(name="Needs", content="For {{ company }} about {{ product }}.")
    with pytest.raises(ValidationError) as caught:
        start(setup, prompt="Needs", variables={"company": "Acme"})
    message = str(caught.value)
    assert "Missing values for product" in message
    assert "start(variables={'product': ...})" in message
    assert "render()" not in message
    assert caught.value.problems == ["no value for placeholder 'product' (line 1, column 25)"]


def test_the_cli_names_its_flags_for_a_missing_variable(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runs_cli, "open_handle", lambda: setup.wb)
    setup.wb.prompts.create(name="Needs", content="For {{ company }}.")
    argv = ["run", "--suite", "Smoke", "--prompt", "Needs", "--provider", "offline"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--var company=VALUE" in err and "--vars-file" in err
    assert "start(variables" not in err and "render()" not in err


@pytest.mark.parametrize(
    ("change", "suggested"),
    [
        ({"suite": "Smok"}, "No suite 'Smok' (by id or name); did you mean 'Smoke'?"),
        ({"suite": "smoke"}, "did you mean 'Smoke'?"),
        ({"prompt": "Suport"}, "No prompt 'Suport' (by id or name); did you mean 'Support'?"),
    ],
)
def test_a_mistyped_name_offers_the_closest(
    setup: Setup, change: dict[str, str], suggested: str
) -> None:
    with pytest.raises(NotFound) as caught:
        start(setup, **change)
    assert suggested in str(caught.value)


def test_several_close_names_are_offered_and_far_ones_are_not(setup: Setup) -> None:
    for name in ("Smoke tests", "Smoky", "Billing"):
        setup.wb.suites.create(name=name)
    with pytest.raises(NotFound) as caught:
        start(setup, suite="Smoek")
    message = str(caught.value)
    assert "did you mean" in message and "'Smoke'" in message and "Billing" not in message
    with pytest.raises(NotFound) as caught:
        start(setup, suite="Checkout flows")
    assert "did you mean" not in str(caught.value) and "wb.suites.list()" in str(caught.value)


def test_another_users_names_are_never_offered(setup: Setup, other_wb: workbench.Workbench) -> None:
    other_wb.suites.create(name="Secret roadmap")
    other_wb.prompts.create(name="Secret prompt", content="x")
    with pytest.raises(NotFound) as caught:
        start(setup, suite="Secret roadmap")
    assert "did you mean" not in str(caught.value)
    with pytest.raises(NotFound) as caught:
        start(setup, prompt="Secret prompt")
    assert "did you mean" not in str(caught.value)


def test_a_huge_wrong_name_is_quoted_bounded(setup: Setup) -> None:
    with pytest.raises(NotFound) as caught:
        start(setup, suite="x" * 100_000)
    assert len(str(caught.value)) < 300
