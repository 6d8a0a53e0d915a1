"""ReviewWidget (issue 26) in JupyterLab, headless Chromium: five items labelled from the
keyboard, the page reloaded, the labels still there and the widget resumed after them.

The run is played here (offline provider, real database); the notebook only opens its queue.
How long each key took to show the next item is printed (bench/bench_review.py measures it at
10,000 items); tests assert no wall-clock times.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

import workbench
from tests.browser.conftest import LabServer, run_notebook_in_lab, widget_html, write_notebook
from tests.browser.test_lab_widgets import workbench_cell
from tests.conftest import insert_user
from tests.runs.conftest import make_setup
from workbench.db.engine import Database
from workbench.handle import Workbench
from workbench.services.scenarios.types import expect as expect_turn
from workbench.services.scenarios.types import semantic, user

pytestmark = pytest.mark.browser

REVIEW_CELL = """\
q = wb.reviews.queue({run_id!r}, only="semantic")
workbench.ReviewWidget(q)
"""


def played_run(wb: Workbench) -> str:
    made = make_setup(wb, {"Refunds": [user("refund?"), expect_turn(semantic("It helps"))]})
    run = wb.runs.start(
        suite=made.suite_id, prompt=made.prompt_id, target=workbench.offline(), repeats=8,
        progress=False,
    ).wait(60)  # fmt: skip
    return str(run.id)


def test_five_items_labelled_with_the_keyboard_survive_a_reload(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    person = insert_user(committed_db, name="Lovelace")
    wb = Workbench(committed_db, person)
    run_id = played_run(wb)
    cells = [workbench_cell(person), REVIEW_CELL.format(run_id=run_id)]
    notebook = write_notebook(lab_server, "review.ipynb", cells)
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    position = widget_html(page).filter(has_text="labelled")
    expect(position).to_contain_text("Item 1 of 8 · 0 labelled")
    expect(widget_html(page).filter(has_text="Judge")).to_contain_text("PASSED · score 1")
    expect(widget_html(page).filter(has_text="assistant")).to_contain_text("user: refund?")
    page.locator('.widget-text input[placeholder^="type here"]').click()
    waits = []
    for number, key in enumerate("pfupf", start=1):
        started = time.perf_counter()
        page.keyboard.press(key)
        expect(position).to_contain_text(f"Item {number + 1} of 8 · {number} labelled")
        waits.append(time.perf_counter() - started)
    print("key to next item (s):", ", ".join(f"{w:.3f}" for w in waits))

    labels = wb.reviews.queue(run_id, only="semantic").frame()["label"].fillna("-")
    assert list(labels) == ["pass", "fail", "unsure", "pass", "fail", "-", "-", "-"]

    page.reload()
    run_notebook_in_lab(page, lab_server, notebook)
    position = widget_html(page).filter(has_text="labelled")
    expect(position).to_contain_text("Item 6 of 8 · 5 labelled")  # resumed after them
    page.locator('.widget-text input[placeholder^="type here"]').click()
    page.keyboard.press("b")
    expect(position).to_contain_text("Item 5 of 8 · 5 labelled")
    expect(widget_html(page).filter(has_text="Your label")).to_contain_text("Your label: fail")
