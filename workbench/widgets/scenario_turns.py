"""The turn widgets of `ScenarioEditor`: a USER turn's text area, an EXPECT turn's expectations.

Each row turns itself into a spec (`TurnRow.spec()`, `ExpectationRow.spec()`) and shows the
problems a save found at its position; the editor owns the list and the order.

Widgets are costly to build (each one serialises its state for the front end, ~0.4-1 ms here),
so rows share their layout and style objects (none is ever changed per row) and an expectation
builds only the fields its type uses, the others on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ipywidgets import HTML, BoundedFloatText, Checkbox, Dropdown, HBox, Label, Textarea, VBox

from workbench.db.enums import ExpectationType, ScenarioTurnType
from workbench.services.scenarios.simulated import judge_conversation, simulated_user
from workbench.services.scenarios.types import (
    DEFAULT_SEMANTIC_THRESHOLD,
    ExpectationSpec,
    TurnSpec,
)
from workbench.widgets._common import (
    problem_texts,
    problems_box,
    problems_html,
    shared,
    small_button,
)
from workbench.widgets.chips import ChipsInput
from workbench.widgets.scenario_simulated import NOTE, SimulatedFields
from workbench.widgets.scenario_tool_checks import ToolCheckRow, ToolChecks

Changed = Callable[[Any], None]
_TAKES_VALUE = {
    ExpectationType.MUST_CONTAIN,
    ExpectationType.MUST_NOT_CONTAIN,
    ExpectationType.REGEX,
    ExpectationType.SEMANTIC_ASSERT,
}
_CASE_APPLIES = (_TAKES_VALUE - {ExpectationType.SEMANTIC_ASSERT}) | {
    ExpectationType.MUST_CONTAIN_ANY
}
_TYPES = [t.value for t in ExpectationType]
_CRITERION = re.compile(r"criteria\[(\d+)\]")
SIMULATED, JUDGE = "SIMULATED", "JUDGE"
"""The kinds `ScenarioEditor.add_turn` takes beside USER and EXPECT (issue 21): a simulated-user
block (a USER turn played by a model toward its goal) and a judge_conversation turn."""


def new_turn(kind: ScenarioTurnType | str) -> TurnSpec:
    """The empty turn `add_turn(kind)` adds: USER an empty text, EXPECT one empty MUST_CONTAIN,
    SIMULATED a block with an empty goal (and `simulated_user`'s defaults), JUDGE one empty
    criterion. Added blocks are what a loaded one is (`simulated_user`, `judge_conversation`), so
    they are shown, checked and saved the same way."""
    name = str(kind.value if isinstance(kind, ScenarioTurnType) else kind).upper()
    if name == SIMULATED:
        return simulated_user("")
    if name == JUDGE:
        return judge_conversation("")
    if ScenarioTurnType(name) is ScenarioTurnType.USER:
        return TurnSpec(ScenarioTurnType.USER, text="")
    return TurnSpec(
        ScenarioTurnType.EXPECT,
        expectations=(ExpectationSpec(ExpectationType.MUST_CONTAIN, ""),),
    )


class ExpectationRow(VBox):  # type: ignore[misc]
    """One expectation: a type, and only the fields that type uses.

    The first line holds the type, the type's options and Remove (wrapping, never squeezing a
    button); below it the value, a text area (a SEMANTIC_ASSERT statement runs long), or the
    chips of MUST_CONTAIN_ANY."""

    def __init__(self, spec: ExpectationSpec, on_change: Changed) -> None:
        s = shared()
        super().__init__(layout=s.expectation)
        self._spec = spec
        self._on_change = on_change
        self._fields: dict[str, Any] = {}
        kind = spec.type if isinstance(spec.type, ExpectationType) else ExpectationType.MUST_CONTAIN
        self.type = Dropdown(
            options=_TYPES, value=kind.value, layout=s.plain, style=s.description_style
        )
        self.type.add_class("wb-expectation-type")  # for the browser tests' locators
        self.delete_button = small_button("Remove", "times")
        self.problems = problems_box()
        self._line = HBox(layout=s.wrapping)
        self.type.observe(on_change, names="value")
        self.type.observe(lambda _c: self._show_fields(), names="value")
        self._show_fields()

    def _field(self, name: str, make: Callable[[], Any]) -> Any:
        widget = self._fields.get(name)
        if widget is None:
            widget = self._fields[name] = make()
            widget.observe(self._on_change, names="value")
        return widget

    @property
    def value(self) -> Textarea:
        s = shared()
        return self._field(
            "value",
            lambda: Textarea(
                value=self._spec.value or "",
                placeholder="text, pattern or statement",
                rows=2,
                layout=s.value_area,
                style=s.text_style,
            ),
        )

    @property
    def values(self) -> ChipsInput:
        chips: ChipsInput = self._field(
            "values",
            lambda: ChipsInput(list(self._spec.values), placeholder="a value, then Enter"),
        )
        return chips

    @property
    def case_sensitive(self) -> Checkbox:
        s = shared()
        return self._field(
            "case_sensitive",
            lambda: Checkbox(
                value=bool(self._spec.case_sensitive),
                description="case-sensitive",
                indent=False,
                layout=s.fixed,
                style=s.checkbox_style,
            ),
        )

    @property
    def threshold(self) -> BoundedFloatText:
        s = shared()
        given = self._spec.threshold
        return self._field(
            "threshold",
            lambda: BoundedFloatText(
                value=given if given is not None else DEFAULT_SEMANTIC_THRESHOLD,
                min=0.0,
                max=1.0,
                step=0.05,
                description="threshold",
                layout=s.threshold,
                style=s.description_style,
            ),
        )

    @property
    def kind(self) -> ExpectationType:
        return ExpectationType(self.type.value)

    def _show_fields(self) -> None:
        kind = self.kind
        options: list[Any] = []
        if kind in _CASE_APPLIES:
            options.append(self.case_sensitive)
        if kind is ExpectationType.SEMANTIC_ASSERT:
            options.append(self.threshold)
        self._line.children = [self.type, *options, self.delete_button]
        wanted = self.value if kind in _TAKES_VALUE else self.values
        self.children = [self._line, wanted, self.problems]

    def shown(self) -> list[Any]:
        """The fields on show for the current type, in order (type first, Remove last)."""
        return [*self._line.children, *self.children[1:-1]]

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

    def close(self) -> None:
        for widget in (*self._fields.values(), self.type, self.delete_button, self.problems):
            widget.close()
        self._line.close()
        super().close()


class TurnRow(VBox):  # type: ignore[misc]
    """One turn with its buttons: move up or down, delete, add a USER or EXPECT turn after it."""

    def __init__(self, spec: TurnSpec, on_change: Changed) -> None:
        s = shared()
        super().__init__(layout=s.turn)
        self.kind = spec.type if isinstance(spec.type, ScenarioTurnType) else ScenarioTurnType.USER
        self._on_change = on_change
        self.header = Label(layout=s.plain, style=s.label_style)
        self.up_button = small_button("Up", "arrow-up")
        self.down_button = small_button("Down", "arrow-down")
        self.delete_button = small_button("Delete turn", "trash")
        self.add_user_button = small_button("+ USER after")
        self.add_expect_button = small_button("+ EXPECT after")
        self.problems = problems_box()
        self.expectations: list[ExpectationRow] = []
        self.tool_checks_box: ToolChecks | None = None  # an EXPECT turn's (scenario_tool_checks)
        self.simulated_fields: SimulatedFields | None = None  # issue 21: text area = goal
        self.conversation_judge = spec.conversation_judge
        buttons = HBox(
            [
                self.header,
                self.up_button,
                self.down_button,
                self.delete_button,
                self.add_user_button,
                self.add_expect_button,
            ],
            layout=s.wrapping,
        )
        body: list[Any]
        if self.kind is ScenarioTurnType.USER:
            self.text = Textarea(
                value=spec.simulated.goal if spec.simulated else spec.text or "",
                placeholder="The simulated user's goal" if spec.simulated else "What the user says",
                layout=s.text_area,
                style=s.text_style,
            )
            self.text.observe(on_change, names="value")
            body = [self.text]
            if spec.simulated is not None:
                fields = SimulatedFields(spec.simulated, on_change, ExpectationRow)
                self.simulated_fields = fields
                body = [HTML(NOTE), self.text, fields]
        else:
            # In a judge turn every expectation is a criterion: one more is a SEMANTIC_ASSERT.
            judged = spec.conversation_judge
            self.add_expectation_button = small_button("+ criterion" if judged else "+ expectation")
            self.add_expectation_button.on_click(lambda _b: self.add_expectation())
            self._expectation_box = VBox(layout=s.plain)
            for item in spec.expectations:
                self._append(item)
            self.tool_checks_box = ToolChecks(spec.tool_checks, on_change)
            body = [self._expectation_box, self.add_expectation_button, self.tool_checks_box]
            if spec.conversation_judge:
                note = "judge_conversation: each SEMANTIC_ASSERT is a criterion on the conversation"
                body.insert(0, HTML(f"<small>{note}</small>"))
        self.children = [buttons, *body, self.problems]

    @property
    def tool_checks(self) -> list[ToolCheckRow]:
        """An EXPECT turn's tool checks, after its expectations (as the service numbers them)."""
        return [] if self.tool_checks_box is None else self.tool_checks_box.rows

    def add_tool_check(self) -> ToolCheckRow:
        """Add a TOOL_CALLED check to fill in (an EXPECT turn's `+ tool check`)."""
        assert self.tool_checks_box is not None, "only an EXPECT turn has tool checks"
        return self.tool_checks_box.add()

    def problems_at(self, expectation: int) -> HTML:
        """Where a problem of the service's expectation `expectation` goes: its expectation's
        box, or its tool check's (numbered after the expectations), else the turn's."""
        checks = self.tool_checks
        if expectation < len(self.expectations):
            return self.expectations[expectation].problems
        if expectation - len(self.expectations) < len(checks):
            return checks[expectation - len(self.expectations)].problems
        return self.problems

    def set_position(self, index: int) -> None:
        # The stored kind (the web app shows a block as a USER turn, criteria as an EXPECT
        # turn), then what the workbench plays it as.
        role = " · simulated user" if self.simulated_fields is not None else ""
        role = " · judge conversation" if self.conversation_judge else role
        self.header.value = f"Turn {index + 1} · {self.kind.value}{role}"

    def add_expectation(self, spec: ExpectationSpec | None = None) -> ExpectationRow:
        """Add an expectation at the end (MUST_CONTAIN, empty, unless `spec` is given; in a
        judge_conversation turn an empty criterion, a SEMANTIC_ASSERT)."""
        if spec is None:
            judged = self.conversation_judge
            kind = ExpectationType.SEMANTIC_ASSERT if judged else ExpectationType.MUST_CONTAIN
            spec = ExpectationSpec(kind, value="")
        row = self._append(spec)
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
        if self.simulated_fields is not None:
            block = self.simulated_fields.block(self.text.value)
            return simulated_user(block.goal, persona=block.persona,
                                  min_turns=block.min_turns, max_turns=block.max_turns,
                                  each_reply=block.each_reply)  # fmt: skip
        if self.kind is ScenarioTurnType.USER:
            return TurnSpec(ScenarioTurnType.USER, text=self.text.value)
        return TurnSpec(
            ScenarioTurnType.EXPECT,
            expectations=tuple(row.spec() for row in self.expectations),
            tool_checks=self.tool_checks_box.specs() if self.tool_checks_box else (),
            conversation_judge=self.conversation_judge,
        )

    def show_problems(self, messages: list[str]) -> None:
        self.problems.value = problems_html(messages)

    def problems_for(self, field: str, message: str) -> None:
        """Show a turn-level problem beside its field (a simulated block's, a criterion's),
        else at the turn."""
        found = _CRITERION.fullmatch(field)
        if found is not None and int(found[1]) < len(self.expectations):
            row = self.expectations[int(found[1])]
            row.show_problems([*problem_texts(row.problems), f"criterion: {message}"])
        elif self.simulated_fields is None or not self.simulated_fields.place(field, message):
            self.show_problems([*problem_texts(self.problems), f"{field}: {message}"])

    def clear_problems(self) -> None:
        self.problems.value = ""
        if self.simulated_fields is not None:
            self.simulated_fields.clear_problems()
        for row in self.expectations:
            row.problems.value = ""
        if self.tool_checks_box is not None:
            self.tool_checks_box.clear_problems()

    def close(self) -> None:
        for row in self.expectations:
            row.close()
        for child in self.children:
            child.close()
        super().close()
