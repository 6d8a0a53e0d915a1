"""The turn widgets of `ScenarioEditor`: a USER turn's text area, an EXPECT turn's expectations.

Each row turns itself into a spec (`TurnRow.spec()`, `ExpectationRow.spec()`) and shows the
problems a save found at its position; the editor owns the list and the order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipywidgets import (
    HTML,
    BoundedFloatText,
    Button,
    Checkbox,
    Dropdown,
    HBox,
    Label,
    Layout,
    TagsInput,
    Text,
    Textarea,
    VBox,
)

from workbench.db.enums import ExpectationType, ScenarioTurnType
from workbench.services.scenarios.types import (
    DEFAULT_SEMANTIC_THRESHOLD,
    ExpectationSpec,
    TurnSpec,
)
from workbench.widgets._common import problems_html

Changed = Callable[[Any], None]
_SMALL = Layout(width="auto")
_TAKES_VALUE = {
    ExpectationType.MUST_CONTAIN,
    ExpectationType.MUST_NOT_CONTAIN,
    ExpectationType.REGEX,
    ExpectationType.SEMANTIC_ASSERT,
}
_CASE_APPLIES = _TAKES_VALUE - {ExpectationType.SEMANTIC_ASSERT} | {
    ExpectationType.MUST_CONTAIN_ANY
}


class ExpectationRow(VBox):  # type: ignore[misc]
    """One expectation: a type, and only the fields that type uses."""

    def __init__(self, spec: ExpectationSpec, on_change: Changed) -> None:
        super().__init__(layout=Layout(margin="0 0 4px 24px"))
        kind = spec.type if isinstance(spec.type, ExpectationType) else ExpectationType.MUST_CONTAIN
        self.type = Dropdown(options=[t.value for t in ExpectationType], value=kind.value)
        self.value = Text(value=spec.value or "", placeholder="text, pattern or statement")
        self.values = TagsInput(value=list(spec.values), allow_duplicates=False)
        self.case_sensitive = Checkbox(
            value=bool(spec.case_sensitive), description="case-sensitive"
        )
        threshold = spec.threshold if spec.threshold is not None else DEFAULT_SEMANTIC_THRESHOLD
        self.threshold = BoundedFloatText(
            value=threshold, min=0.0, max=1.0, step=0.05, description="threshold"
        )
        self.delete_button = Button(description="Remove", icon="times", layout=_SMALL)
        self.problems = HTML("")
        self._line = HBox()
        for part in (self.type, self.value, self.values, self.case_sensitive, self.threshold):
            part.observe(on_change, names="value")
        self.type.observe(lambda _c: self._show_fields(), names="value")
        self._show_fields()
        self.children = [self._line, self.problems]

    @property
    def kind(self) -> ExpectationType:
        return ExpectationType(self.type.value)

    def _show_fields(self) -> None:
        kind = self.kind
        parts: list[Any] = [self.type]
        parts.append(self.value if kind in _TAKES_VALUE else self.values)
        if kind in _CASE_APPLIES:
            parts.append(self.case_sensitive)
        if kind is ExpectationType.SEMANTIC_ASSERT:
            parts.append(self.threshold)
        self._line.children = [*parts, self.delete_button]

    def spec(self) -> ExpectationSpec:
        """What the fields say, with only the type's own fields set."""
        kind = self.kind
        return ExpectationSpec(
            kind,
            value=self.value.value if kind in _TAKES_VALUE else None,
            values=tuple(self.values.value) if kind is ExpectationType.MUST_CONTAIN_ANY else (),
            case_sensitive=bool(self.case_sensitive.value) if kind in _CASE_APPLIES else False,
            threshold=float(self.threshold.value)
            if kind is ExpectationType.SEMANTIC_ASSERT
            else None,
        )

    def show_problems(self, messages: list[str]) -> None:
        self.problems.value = problems_html(messages)


class TurnRow(VBox):  # type: ignore[misc]
    """One turn with its buttons: move up or down, delete, add a USER or EXPECT turn after it."""

    def __init__(self, spec: TurnSpec, on_change: Changed) -> None:
        super().__init__(layout=Layout(border="1px solid #ddd", padding="4px", margin="2px 0"))
        self.kind = spec.type if isinstance(spec.type, ScenarioTurnType) else ScenarioTurnType.USER
        self._on_change = on_change
        self.header = Label()
        self.up_button = Button(description="Up", icon="arrow-up", layout=_SMALL)
        self.down_button = Button(description="Down", icon="arrow-down", layout=_SMALL)
        self.delete_button = Button(description="Delete turn", icon="trash", layout=_SMALL)
        self.add_user_button = Button(description="+ USER after", layout=_SMALL)
        self.add_expect_button = Button(description="+ EXPECT after", layout=_SMALL)
        self.problems = HTML("")
        self.text = Textarea(value=spec.text or "", placeholder="What the user says")
        self.text.layout.width = "90%"
        self.expectations: list[ExpectationRow] = []
        self.add_expectation_button = Button(description="+ expectation", layout=_SMALL)
        self._expectation_box = VBox()
        self.add_expectation_button.on_click(lambda _b: self.add_expectation())
        buttons = HBox(
            [
                self.header,
                self.up_button,
                self.down_button,
                self.delete_button,
                self.add_user_button,
                self.add_expect_button,
            ]
        )
        if self.kind is ScenarioTurnType.USER:
            self.text.observe(on_change, names="value")
            body: list[Any] = [self.text]
        else:
            for item in spec.expectations:
                self._append(item)
            body = [self._expectation_box, self.add_expectation_button]
        self.children = [buttons, *body, self.problems]

    def set_position(self, index: int) -> None:
        self.header.value = f"Turn {index + 1} · {self.kind.value}"

    def add_expectation(self, spec: ExpectationSpec | None = None) -> ExpectationRow:
        """Add an expectation at the end (MUST_CONTAIN, empty, unless `spec` is given)."""
        row = self._append(spec or ExpectationSpec(ExpectationType.MUST_CONTAIN, value=""))
        self._on_change(None)
        return row

    def _append(self, spec: ExpectationSpec) -> ExpectationRow:
        row = ExpectationRow(spec, self._on_change)
        row.delete_button.on_click(lambda _b: self.remove_expectation(row))
        self.expectations.append(row)
        self._expectation_box.children = list(self.expectations)
        return row

    def remove_expectation(self, row: ExpectationRow) -> None:
        self.expectations.remove(row)
        self._expectation_box.children = list(self.expectations)
        row.close()
        self._on_change(None)

    def spec(self) -> TurnSpec:
        if self.kind is ScenarioTurnType.USER:
            return TurnSpec(ScenarioTurnType.USER, text=self.text.value)
        return TurnSpec(
            ScenarioTurnType.EXPECT, expectations=tuple(row.spec() for row in self.expectations)
        )

    def show_problems(self, messages: list[str]) -> None:
        self.problems.value = problems_html(messages)

    def clear_problems(self) -> None:
        self.problems.value = ""
        for row in self.expectations:
            row.problems.value = ""
