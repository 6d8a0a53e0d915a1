"""A matrix report (issue 23) opened in headless Chromium: nothing loads, nothing runs, the
hostile texts read as text, and the transcripts open."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.conftest import insert_user
from tests.services.runs.test_matrix_report import (
    HOSTILE_NAME,
    HOSTILE_REPLY,
    HOSTILE_TEXT,
    hostile_matrix,
)
from workbench.db.engine import Database
from workbench.handle import Workbench


def test_the_report_renders_offline_and_runs_nothing(
    chromium: Browser, committed_db: Database, tmp_path: Path
) -> None:
    m = hostile_matrix(Workbench(committed_db, insert_user(committed_db)))
    path = m.report(tmp_path / "report.html")
    context = chromium.new_context(java_script_enabled=True)
    page = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        assert requests == [path.as_uri()] and dialogs == []
        assert page.locator("h1").inner_text() == "Matrix on Smoke"
        assert page.locator("table").count() == 2  # the cells and the comparison
        page.locator("summary").first.click()  # a failing attempt's transcript opens
        shown = page.locator("details").first.inner_text()
        assert HOSTILE_TEXT in shown and HOSTILE_REPLY in shown
        assert HOSTILE_NAME in page.locator("body").inner_text()
        assert page.locator("script, img, a").count() == 0
    finally:
        context.close()
