"""`workbench run` with simulated users (issue 21): `--simulator-provider/-model/-base-url` name
the model that plays the user, as `--judge-provider/-model` name the judge; without either,
the run is refused (exit 2) before anything is written."""

from __future__ import annotations

import re

import pytest

from workbench import judge_conversation, simulated_user
from workbench.cli import main
from workbench.cli import runs as runs_cli
from workbench.handle import Workbench
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
from workbench.testing.standin import StandIn

ARGV = ["run", "--suite", "Simulated", "--prompt", "Support", "--provider", "offline"]


@pytest.fixture
def cli(wb: Workbench, monkeypatch: pytest.MonkeyPatch) -> Workbench:
    monkeypatch.setattr(runs_cli, "open_handle", lambda: wb)
    turns = [
        user("hello"),
        expect(must_contain("echo")),
        simulated_user("Get a refund", min_turns=2, max_turns=2),
        judge_conversation("Stays polite"),
    ]
    made = wb.scenarios.create(ScenarioCreate(name="Refund", turns=turns))
    wb.suites.create(name="Simulated", scenario_ids=[made.id])
    wb.prompts.create(name="Support", content="Be kind.")
    return wb


def test_a_simulated_block_with_no_model_to_play_it_exits_2(
    cli: Workbench, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(ARGV) == 2
    said = capsys.readouterr().err
    assert said == (
        "error: Cannot start the run: 'Refund' has a simulated user and no model is given to "
        "play it; pass --simulator-provider PROVIDER --simulator-model MODEL (or "
        "--judge-provider/--judge-model: the judge plays it by default). Nothing was started.\n"
    )
    assert "simulator=" not in said  # the Python argument is no use in a terminal
    assert cli.runs.list() == []  # refused before anything was written


def test_the_simulator_flags_name_the_model_that_plays_the_user(
    cli: Workbench, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cli-simulator")
    with StandIn(max_lifetime_s=60) as server:
        url = server.openai_base_url
        flags = ["--judge-provider", "offline", "--simulator-provider", "openai_compatible",
                 "--simulator-model", "sim", "--simulator-base-url", url]  # fmt: skip
        assert main([*ARGV, *flags]) == 0
        asked = [b for b in server.bodies if b.get("model") == "sim"]
    assert len(asked) == 2  # two simulated turns, each one simulator call
    run_id = re.search(r"run (\S+): finished", capsys.readouterr().out)
    assert run_id is not None
    talks = cli.runs.get(run_id[1]).conversations()
    assert list(talks["simulator_model"]) == ["sim"] and list(talks["turns_played"]) == [2]
    assert talks["transcript"].iloc[0][0]["text"].startswith("simulated reply to:")
