"""`workbench run`: summary table, JUnit XML, exit status 0/1/2."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.runs.conftest import Setup
from workbench.cli import main
from workbench.cli import runs as runs_cli
from workbench.testing.standin import StandIn


@pytest.fixture
def cli(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> Setup:
    # The command signs in with workbench.connect(); here it gets the test user's handle.
    monkeypatch.setattr(runs_cli, "open_handle", lambda: setup.wb)
    return setup


def test_a_failed_expectation_exits_1_with_a_summary_and_junit(
    cli: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "results.xml"
    argv = ["run", "--suite", "Smoke", "--prompt", "Support", "--provider", "offline"]
    assert main([*argv, "--repeats", "2", "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "pass_rate" in out and "Two turns" in out
    suite = ElementTree.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("8", "2", "0")
    assert len(suite.findall("testcase/failure")) == 2


def test_all_passing_exits_0(cli: Setup) -> None:
    from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user

    made = cli.wb.scenarios.create(
        ScenarioCreate(name="Fine", turns=[user("ok"), expect(must_contain("ok"))])
    )
    cli.wb.suites.create(name="Green", scenario_ids=[made.id])
    argv = ["run", "--suite", "Green", "--prompt", "Support", "--provider", "offline"]
    assert main(argv) == 0


def test_errors_exit_2(cli: Setup) -> None:
    with StandIn(max_lifetime_s=60) as server:
        server.inject("401")  # not retried: that attempt errors
        url = server.openai_base_url
        argv = ["run", "--suite", "Smoke", "--prompt", "Support", "--provider",
                "openai_compatible", "--model", "m", "--base-url", url]  # fmt: skip
        assert main(argv) == 2


def test_an_unknown_provider_is_refused_with_2(
    cli: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--suite", "Smoke", "--prompt", "Support", "--provider", "mistral"]
    assert main(argv) == 2
    assert "unknown provider 'mistral'" in capsys.readouterr().err
