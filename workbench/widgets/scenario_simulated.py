"""The fields of a simulated block in `ScenarioEditor` (issue 21): persona, turn bounds and the
checks on each reply, beside the goal (the turn's own text area, `TurnRow.text`).

    row = editor.turns[2]                      # a simulated block's turn
    row.text.value = "Get a cash refund"       # the goal
    row.simulated_fields.max_turns.value = 8
    row.simulated_fields.add_check_button.click()

Bounds are plain whole-number fields, not bounded ones: a bounded field would quietly clamp 60 to
the ceiling, where the service's own check says what is wrong beside the field (min above max,
max above the ceiling, an empty goal), as every other problem of the editor is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from ipywidgets import HTML, HBox, IntText, Layout, Text, VBox

from workbench.db.enums import ExpectationType
from workbench.services.scenarios.simulated import MAX_SIMULATED_TURNS, SimulatedSpec
from workbench.services.scenarios.types import ExpectationSpec
from workbench.widgets._common import (
    problem_texts,
    problems_box,
    problems_html,
    shared,
    small_button,
)

Changed = Callable[[Any], None]
_EACH_REPLY = re.compile(r"each_reply\[(\d+)\]\.(.+)")
_BOUND = Layout(width="13em", flex="0 0 auto")
NOTE = (
    "<small>simulated user: a model plays the user toward the goal below, for "
    f"min to max of its own turns (at most {MAX_SIMULATED_TURNS}); each-reply checks apply to "
    "every assistant reply in the block</small>"
)


class CheckRow(Protocol):
    """What a check's row offers (scenario_turns.ExpectationRow): passed in, so this module does
    not import the module that builds it."""

    problems: HTML
    delete_button: Any

    def spec(self) -> ExpectationSpec: ...
    def show_problems(self, messages: list[str]) -> None: ...
    def close(self) -> None: ...


MakeRow = Callable[[ExpectationSpec, Changed], CheckRow]


class SimulatedFields(VBox):  # type: ignore[misc]
    """Persona, min and max turns, and the each-reply checks of one simulated block."""

    def __init__(self, block: SimulatedSpec, on_change: Changed, make_row: MakeRow) -> None:
        s = shared()
        super().__init__(layout=s.plain)
        self._on_change, self._make_row = on_change, make_row
        self.goal_problems = problems_box()
        self.persona = Text(
            value=block.persona,
            description="Persona",
            placeholder="optional: how the user behaves",
            layout=s.text_area,
        )
        self.min_turns = IntText(value=block.min_turns, description="min turns", layout=_BOUND)
        self.max_turns = IntText(value=block.max_turns, description="max turns", layout=_BOUND)
        self.field_problems = {
            "persona": problems_box(),
            "min_turns": problems_box(),
            "max_turns": problems_box(),
        }
        for part in (self.persona, self.min_turns, self.max_turns):
            part.observe(on_change, names="value")
        self.checks: list[CheckRow] = []
        self._check_box = VBox(layout=s.plain)
        for check in block.each_reply:
            self._append(_typed(check))
        self.add_check_button = small_button("+ check on each reply")
        self.add_check_button.on_click(lambda _b: self.add_check())
        problems = self.field_problems
        self.children = [
            self.goal_problems,
            self.persona,
            problems["persona"],
            HBox([self.min_turns, self.max_turns], layout=s.wrapping),
            problems["min_turns"],
            problems["max_turns"],
            HTML("<small>checked on each reply:</small>"),
            self._check_box,
            self.add_check_button,
        ]

    def add_check(self, spec: ExpectationSpec | None = None) -> CheckRow:
        """Add a check on each reply (MUST_NOT_CONTAIN, empty, unless `spec` is given)."""
        row = self._append(spec or ExpectationSpec(ExpectationType.MUST_NOT_CONTAIN, value=""))
        self._on_change(None)
        return row

    def remove_check(self, row: CheckRow) -> None:
        self.checks.remove(row)
        self._check_box.children = list(self.checks)
        row.close()
        self._on_change(None)

    def _append(self, spec: ExpectationSpec) -> CheckRow:
        row = self._make_row(spec, self._on_change)
        row.delete_button.on_click(lambda _b: self.remove_check(row))
        self.checks.append(row)
        self._check_box.children = list(self.checks)
        return row

    def block(self, goal: str) -> SimulatedSpec:
        """The block the fields say, with `goal` (the turn's text area)."""
        return SimulatedSpec(
            goal,
            self.persona.value,
            int(self.min_turns.value),
            int(self.max_turns.value),
            tuple(row.spec() for row in self.checks),
        )

    def place(self, field: str, message: str) -> bool:
        """Show a problem of the block's `field` ("max_turns", "each_reply[1].value") beside
        that field; False when it names none of them (the turn shows it)."""
        found = _EACH_REPLY.fullmatch(field)
        if found is not None and int(found[1]) < len(self.checks):
            row = self.checks[int(found[1])]
            row.show_problems([*problem_texts(row.problems), f"{found[2]}: {message}"])
            return True
        box = self.goal_problems if field == "goal" else self.field_problems.get(field)
        if box is None:
            return False
        box.value = problems_html([*problem_texts(box), message])
        return True

    def problems_shown(self) -> list[str]:
        """The problems shown here, as "field: message" lines (fields, then checks)."""
        boxes = {"goal": self.goal_problems, **self.field_problems}
        lines = [f"{field}: {text}" for field, box in boxes.items() for text in problem_texts(box)]
        for k, row in enumerate(self.checks):
            lines += [f"each_reply[{k}].{text}" for text in problem_texts(row.problems)]
        return lines

    def clear_problems(self) -> None:
        for box in (self.goal_problems, *self.field_problems.values()):
            box.value = ""
        for row in self.checks:
            row.problems.value = ""

    def close(self) -> None:
        for row in self.checks:
            row.close()
        for child in self.children:
            child.close()
        super().close()


def _typed(check: Any) -> Any:
    """A stored check's type as the enum (documents keep it as text), so its row shows it."""
    try:
        kind = ExpectationType(str(check.type))
    except ValueError:
        return check  # an unknown type: the row shows its default and the save says why
    return replace(check, type=kind)
