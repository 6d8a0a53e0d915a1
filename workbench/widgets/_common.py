"""What the editors share: status messages, inline problems, a confirmed delete, a plain repr."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from ipywidgets import HTML, Button, HBox, Label

ERROR_COLOR = "#b00020"
MISSING_COLOR = "#fde2e1"


def show_status(label: Label, message: str, *, error: bool = False) -> None:
    """Put `message` in `label`, red when it is an error (and back to normal when not)."""
    label.value = message
    label.style.text_color = ERROR_COLOR if error else None


def problems_html(messages: Iterable[str]) -> str:
    """Problems as a small red list beside the field they name (escaped: they quote input)."""
    items = "".join(f"<li>{html.escape(message)}</li>" for message in messages)
    if not items:
        return ""
    return f'<ul style="color:{ERROR_COLOR};margin:0;padding-left:1.2em">{items}</ul>'


def problem_widget() -> HTML:
    """An empty HTML widget that holds a field's problems once a save finds some."""
    return HTML("")


class PlainRepr:
    """A one-line text form for IPython's pretty printer (ipywidgets uses `__repr__` for
    text/plain, which is what a notebook without a kernel, and nbval, shows)."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class ConfirmedDelete(HBox):  # type: ignore[misc]
    """A Delete button that asks first: Delete → "Really delete?" Yes / Cancel.

    `on_confirm` runs only after Yes, so one stray click never deletes anything.
    """

    def __init__(self, on_confirm: Callable[[], None], *, what: str = "it") -> None:
        super().__init__()
        self.delete_button = Button(description="Delete", icon="trash", button_style="danger")
        self.question = Label(f"Delete {what}?")
        self.confirm_button = Button(description="Yes, delete", button_style="danger")
        self.cancel_button = Button(description="Cancel")
        self._on_confirm = on_confirm
        self.delete_button.on_click(lambda _b: self._ask(True))
        self.cancel_button.on_click(lambda _b: self._ask(False))
        self.confirm_button.on_click(self._confirm)
        self.children = [self.delete_button]

    @property
    def asking(self) -> bool:
        return self.confirm_button in self.children

    def _ask(self, asking: bool) -> None:
        self.children = (
            [self.question, self.confirm_button, self.cancel_button]
            if asking
            else [self.delete_button]
        )

    def _confirm(self, _button: Button) -> None:
        self._ask(False)
        self._on_confirm()
