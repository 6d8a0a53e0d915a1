"""`workbench run` in CI: prompt variables from flags and files, and JUnit failures a person can
read (a sentence, the place, the reply), never a dict's repr."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.runs.conftest import Setup
from workbench.cli import main
from workbench.cli import runs as runs_cli
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user

ARGV = ["run", "--suite", "Vars", "--prompt", "Branded", "--provider", "offline"]


@pytest.fixture
def cli(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.setattr(runs_cli, "open_handle", lambda: setup.wb)
    made = setup.wb.scenarios.create(
        ScenarioCreate(name="Echo", turns=[user("ok"), expect(must_contain("ok"))])
    )
    setup.wb.suites.create(name="Vars", scenario_ids=[made.id])
    setup.wb.prompts.create(name="Branded", content="You help {{ company }} in a {{ tone }} tone.")
    setup.wb.variables.delete("tone")  # the setup stored one: here every value comes from flags
    return setup


def system_text(setup: Setup) -> str:
    with setup.wb.database.transaction() as session:
        from sqlalchemy import text

        return str(session.scalar(text("SELECT system_text FROM workbench.run")))


def test_var_flags_fill_the_prompt(cli: Setup) -> None:
    assert main([*ARGV, "--var", "company=Acme", "--var", "tone=dry = wry"]) == 0
    assert system_text(cli) == "You help Acme in a dry = wry tone."


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_vars_file_fills_the_prompt_and_flags_win(
    cli: Setup, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"vars{suffix}"
    path.write_text(
        '{"company": "Acme", "tone": "stiff"}' if suffix == ".json" else "company: Acme\ntone: 3\n"
    )
    assert main([*ARGV, "--vars-file", str(path), "--var", "company=Globex"]) == 0
    tone = "stiff" if suffix == ".json" else "3"
    assert system_text(cli) == f"You help Globex in a {tone} tone."


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("- a\n- b\n", "must hold a mapping"),
        ("base: &x hi\ncompany: *x\n", "aliases are not accepted"),
        ("company: [1, 2]\n", "value of 'company'"),
        ("2tone: x\n", "is not a valid key"),
        ("company: 'unterminated\n", "not valid YAML"),
    ],
)
def test_a_bad_vars_file_is_refused_before_anything_runs(
    cli: Setup,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    said: str,
) -> None:
    path = tmp_path / "vars.yaml"
    path.write_text(content)
    assert main([*ARGV, "--vars-file", str(path), "--var", "tone=x"]) == 2
    assert said in capsys.readouterr().err
    assert cli.wb.runs.list() == []


def test_a_var_without_equals_is_refused(cli: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGV, "--var", "company"]) == 2
    assert "--var takes NAME=VALUE, got 'company'" in capsys.readouterr().err


def test_a_missing_vars_file_says_so(
    cli: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ARGV, "--vars-file", str(tmp_path / "nope.yaml")]) == 2
    assert "Cannot read the variables file" in capsys.readouterr().err


def test_junit_failures_are_sentences_with_the_place_and_the_reply(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(runs_cli, "open_handle", lambda: setup.wb)
    junit = tmp_path / "results.xml"
    argv = ["run", "--suite", "Smoke", "--prompt", "Support", "--provider", "offline"]
    assert main([*argv, "--junit", str(junit)]) == 1
    failures = ElementTree.parse(junit).getroot().findall("testcase/failure")
    assert len(failures) == 1
    message = failures[0].get("message") or ""
    # The setup's "Two turns" scenario: MUST_NOT_CONTAIN "first" against "echo: first".
    assert message == (
        "The reply contains 'first', which it must not ('echo: first') (scenario 'Two turns', "
        "turn 2, expectation 2, repeat 1); the reply was 'echo: first'."
    )
    assert "{" not in message
    assert "Reply: echo: first" in (failures[0].text or "")


def test_run_to_junit_failures_are_sentences_too(setup: Setup) -> None:
    import workbench

    run = setup.wb.runs.start(
        suite="Smoke", prompt="Support", target=workbench.offline(), progress=False
    ).wait(60)
    root = ElementTree.fromstring(run.to_junit().split("\n", 1)[1])
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == (
        "turn 2 expectation 2 MUST_NOT_CONTAIN: the reply contains 'first', which it must not "
        "('echo: first'); reply 'echo: first'"
    )
