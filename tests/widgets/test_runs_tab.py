"""The studio's Runs tab, driven as a user would: pick, start, watch, open, compare."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import user_handle
from tests.runs.conftest import make_setup
from workbench import judge_conversation, simulated_user
from workbench.db.engine import Database
from workbench.handle import Workbench
from workbench.services.scenarios.types import expect, must_contain, semantic, user
from workbench.widgets.run_viewer import RunViewer
from workbench.widgets.runs_tab import RunsTab


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "workbench-test-master-secret")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def smoke(wb: Workbench) -> None:
    make_setup(wb, {"Greets": [user("hello"), expect(must_contain("hello"))]})


def finish(tab: RunsTab) -> RunViewer:
    """Wait for the run the viewer follows, and for the viewer's last refresh."""
    viewer = tab.viewer
    assert viewer is not None
    viewer.run.wait(60)
    thread = getattr(viewer, "_thread", None)
    if thread is not None:
        thread.join(30)
    return viewer


def test_targets_are_offline_and_what_your_keys_allow(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = RunsTab(wb)
    assert [value for _, value in tab.target.options] == ["offline", "openai_compatible"]
    assert tab.model.value == "offline" and tab.base_url.layout.display == "none"

    wb.api_keys.set(provider="anthropic", api_key="sk-ant-test-0123456789")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    tab.on_show()
    assert tab.target.options == (
        ("Offline (no key, no network)", "offline"),
        ("OpenAI (OPENAI_API_KEY)", "openai"),
        ("Anthropic (your stored key)", "anthropic"),
        ("OpenAI-compatible server (OPENAI_API_KEY)", "openai_compatible"),
    )
    tab.target.value = "anthropic"
    assert tab.model.value == "claude-3-5-haiku-latest"
    assert tab.base_url.layout.display is None and tab.offline_reply.layout.display == "none"


def test_start_plays_the_run_shows_it_and_lists_it(committed_db: Database) -> None:
    # Committed: the run, the viewer's thread and the test each use their own connection.
    wb = user_handle(committed_db, "Ada")
    smoke(wb)
    tab = RunsTab(wb)
    assert tab.suite.label == "Smoke" and tab.prompt.label == "Support"
    tab.offline_reply.value = "hello there"
    tab.repeats.value = 3
    run = tab.start()
    assert run is not None and tab.message.value.startswith(f"Started run {run.id}: 3 attempts")
    viewer = finish(tab)
    assert viewer.run is run and "3/3</b> attempts: 3 passed" in viewer.counts.value
    assert len(tab.run_list.rows) == 1
    line = tab.run_list.rows[0].label.value
    assert " · Smoke · Support · offline · finished · 100% passed (3/3) · $0" in line


def test_a_missing_variable_says_where_to_set_it(wb: Workbench) -> None:
    smoke(wb)
    wb.prompts.create(name="Needs", content="For {{ company }}.")
    tab = RunsTab(wb)
    tab.prompt.value = next(value for label, value in tab.prompt.options if label == "Needs")
    assert tab.start() is None
    assert tab.message.value == "Not started: no value for company; set them in the Variables tab."
    assert wb.runs.list() == []


def test_a_bad_target_is_refused_before_anything_runs(wb: Workbench) -> None:
    smoke(wb)
    tab = RunsTab(wb)
    tab.target.value = "openai_compatible"
    tab.model.value = "llama3.1"
    assert tab.start() is None
    assert "base URL" in tab.message.value and wb.runs.list() == []


def test_past_runs_open_in_the_viewer_and_compare(wb: Workbench) -> None:
    import workbench

    smoke(wb)
    for reply in ("hello there", "go away"):
        target = workbench.offline(default=reply)
        wb.runs.start(suite="Smoke", prompt="Support", target=target, progress=False).wait(60)
    tab = RunsTab(wb)
    newest, oldest = tab.run_list.rows
    assert "0% passed (0/1)" in newest.label.value and "100% passed (1/1)" in oldest.label.value

    oldest.open_button.click()
    assert tab.viewer is not None and tab.viewer.run.id == oldest.view.id
    assert "1 passed" in tab.viewer.counts.value

    assert tab.run_list.compare_box.layout.display == "none"
    assert newest.layout.display is None  # hiding the compare line hides no row
    newest.compare_button.click()
    assert tab.run_list.compare_box.layout.display == "flex" and newest.layout.display is None
    assert tab.run_list.baseline.value == oldest.view.id  # the same suite's previous run
    tab.run_list.compare_button.click()
    shown = tab.run_list.comparison.value
    assert "1 regression" in shown and "<td>regression</td>" in shown and "go away" in shown


def test_the_runs_tab_reads_new_suites_when_shown(wb: Workbench) -> None:
    studio = wb.studio()
    assert studio.runs.suite.options == ()
    assert "Make a suite" not in studio.runs.message.value
    smoke(wb)
    studio.selected_index = studio.titles.index("Runs")
    assert [label for label, _ in studio.runs.suite.options] == ["Smoke"]
    studio.runs.suite.value = None
    assert studio.runs.start() is None
    assert studio.runs.message.value == "Make a suite and a prompt first."


def test_refreshes_from_two_threads_list_each_run_once(wb: Workbench) -> None:
    import threading

    import workbench

    smoke(wb)
    wb.runs.start(suite="Smoke", prompt="Support", target=workbench.offline(), progress=False).wait(
        60
    )
    tab = RunsTab(wb)
    # The Start button's refresh and the viewer's end-of-run refresh can come at once.
    threads = [threading.Thread(target=tab.run_list.refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(tab.run_list.rows) == 1 and list(tab.run_list.row_box.children) == tab.run_list.rows


def simulated_suite(wb: Workbench) -> None:
    block = simulated_user("Get a cash refund", min_turns=1, max_turns=2)
    turns = [user("hello"), expect(must_contain("hello")), block, judge_conversation("Polite")]
    make_setup(wb, {"Refund": turns})


def test_the_simulator_picker_offers_none_then_the_targets(wb: Workbench) -> None:
    tab = RunsTab(wb)
    picker = tab.simulator
    assert [value for _, value in picker.choice.options] == ["", "offline", "openai_compatible"]
    assert picker.target() is None
    assert {f.layout.display for f in (picker.model, picker.base_url, picker.offline_reply)} == {
        "none"
    }
    picker.choice.value = "openai_compatible"
    picker.model.value = "llama3.1"
    assert picker.base_url.layout.display is None and picker.offline_reply.layout.display == "none"
    simulated_suite(wb)
    tab.on_show()
    assert picker.choice.value == "openai_compatible"  # kept across a refresh
    assert tab.start() is None  # no base URL: refused, saying which model it is about
    assert tab.message.value == (
        "Not started: Simulator: Give the server's base URL, such as http://localhost:11434/v1."
    )
    assert wb.runs.list() == []


def test_a_simulated_suite_needs_a_simulator(wb: Workbench) -> None:
    simulated_suite(wb)
    tab = RunsTab(wb)
    assert tab.start() is None
    assert "has a simulated user and no model is given to play it" in tab.message.value
    assert "pick a Simulator (or a Judge, which plays it by default) above" in tab.message.value
    assert "simulator=" not in tab.message.value  # a Python argument is no use in the tab
    assert wb.runs.list() == []


def test_the_chosen_simulator_plays_the_user(committed_db: Database) -> None:
    wb = user_handle(committed_db, "Ada")
    simulated_suite(wb)
    tab = RunsTab(wb)
    tab.offline_reply.value = "hello, how can I help?"
    tab.simulator.choice.value = "offline"
    tab.simulator.model.value = "offline-user"
    tab.simulator.offline_reply.value = "No, I want cash."
    run = tab.start()
    assert run is not None, tab.message.value
    finish(tab)
    talk = run.conversations().iloc[0]
    assert talk["simulator_model"] == "offline-user" and talk["ending"] == "max_turns"
    assert [m["text"] for m in talk["transcript"]][::2] == ["No, I want cash."] * 2


def test_the_judge_picker_offers_none_then_the_targets(wb: Workbench) -> None:
    tab = RunsTab(wb)
    picker = tab.judge
    assert [value for _, value in picker.choice.options] == ["", "offline", "openai_compatible"]
    assert picker.target() is None and picker.choice.label == "None: the target judges"
    picker.choice.value = "openai_compatible"
    picker.model.value = "judge-model"
    smoke(wb)
    tab.on_show()
    assert tab.start() is None  # no base URL: refused, saying which model it is about
    assert tab.message.value == (
        "Not started: Judge: Give the server's base URL, such as http://localhost:11434/v1."
    )
    assert wb.runs.list() == []


def test_the_chosen_judge_judges_and_plays_the_user(committed_db: Database) -> None:
    wb = user_handle(committed_db, "Ada")
    block = simulated_user("Get a cash refund", min_turns=1, max_turns=1)
    turns = [user("hello"), expect(semantic("Greets the user")), block, judge_conversation("Calm")]
    make_setup(wb, {"Refund": turns})
    tab = RunsTab(wb)
    tab.judge.choice.value = "offline"
    tab.judge.model.value = "offline-judge"
    tab.judge.offline_reply.value = "I want cash."  # no simulator: the judge plays the user
    run = tab.start()
    assert run is not None, tab.message.value
    finish(tab)
    stored = wb.runs.get(run.id)
    frame = stored.frame()
    judged = frame[frame["type"].isin(["SEMANTIC_ASSERT", "CONVERSATION"])]
    assert list(judged["type"]) == ["SEMANTIC_ASSERT", "CONVERSATION"]
    assert {d["judge_model"] for d in judged["detail"]} == {"offline-judge"}  # not the target
    talk = stored.conversations().iloc[0]
    assert talk["simulator_model"] == "offline-judge" and talk["transcript"][0]["text"] == (
        "I want cash."
    )
    with committed_db.transaction() as session:
        settings = session.execute(text("SELECT judge FROM workbench.run")).scalar_one()
    assert settings["provider"] == "offline" and settings["model"] == "offline-judge"
