"""What the editors share: status messages, inline problems, a confirmed delete, a plain repr."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from typing import Any

from ipywidgets import HTML, Button, ButtonStyle, HBox, Label, Layout
from ipywidgets.widgets.widget_bool import CheckboxStyle
from ipywidgets.widgets.widget_description import DescriptionStyle
from ipywidgets.widgets.widget_string import HTMLStyle, LabelStyle, TextStyle

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


_PROBLEM_ITEM = re.compile(r"<li>(.*?)</li>", re.DOTALL)


def problem_texts(box: HTML) -> list[str]:
    """What a problems box shows (`problems_html`), as plain text, one line per problem."""
    return [html.unescape(item) for item in _PROBLEM_ITEM.findall(box.value)]


def problem_widget() -> HTML:
    """An empty HTML widget that holds a field's problems once a save finds some."""
    return HTML("")


class _Shared:
    """Layouts and styles that rows share, made once (on first use, not at import).

    Building a widget serialises its state, its layout's and its style's: sharing the layout
    and style objects (never changed per row) makes a row of widgets about 3x cheaper."""

    def __init__(self) -> None:
        self.plain = Layout()
        self.button = Layout(width="auto", flex="0 0 auto")  # never squeezed to "Rem..."
        self.text_area = Layout(width="90%")
        self.turn = Layout(border="1px solid #ddd", padding="4px", margin="2px 0")
        self.expectation = Layout(margin="0 0 4px 24px")
        self.wide_label = Layout(width="60%")
        # Rows that wrap instead of squeezing their buttons to "Remo..." on a narrow page.
        self.wrapping = Layout(flex_flow="row wrap", align_items="center")
        self.fixed = Layout(width="auto", flex="0 0 auto")
        self.value_area = Layout(width="95%", min_height="2.6em")
        self.threshold = Layout(width="14em", flex="0 0 auto")
        self.chips = Layout(flex_flow="row wrap", align_items="center")
        self.chip = Layout(margin="0 6px 2px 0", flex="0 0 auto")
        self.chip_label = Layout(width="auto", max_width="36em", margin="0")
        self.chip_cross = Layout(width="30px", padding="0", margin="0")
        self.chip_entry = Layout(width="14em", margin="0 0 2px 0")
        self.button_style = ButtonStyle()
        self.text_style = TextStyle()
        self.description_style = DescriptionStyle()
        self.checkbox_style = CheckboxStyle()
        self.label_style = LabelStyle()
        self.html_style = HTMLStyle()


_shared: _Shared | None = None


def shared() -> _Shared:
    global _shared
    if _shared is None:
        _shared = _Shared()
    return _shared


def small_button(description: str, icon: str = "") -> Button:
    s = shared()
    return Button(description=description, icon=icon, layout=s.button, style=s.button_style)


def problems_box() -> HTML:
    s = shared()
    return HTML("", layout=s.plain, style=s.html_style)


class PlainRepr:
    """A one-line text form for IPython's pretty printer (ipywidgets uses `__repr__` for
    text/plain, which is what a notebook without a kernel, and nbval, shows)."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class ConfirmedDelete(HBox):  # type: ignore[misc]
    """A Delete button that asks first: Delete → "Delete X?" Yes / Cancel.

    `on_confirm` runs only after Yes, so one stray click never deletes anything. The question's
    widgets are built on the first click: a page of rows mostly never asks.
    """

    def __init__(self, on_confirm: Callable[[], None], *, what: str = "it") -> None:
        s = shared()
        super().__init__(layout=s.plain)
        self.delete_button = Button(
            description="Delete",
            icon="trash",
            button_style="danger",
            layout=s.button,
            style=s.button_style,
        )
        self._what = what
        self._question: tuple[Label, Button, Button] | None = None
        self._on_confirm = on_confirm
        self.delete_button.on_click(lambda _b: self._ask(True))
        self.children = [self.delete_button]

    def _parts(self) -> tuple[Label, Button, Button]:
        if self._question is None:
            s = shared()
            confirm = Button(description="Yes, delete", button_style="danger", layout=s.button)
            cancel = Button(description="Cancel", layout=s.button)
            confirm.on_click(self._confirm)
            cancel.on_click(lambda _b: self._ask(False))
            self._question = (Label(f"Delete {self._what}?"), confirm, cancel)
        return self._question

    @property
    def question(self) -> Label:
        return self._parts()[0]

    @property
    def confirm_button(self) -> Button:
        return self._parts()[1]

    @property
    def cancel_button(self) -> Button:
        return self._parts()[2]

    @property
    def asking(self) -> bool:
        return self._question is not None and self.confirm_button in self.children

    def _ask(self, asking: bool) -> None:
        self.children = list(self._parts()) if asking else [self.delete_button]

    def _confirm(self, _button: Button) -> None:
        self._ask(False)
        self._on_confirm()
