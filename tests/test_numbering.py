"""One numbering, user-facing (issue 22): every number a user reads about one scenario agrees.

"Refunds" is its suite's second scenario. Its first EXPECT turn is the editor's "Turn 2", with
two expectations; the second passes on one repeat and fails on the other. The editor, a
validation message, the scenario and suite frames, every frame of the stored run (results,
summary, flaky, pass rates, attempts), the transcript, the comparison, the JSON, CSV and JUnit
exports (the run's and the CLI's), the RunViewer's text and the Runs tab's comparison all call it
position 2, turn 2, expectation 2, repeats 1 and 2; and the numbers read there are the ones a
user passes back (`run.transcript(position=..., repeat=...)`, `RunViewer.select`), where the old
0-based call is refused, not answered with another attempt.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

import workbench
from workbench import frames
from workbench.cli.runs import write_junit
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
from workbench.widgets.run_list import comparison_html
from workbench.widgets.run_viewer import RunViewer
from workbench.widgets.scenario_editor import ScenarioEditor

REFUNDS = [user("I want a refund"), expect(must_contain("order"), must_contain("refund"))]
PASSING = "Your order's refund is on its way."
FAILING = "What is your order number?"  # has "order", not "refund": expectation 2 fails


def alternating() -> Any:
    """The refund reply passes, then fails, then passes...; greetings always pass."""
    calls = {"n": 0}

    def reply(last_user: str) -> str:
        if "refund" not in last_user:
            return "hello"
        calls["n"] += 1
        return PASSING if calls["n"] % 2 else FAILING

    return reply


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


class Cells(HTMLParser):
    """The rows of an HTML table, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td" and self.rows:
            self.rows[-1].append("")

    def handle_data(self, data: str) -> None:
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data.strip()


def refund_rows(rows: list[dict[str, Any]], *keys: str) -> set[tuple[Any, ...]]:
    return {tuple(int(row[k]) for k in keys) for row in rows if row["scenario"] == "Refunds"}


