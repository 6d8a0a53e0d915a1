"""ReviewWidget (issue 26), driven in Python as a person would: keys, buttons, comments,
progress, resuming where the labels left off, the next item read before it is asked for."""

from __future__ import annotations

import html
import re

import pytest

import workbench
from tests.services.reviews.conftest import play
from workbench.handle import Workbench
from workbench.widgets.review import ReviewWidget


def text(part: object) -> str:
    """What an HTML part shows, as text."""
    return html.unescape(re.sub(r"<[^>]+>", "", part.value))  # type: ignore[attr-defined]


@pytest.fixture
def queue(wb: Workbench) -> object:
    return wb.reviews.queue(play(wb), only="semantic", sample=5, seed=3)


def test_keys_label_move_and_comment(wb: Workbench, queue: object) -> None:
    widget = workbench.ReviewWidget(queue)
    assert isinstance(widget, ReviewWidget) and widget.index == 0
    assert "Item 1 of 5" in text(widget.position) and "0 labelled" in text(widget.position)
    assert (
        text(widget.conversation) == "user: Can I get a refund?assistant: echo: Can I get a refund?"
    )
    assert "SEMANTIC_ASSERT: It states the window" in text(widget.expectation)
    assert "stand-in verdict" in text(widget.verdict) and "score" in text(widget.verdict)
    assert "none yet" in text(widget.current_label)

    widget.key_box.value = "p"  # typing in the key box: the key is taken and the box cleared
    assert widget.key_box.value == "" and widget.index == 1 and widget.progress.value == 1
    widget.key_box.value = "f"
    widget.press("u")
    assert widget.index == 3 and widget.labelled == 3
    widget.press("b")
    assert widget.index == 2 and "Your label: unsure" in text(widget.current_label)
    widget.press("c")
    assert widget.comment.layout.display is None  # the comment box is shown
    widget.comment.value = "could be either"
    assert "“could be either”" in text(widget.current_label)
    assert widget.comment.layout.display == "none" and widget.comment.value == ""
    widget.press("n")
    widget.press("n")
    assert widget.index == 4
    widget.press("n")  # past the end: stays on the last item
    assert widget.index == 4

    frame = queue.frame()  # type: ignore[attr-defined]
    assert list(frame["label"].fillna("-")) == ["pass", "fail", "unsure", "-", "-"]
    assert frame["comment"].iloc[2] == "could be either"


def test_buttons_do_what_keys_do_and_bad_keys_are_said(queue: object) -> None:
    widget = ReviewWidget(queue)
    widget.fail_button.click()
    widget.back_button.click()
    assert widget.index == 0 and "Your label: fail" in text(widget.current_label)
    widget.press("x")
    assert "No key 'x'" in widget.status.value
    widget.next_button.click()
    widget.comment_button.click()
    widget.comment.value = "no label yet"
    assert "Label the item first" in widget.status.value  # nothing written
    assert queue.frame()["label"].isna().sum() == 4  # type: ignore[attr-defined]


def test_it_resumes_at_the_first_unlabelled_item_and_reads_ahead(
    wb: Workbench, queue: object
) -> None:
    first = ReviewWidget(queue)
    for key in "ppf":
        first.press(key)
    again = wb.reviews.queue(queue.result_ids)  # type: ignore[attr-defined]
    resumed = ReviewWidget(again)
    assert resumed.index == 3 and resumed.progress.value == 3
    assert "Item 4 of 5" in text(resumed.position) and "3 labelled" in text(resumed.position)
    assert set(resumed._items) == {3, 4}  # the next item is read before it is asked for
    resumed.press("b")
    assert "Your label: fail" in text(resumed.current_label)


def test_a_long_comment_is_refused_in_the_status_line(queue: object) -> None:
    widget = ReviewWidget(queue)
    widget.press("p")
    widget.press("b")
    widget.press("c")
    widget.comment.value = "x" * 2001
    assert "at most 2,000" in widget.status.value
    assert widget.comment.layout.display is None  # still open, to shorten it


def test_a_refused_write_brings_the_item_back_and_stores_nothing(
    wb: Workbench, queue: object
) -> None:
    widget = ReviewWidget(queue)  # item 1 shown, item 2 read ahead
    wb.sign_out()
    widget.press("p")  # item 2 is shown at once, then the write is refused
    assert widget.index == 0 and widget.labelled == 0
    assert "signed out" in widget.status.value
    assert "none yet" in text(widget.current_label)
