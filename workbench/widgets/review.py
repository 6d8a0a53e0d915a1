"""`ReviewWidget(q)`: label a review queue one item at a time, from the keyboard.

    q = wb.reviews.queue(run, only="semantic", sample=100, seed=1)
    workbench.ReviewWidget(q)

Each item shows the conversation up to the reply checked, the expectation, and the judge's
verdict with its score and reasoning. Click the key box (or any button) and type: p pass,
f fail, u unsure (each labels and moves on), n next, b back, c comment (Enter saves it). It
opens at the first item without a label, so a queue made again resumes where you left off.

A view over `wb.reviews` only. Items are read once and kept; after an item is shown, the next
one is read at once, so a key press shows it from memory. Every part is a public attribute,
and `press(key)` does what a key does, so the widget is driven from Python in tests.
"""

from __future__ import annotations

import contextlib
import html
from typing import Any

from ipywidgets import HTML, Button, HBox, IntProgress, Label, Text, VBox

from workbench.errors import WorkbenchError
from workbench.widgets._common import show_status

PASSED_STYLE = "background:#e8f5e9;border-left:3px solid #2e7d32"
FAILED_STYLE = "background:#fde2e1;border-left:3px solid #b00020"
ERROR_STYLE = "background:#f3e5f5;border-left:3px solid #6a1b9a"
VERDICT_STYLES = {"PASSED": PASSED_STYLE, "FAILED": FAILED_STYLE, "ERROR": ERROR_STYLE}
LABEL_KEYS = {"p": "pass", "f": "fail", "u": "unsure"}
KEYS_HELP = "p pass · f fail · u unsure · n next · b back · c comment"