def test_every_number_a_user_reads_about_a_scenario_agrees(wb: Workbench, tmp_path: Path) -> None:
    greets = ScenarioCreate(name="Greets", turns=[user("hello"), expect(must_contain("hello"))])
    ids = [wb.scenarios.create(s).id for s in (greets, ScenarioCreate("Refunds", turns=REFUNDS))]
    suite = wb.suites.create(name="Numbers", scenario_ids=ids)
    wb.prompts.create(name="Numbers agent", content="Be brief.")

    # Authoring: the editor, the scenario's and the suite's frames, and a validation message.
    editor = ScenarioEditor(wb.scenarios, ids[1])
    assert [row.header.value for row in editor.turns] == ["Turn 1 · USER", "Turn 2 · EXPECT"]
    turns = frames.scenario_turns_frame(wb, ids[1]).dropna(subset=["expectation"])
    assert list(zip(turns["turn"], turns["expectation"], strict=True)) == [(2, 1), (2, 2)]
    listed = frames.suite_frame(wb, suite.id)
    assert dict(zip(listed["name"], listed["position"], strict=True)) == {"Greets": 1, "Refunds": 2}
    assert [item.position for item in wb.suites.items(suite.id)] == [1, 2]
    broken = [REFUNDS[0], expect(must_contain("order"), must_contain(""))]
    with pytest.raises(ValidationError, match="turn 2, expectation 2, value"):
        wb.scenarios.create(ScenarioCreate("Broken refunds", turns=broken))

    def start(target: Any) -> Any:
        return wb.runs.start(
            suite="Numbers", prompt="Numbers agent", target=target, repeats=2, concurrency=1,
            progress=False,
        ).wait(60)  # fmt: skip

    baseline = start(workbench.offline(default=PASSING))
    run = start(workbench.offline(alternating()))

    # The stored run's frames.
    results = run.frame().to_dict("records")
    assert refund_rows(results, "turn", "expectation", "repeat") == {
        (2, 1, 1), (2, 2, 1), (2, 1, 2), (2, 2, 2),
    }  # fmt: skip
    failed = [r for r in results if r["status"] == "FAILED"]
    assert [(r["scenario"], r["turn"], r["expectation"]) for r in failed] == [("Refunds", 2, 2)]
    repeat = int(failed[0]["repeat"])  # the repeat that failed, as every view must name it
    summary = run.summary().to_dict("records")
    assert refund_rows(summary, "turn", "expectation") == {(2, 1), (2, 2)}
    flaky = run.flaky().to_dict("records")
    assert refund_rows(flaky, "position", "turn", "expectation") == {(2, 2, 2)}
    rates = run.pass_rates()
    assert dict(zip(rates["scenario"], rates["position"], strict=True)) == {
        "Greets": 1, "Refunds": 2,
    }  # fmt: skip
    attempts = run.attempts().to_dict("records")
    assert refund_rows(attempts, "position", "repeat") == {(2, 1), (2, 2)}
    assert [int(a["repeat"]) for a in attempts if a["status"] == "failed"] == [repeat]

    # The transcript, asked for with the numbers the frames show; the old 0-based call refused.
    shown = run.transcript(position=2, repeat=repeat)
    assert [turn["turn"] for turn in shown["turns"]] == [1, 2]
    checks = shown["turns"][1]["expectations"]
    assert [(c["expectation"], c["status"]) for c in checks] == [(1, "PASSED"), (2, "FAILED")]
    assert wb.runs.transcript(run.id, position=2, repeat=repeat) == shown
    with pytest.raises(ValidationError, match="repeats count from 1"):
        run.transcript(position=2, repeat=0)
    with pytest.raises(ValidationError, match="positions count from 1"):
        run.transcript(position=0, repeat=1)

    # Comparison with a run where everything passed.
    diff = run.compare(baseline)
    moved = diff[diff["scenario"] == "Refunds"]
    assert list(zip(moved["turn"], moved["expectation"], moved["change"], strict=True)) == [
        (2, 1, "still_passing"), (2, 2, "newly_flaky"),
    ]  # fmt: skip

    # Exports: JSON, CSV, the run's JUnit and the CLI's.
    document = json.loads(run.to_json())["results"]
    assert refund_rows(document, "turn", "expectation", "repeat") == refund_rows(
        results, "turn", "expectation", "repeat"
    )
    lines = list(csv.DictReader(io.StringIO(run.to_csv())))
    assert refund_rows(lines, "turn", "expectation", "repeat") == refund_rows(
        results, "turn", "expectation", "repeat"
    )
    junit = ET.fromstring(run.to_junit().split("\n", 1)[1])
    cases = {case.get("name"): case for case in junit.iter("testcase")}
    assert {"Refunds [repeat 1]", "Refunds [repeat 2]"} <= set(cases)
    failure = cases[f"Refunds [repeat {repeat}]"].find("failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith("turn 2 expectation 2 MUST_CONTAIN:")
    write_junit(run.frame(), str(tmp_path / "cli.xml"), name="Numbers")
    cli = ET.parse(tmp_path / "cli.xml").getroot()
    [cli_failure] = [case for case in cli.iter("testcase") if case.find("failure") is not None]
    assert cli_failure.get("name") == f"turn 2 expectation 2 MUST_CONTAIN repeat {repeat}"
    message = cli_failure.find("failure").get("message") or ""  # type: ignore[union-attr]
    assert f"(scenario 'Refunds', turn 2, expectation 2, repeat {repeat})" in message

    # The RunViewer and the Runs tab's comparison, as they read on screen.
    viewer = RunViewer(run)
    labels = [label for label, _ in viewer.attempt_list.options]
    assert f"✗ Refunds [repeat {repeat}] failed" in labels
    assert f"✓ Refunds [repeat {3 - repeat}] passed" in labels
    viewer.select(2, repeat)
    on_screen = text_of(viewer.transcript.value)
    assert f"Refunds: failed (position 2, repeat {repeat})" in on_screen
    assert "Turn 1 user: I want a refund" in on_screen
    assert f"Turn 2 assistant: {FAILING}" in on_screen
    assert "expectation 2 · MUST_CONTAIN refund: FAILED" in on_screen
    with pytest.raises(ValidationError, match="repeats count from 1"):
        viewer.select(2, 0)
    table = Cells()
    table.feed(comparison_html(diff))
    assert ["Refunds", "2", "2", "MUST_CONTAIN", "newly_flaky"] in [row[:5] for row in table.rows]
