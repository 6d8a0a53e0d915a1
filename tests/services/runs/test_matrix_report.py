"""m.report(path) (issue 23): one self-contained HTML file; every user text escaped.

The scenario, the user's text and the model's reply all carry markup and URLs; the page must
show them as text, load nothing and run nothing. (tests/browser/test_matrix_report_browser.py
opens the same kind of page in headless Chromium.)
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import workbench
from tests.conftest import insert_user
from tests.runs.conftest import make_setup
from workbench.db.engine import Database
from workbench.handle import Workbench
from workbench.services.scenarios.types import expect, must_contain, user

HOSTILE_NAME = "<script>alert('name')</script> & \"quoted\""
HOSTILE_TEXT = "<img src=https://evil.example/x.png onerror=alert(1)> hi"
HOSTILE_REPLY = "<a href='https://evil.example/'>click</a></pre><script>alert(2)</script>"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def hostile_matrix(wb: Workbench) -> Any:
    make_setup(
        wb,
        {
            HOSTILE_NAME: [user(HOSTILE_TEXT), expect(must_contain("hello there"))],
            "Fine": [user("ok"), expect(must_contain("ok"))],
        },
    )
    good = workbench.offline([("hi", "hello there"), ("ok", "ok")], model="good")
    bad = workbench.offline([("hi", HOSTILE_REPLY), ("ok", "ok")], model="bad")
    m = wb.runs.matrix(suite="Smoke", prompts=["Support"], targets=[good, bad], repeats=2,
                       baseline=("Support", good))  # fmt: skip
    return m.wait(60)


@pytest.fixture
def report(committed_db: Database, tmp_path: Path) -> Path:
    wb = Workbench(committed_db, insert_user(committed_db))
    m = hostile_matrix(wb)
    return Path(m.report(tmp_path / "report.html"))


def test_the_report_is_one_file_that_loads_nothing_and_runs_nothing(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    parsed = Tags()
    parsed.feed(page)
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "img", "a", "link", "iframe", "object", "embed", "b"}
    attributes = [name for _, attrs in parsed.tags for name, _value in attrs]
    assert set(attributes) <= {"charset", "class", "open"}  # no src, href, on* handlers
    assert "http" not in "".join(str(v) for _, attrs in parsed.tags for _, v in attrs)
    assert report.stat().st_size < 5_000_000


def test_every_user_text_is_shown_as_text(report: Path) -> None:
    parsed = Tags()
    parsed.feed(report.read_text(encoding="utf-8"))
    text = "".join(parsed.text)
    for hostile in (HOSTILE_NAME, HOSTILE_TEXT, HOSTILE_REPLY):
        assert hostile in text


def test_the_report_holds_the_matrix_the_comparison_and_the_failures(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert "<h2>Cells</h2>" in page and "Compared with the baseline: Support x good" in page
    assert "McNemar" in page
    assert "2 failing or errored attempt(s)" in page  # the bad cell, 2 repeats of 1 scenario
    assert "No failing attempt." in page  # the good cell
    assert (
        "worse (1): "
        + HOSTILE_NAME.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
        in page
    )