class ReviewWidget(VBox):  # type: ignore[misc]
    """One item of a review queue at a time; keys p/f/u/n/b/c (see the module docstring)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.position = HTML()
        self.progress = IntProgress(min=0, max=max(len(queue), 1), description="labelled")
        self.conversation = HTML()
        self.expectation = HTML()
        self.verdict = HTML()
        self.current_label = HTML()
        self.key_box = Text(placeholder=f"type here: {KEYS_HELP}", continuous_update=True)
        self.comment = Text(placeholder="comment, then Enter", continuous_update=False)
        self.comment.layout.display = "none"
        self.pass_button, self.fail_button, self.unsure_button = (
            Button(description=f"{name} ({key})") for key, name in LABEL_KEYS.items()
        )
        self.back_button = Button(description="back (b)")
        self.next_button = Button(description="next (n)")
        self.comment_button = Button(description="comment (c)")
        self.status = Label()
        buttons = [self.pass_button, self.fail_button, self.unsure_button, self.back_button,
                   self.next_button, self.comment_button]  # fmt: skip
        for button, key in zip(buttons, "pfubnc", strict=True):
            button.on_click(lambda _, key=key: self.press(key))
        self.key_box.observe(self._typed, names="value")
        self.comment.observe(self._commented, names="value")
        self._items: dict[int, Any] = {}  # index → ReviewItem, read once
        self._labels: dict[int, tuple[str | None, str | None]] = {}  # result id → (label, comment)
        for record in queue.frame().to_dict("records"):
            kept = (_text(record["label"]), _text(record["comment"]))
            self._labels[int(record["result_id"])] = kept
        # Resume at the first item without a label (the last one when all have one).
        waiting = (
            i for i, rid in enumerate(queue.result_ids) if self._labels.get(rid, (None,))[0] is None
        )
        self.index = next(waiting, max(len(queue) - 1, 0))
        super().__init__(
            [self.position, self.progress, self.conversation, self.expectation, self.verdict,
             self.current_label, self.key_box, self.comment, HBox(buttons), self.status]
        )  # fmt: skip
        self._show()

    def __repr__(self) -> str:
        return f"ReviewWidget({self.queue!r}, at item {self.index + 1})"

    # What the keys do.

    def press(self, key: str) -> None:
        """Do what `key` does: p, f, u label the item and move on; n, b move; c comments."""
        key = key.lower()
        if not len(self.queue):
            show_status(self.status, "The queue is empty.", error=True)
        elif key in LABEL_KEYS:
            self._label(LABEL_KEYS[key])
        elif key in ("n", "b"):
            self.go(self.index + (1 if key == "n" else -1))
        elif key == "c":
            self.comment.layout.display = None
            self.comment.focus()
        else:
            show_status(self.status, f"No key {key!r}: {KEYS_HELP}.", error=True)

    def go(self, index: int) -> None:
        """Show item `index` (0 is the first), kept within the queue."""
        self.index = min(max(index, 0), len(self.queue) - 1)
        self._show()

    @property
    def labelled(self) -> int:
        return sum(1 for label, _ in self._labels.values() if label is not None)

    # Internals.

    def _typed(self, change: dict[str, Any]) -> None:
        typed = change["new"]
        if not typed:
            return
        self.key_box.value = ""  # the box is a key pad: every key is taken, then cleared
        for key in typed:
            self.press(key)

    def _commented(self, change: dict[str, Any]) -> None:
        text = change["new"]
        if not text:
            return
        result_id = self.queue.result_ids[self.index]
        label = self._labels.get(result_id, (None, None))[0]
        if label is None:
            show_status(self.status, "Label the item first (p, f or u); then comment.", error=True)
            return
        if self._write(self.index, label, text):
            self._show()
            self.comment.value = ""
            self.comment.layout.display = "none"
            self.key_box.focus()

    def _label(self, label: str) -> None:
        """Show the next item first, then write: the write is off the key's path to the screen.
        A refused write brings the item back with the reason (nothing was stored)."""
        index, result_id = self.index, self.queue.result_ids[self.index]
        before = self._labels.get(result_id, (None, None))
        self._labels[result_id] = (label, before[1])
        if index < len(self.queue) - 1:
            self.index += 1
        self._show(read_ahead=False)
        if self._write(index, label, None):
            self._read_ahead()
            return
        self._labels[result_id] = before
        self.index = index
        self._show()

    def _write(self, index: int, label: str, comment: str | None) -> bool:
        result_id = self.queue.result_ids[index]
        try:
            stored = self.queue.label(index, label, comment=comment)
        except WorkbenchError as error:
            show_status(self.status, str(error), error=True)
            return False
        self._labels[result_id] = (stored.label, stored.comment)
        show_status(self.status, f"Item {index + 1:,}: {stored.label}")
        return True

    def _item(self, index: int) -> Any:
        found = self._items.get(index)
        if found is None:
            found = self._items[index] = self.queue.item(index)
        return found

    def _show(self, *, read_ahead: bool = True) -> None:
        if not len(self.queue):
            self.position.value = "<b>Nothing to review</b>"
            return
        item = self._item(self.index)
        label, comment = self._labels.get(item.result_id, (None, None))
        self.position.value = (
            f"<b>Item {self.index + 1:,} of {len(self.queue):,}</b> · {self.labelled:,} labelled · "
            f"{html.escape(item.scenario)}, repeat {item.repeat}, turn {item.turn}, "
            f"expectation {item.expectation}"
        )
        self.progress.value = self.labelled
        self.conversation.value = conversation_html(item.conversation)
        self.expectation.value = (
            f"<b>Expectation</b> {html.escape(item.type)}: {html.escape(item.expected or '')}"
        )
        self.verdict.value = verdict_html(item)
        self.current_label.value = label_html(label, comment)
        if read_ahead:
            self._read_ahead()

    def _read_ahead(self) -> None:
        """Read the next item now, while the person reads this one: the next key shows it."""
        if self.index + 1 < len(self.queue):
            with contextlib.suppress(WorkbenchError):  # its error is shown when it is reached
                self._item(self.index + 1)


def conversation_html(messages: Any) -> str:
    rows = "".join(
        f'<div style="margin:2px 0"><b>{html.escape(role)}</b>: '
        f'<span style="white-space:pre-wrap">{html.escape(text)}</span></div>'
        for role, text in messages
    )
    return f'<div style="border:1px solid #ddd;padding:4px">{rows}</div>'


def verdict_html(item: Any) -> str:
    style = VERDICT_STYLES.get(item.judge_outcome, "")
    parts = [f"<b>Judge</b>: {html.escape(item.judge_outcome)}"]
    if item.judge_score is not None:
        parts.append(f"score {item.judge_score:g}")
    said = item.judge_reasoning or item.error
    reason = f"<div>{html.escape(said)}</div>" if said else ""
    return f'<div style="{style};padding:4px">{" · ".join(parts)}{reason}</div>'


def label_html(label: str | None, comment: str | None) -> str:
    if label is None:
        return "<i>Your label: none yet</i>"
    said = f" · “{html.escape(comment)}”" if comment else ""
    return f"<b>Your label: {html.escape(label)}</b>{said}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
