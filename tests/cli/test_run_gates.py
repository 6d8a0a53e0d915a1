"""`workbench run` reliability gates (issue 23): --min-pass-rate, --pass-k, --baseline/--max-drop.

The suite "Smoke" (tests/runs/conftest.py) against the offline echo: "Greets" always passes,
"Two turns" always fails (its first EXPECT wants "first" and not "first").
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup
from workbench.cli import main
from workbench.cli import runs as runs_cli
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user

RUN = ["run", "--suite", "Smoke", "--prompt", "Support", "--provider", "offline"]


@pytest.fixture
def cli(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.setattr(runs_cli, "open_handle", lambda: setup.wb)
    return setup


def runs(setup: Setup) -> int:
    with setup.wb.database.transaction() as session:
        return int(session.scalar(text("SELECT count(*) FROM workbench.run")) or 0)


def gate_cases(junit: Path) -> dict[str, str]:
    suite = ElementTree.parse(junit).getroot()
    return {
        str(case.get("name")): str(case.find("failure").get("message"))  # type: ignore[union-attr]
        for case in suite.findall("testcase")
        if case.get("classname") == "gates"
    }


def test_min_pass_rate_names_each_failing_scenario_with_its_rate(
    cli: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "r.xml"
    argv = [*RUN, "--repeats", "2", "--min-pass-rate", "0.9", "--junit", str(junit)]
    assert main(argv) == 1
    cases = gate_cases(junit)
    assert list(cases) == ["min-pass-rate: Two turns"]
    assert (
        "pass rate 0.0% (0 of 2 attempts passed) is below the minimum 90.0%"
        in cases["min-pass-rate: Two turns"]
    )
    assert "gate failed: scenario 'Two turns'" in capsys.readouterr().out
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("failures") == str(2 + 1)  # two failed expectations and one gate


def test_gates_decide_a_run_whose_scenarios_all_reach_them(cli: Setup) -> None:
    made = cli.wb.scenarios.create(
        ScenarioCreate(name="Fine", turns=[user("ok"), expect(must_contain("ok"))])
    )
    cli.wb.suites.create(name="Green", scenario_ids=[made.id])
    green = ["run", "--suite", "Green", "--prompt", "Support", "--provider", "offline"]
    assert main([*green, "--repeats", "3", "--pass-k", "3"]) == 0
    # Without gates a failed expectation exits 1; a gate of 0% lets "Two turns" through.
    assert main([*RUN, "--min-pass-rate", "0"]) == 0


def test_pass_k_gates_pass_hat_k_and_needs_enough_repeats(
    cli: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*RUN, "--repeats", "2", "--pass-k", "3"]) == 2
    assert "--pass-k 3 needs --repeats 3" in capsys.readouterr().err
    assert runs(cli) == 0  # refused before anything ran
    junit = tmp_path / "r.xml"
    assert main([*RUN, "--repeats", "3", "--pass-k", "3", "--junit", str(junit)]) == 1
    assert "pass^3 0.0%" in gate_cases(junit)["pass-k: Two turns"]


def test_a_drop_from_the_baseline_beyond_max_drop_fails_naming_worse_scenarios(
    cli: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The baseline answered "Greets" right; so does the echo. It also answered "first" with a
    # reply that passes the first check of "Two turns" and fails the second, like the echo.
    baseline = cli.wb.runs.start(suite="Smoke", prompt="Support", repeats=3, progress=False,
                                 target=workbench.offline()).wait(60)  # fmt: skip
    assert main([*RUN, "--repeats", "3", "--baseline", baseline.id, "--max-drop", "0"]) == 0
    assert "McNemar p=" in capsys.readouterr().out
    # A worse baseline the other way round: the echo now fails where it passed.
    made = cli.wb.scenarios.create(
        ScenarioCreate(name="Polite", turns=[user("hi"), expect(must_contain("hello there"))])
    )
    cli.wb.suites.create(name="Manners", scenario_ids=[made.id])
    polite_target = workbench.offline([("hi", "hello there")])
    polite = cli.wb.runs.start(suite="Manners", prompt="Support", repeats=3, progress=False,
                               target=polite_target).wait(60)  # fmt: skip
    junit = tmp_path / "r.xml"
    argv = ["run", "--suite", "Manners", "--prompt", "Support", "--provider", "offline",
            "--repeats", "3", "--baseline", polite.id, "--max-drop", "0.05", "--junit",
            str(junit)]  # fmt: skip
    assert main(argv) == 1
    cases = gate_cases(junit)
    assert "pass rate fell by 100.0%" in cases["max-drop: (run)"]
    assert cases["max-drop: Polite"] == (
        "scenario 'Polite' got worse: pass rate 100.0% in the baseline, 0.0% now"
    )


def test_bad_gate_flags_are_refused_before_anything_runs(
    cli: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*RUN, "--min-pass-rate", "90"]) == 2
    assert "--min-pass-rate must be a fraction" in capsys.readouterr().err
    assert main([*RUN, "--max-drop", "0.1"]) == 2
    assert "--max-drop needs --baseline" in capsys.readouterr().err
    assert main([*RUN, "--baseline", "no-such-run"]) == 2
    assert "No run 'no-such-run'" in capsys.readouterr().err
    assert runs(cli) == 0
