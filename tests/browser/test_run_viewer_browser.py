"""RunViewer (issue 12) in JupyterLab, headless Chromium: counts, the failed filter, a transcript.

The notebook plays a real run with the offline provider in the lab's kernel; the browser only
clicks the viewer's widgets, and the checks read what the page shows.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LabServer, run_notebook_in_lab, widget_html, write_notebook
from tests.browser.test_lab_widgets import workbench_cell
from tests.conftest import insert_user
from workbench.db.engine import Database

pytestmark = pytest.mark.browser

RUN_CELL = """\
from workbench import ScenarioCreate, expect, must_contain, user

ids = [
    wb.scenarios.create(ScenarioCreate(name=name, turns=[user(w), expect(must_contain(w))])).id
    for name, w in [("Greets", "hello"), ("Refunds", "refund")]
]
suite = wb.suites.create(name="Smoke", scenario_ids=ids)
prompt = wb.prompts.create(name="Support", content="Be kind.")
# The offline model always greets: "Greets" passes, "Refunds" fails its MUST_CONTAIN.
greeter = workbench.offline(default="hello there")
run = wb.runs.start(suite=suite.id, prompt=prompt.id, target=greeter, progress=False).wait(60)
workbench.RunViewer(run)
"""


def test_the_failed_filter_lists_the_failing_attempt_and_its_transcript_highlights_it(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Hopper")
    notebook = write_notebook(lab_server, "run_viewer.ipynb", [workbench_cell(user), RUN_CELL])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    counts = widget_html(page).filter(has_text="attempts:")
    expect(counts).to_contain_text("2/2 attempts: 1 passed, 1 failed, 0 errored")
    attempts = page.locator(".widget-select select option")
    expect(attempts).to_have_count(2)

    page.locator(".widget-toggle-button", has_text="failed").click()
    expect(attempts).to_have_count(1)
    expect(attempts).to_have_text("✗ Refunds [repeat 1] failed")  # numbered from 1

    page.locator(".widget-select select").select_option(index=0)
    transcript = widget_html(page).filter(has_text="Refunds: failed")
    expect(transcript).to_contain_text("Refunds: failed (position 2, repeat 1)")
    # Turns numbered as the scenario editor numbers them: the reply is "Turn 2".
    expect(transcript).to_contain_text("Turn 1 user: refund")
    expect(transcript).to_contain_text("Turn 2 assistant: hello there")
    failing = transcript.locator("li", has_text="expectation 1 · MUST_CONTAIN refund: FAILED")
    expect(failing).to_be_visible()
    expect(failing).to_have_css("background-color", "rgb(253, 226, 225)")  # FAILED_STYLE
