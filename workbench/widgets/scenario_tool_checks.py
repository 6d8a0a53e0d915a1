"""The tool checks of an EXPECT turn in `ScenarioEditor`: `turn.tool_checks[k]`, one per check.

    row = editor.turns[1].add_tool_check()        # or turns[1].tool_checks_box.add_button
    row.type.value = "TOOL_CALLED"                # TOOL_CALLED, TOOL_NOT_CALLED or TOOL_ORDER
    row.name.value = "lookup_order"
    row.args.value = '{"order_id": "A1"}'         # a subset of the arguments, as JSON
    row.times.value = "1"                         # exactly this many calls; empty: any

TOOL_ORDER takes `names` (chips, in order). A check is `called(...)`, `not_called(...)` or
`calls_in_order(...)` exactly as Python writes them, so an unchanged check saves unchanged.
They are listed after the turn's text expectations, as the service numbers them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from ipywidgets import HTML, Dropdown, HBox, Text, Textarea, VBox

from workbench.services.scenarios.tools import (
    NOT_JSON,
    TOOL_CALLED,
    TOOL_CHECK_TYPES,
    TOOL_NOT_CALLED,
    TOOL_ORDER,
    ToolCheckSpec,
    called,
)
from workbench.widgets._common import problem_texts, problems_box, problems_html, shared
from workbench.widgets._common import small_button as button
from workbench.widgets.chips import ChipsInput
from workbench.widgets.scenario_tools import json_style, parse_json, shown_json

Changed = Callable[[Any], None]


class ToolCheckRow(VBox):  # type: ignore[misc]
    """One tool check: a `type`, and only the fields it uses (`name`, `args`, `args_schema`,
    `times` for TOOL_CALLED; `name` for TOOL_NOT_CALLED; `names` for TOOL_ORDER), built on
    first use. `json_problem` says, as you type, when `args` or `times` cannot be saved."""

    def __init__(self, spec: ToolCheckSpec, on_change: Changed) -> None:
        s = shared()
        super().__init__(layout=s.expectation)
        self._spec, self._on_change = spec, on_change
        self._fields: dict[str, Any] = {}
        kind = spec.type if spec.type in TOOL_CHECK_TYPES else TOOL_CALLED
        self.type = Dropdown(options=list(TOOL_CHECK_TYPES), value=kind, layout=s.plain,
                             style=s.description_style)  # fmt: skip
        self.type.add_class("wb-tool-check-type")  # for the browser tests' locators
        self.delete_button = button("Remove", "times")
        self._typed_box: HTML | None = None  # built when `args` or `times` first go wrong
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
            if name in ("args", "args_schema", "times"):
                widget.observe(lambda _c: self._check_typed(), names="value")
        return widget

    @property
    def name(self) -> Text:
        s = shared()

        def make() -> Text:
            text = Text(value=self._spec.name, placeholder="tool name", layout=s.plain,
                        style=s.text_style)  # fmt: skip
            text.add_class("wb-tool-check-name")  # for the browser tests' locators
            return text

        name: Text = self._field("name", make)
        return name

    @property
    def names(self) -> ChipsInput:
        chips: ChipsInput = self._field(
            "names",
            lambda: ChipsInput(
                list(self._spec.names), placeholder="a tool name, then Enter", allow_duplicates=True
            ),
        )
        return chips

    def _json_field(self, name: str, value: Any, placeholder: str) -> Textarea:
        s = shared()

        def make() -> Textarea:
            text = "" if value is None else shown_json(value)
            area = Textarea(value=text, rows=2, placeholder=placeholder, description=name,
                            layout=s.value_area, style=json_style())  # fmt: skip
            area.add_class(f"wb-tool-check-{name.replace('_', '-')}")
            return area

        area: Textarea = self._field(name, make)
        return area

    @property
    def args(self) -> Textarea:
        given = self._spec.args if self._spec.args_json else None
        hint = 'a subset of the call\'s arguments, as JSON: {"order_id": "A1"}'
        return self._json_field("args", given, hint)

    @property
    def args_schema(self) -> Textarea:
        given = self._spec.args_schema if self._spec.args_schema_json else None
        return self._json_field("args_schema", given, "a JSON Schema the arguments satisfy "
                                "(optional)")  # fmt: skip

    @property
    def times(self) -> Text:
        s = shared()
        given = "" if self._spec.times is None else str(self._spec.times)
        return self._field(
            "times",
            lambda: Text(
                value=given,
                placeholder="any",
                description="times",
                layout=s.threshold,
                style=s.text_style,
            ),
        )

    @property
    def kind(self) -> str:
        return str(self.type.value)

    def _show_fields(self) -> None:
        kind = self.kind
        if kind == TOOL_ORDER:
            self._line.children = [self.type, self.delete_button]
            self.children = [self._line, self.names, self.problems]
            return
        options = [self.name, self.times] if kind == TOOL_CALLED else [self.name]
        self._line.children = [self.type, *options, self.delete_button]
        typed = [self._typed_box] if self._typed_box is not None else []
        wanted = [self.args, self.args_schema, *typed] if kind == TOOL_CALLED else []
        self.children = [self._line, *wanted, self.problems]
        self._check_typed()

    def shown(self) -> list[Any]:
        """The fields on show for the current type, in order (type first, Remove last)."""
        return [*self._line.children, *self.children[1:-1]]

    def typed_problems(self) -> list[str]:
        """What cannot be saved in `args`, `args_schema` or `times` as typed (TOOL_CALLED)."""
        if self.kind != TOOL_CALLED:
            return []
        found = [f"{field}: {problem}" for field in ("args", "args_schema")
                 if (problem := _json_problem(self._fields.get(field)))]  # fmt: skip
        times = self._fields.get("times")
        if times is not None and times.value.strip() and not times.value.strip().isdigit():
            found.append("times: a whole number ≥ 0, or empty for any number")
        return found

    def _check_typed(self) -> None:
        messages = self.typed_problems()
        if messages or self._typed_box is not None:
            self.json_problem.value = problems_html(messages)

    @property
    def json_problem(self) -> HTML:
        """What `args`, `args_schema` or `times` cannot save as typed (TOOL_CALLED)."""
        if self._typed_box is None:
            self._typed_box = problems_box()
            self._show_fields()
        return self._typed_box

    def spec(self) -> ToolCheckSpec:
        """The check the fields say; `args` that are not JSON are kept so that the service
        names them (`args are not JSON (...)`), like a `times` that is not a number."""
        kind = self.kind
        if kind == TOOL_ORDER:
            return ToolCheckSpec(TOOL_ORDER, tuple(self.names.value))
        if kind == TOOL_NOT_CALLED:
            return ToolCheckSpec(TOOL_NOT_CALLED, (self.name.value,))
        times_text = self.times.value.strip()
        times = int(times_text) if times_text.isdigit() else cast(int, times_text or None)
        check = called(self.name.value, None, times)
        return ToolCheckSpec(TOOL_CALLED, check.names, _typed_json(self.args), check.times,
                             _typed_json(self.args_schema))  # fmt: skip

    def close(self) -> None:
        typed = [self._typed_box] if self._typed_box is not None else []
        for widget in (*self._fields.values(), self.type, self.delete_button, *typed,
                       self.problems, self._line):  # fmt: skip
            widget.close()
        super().close()


def _json_problem(area: Textarea | None) -> str | None:
    return None if area is None or not area.value.strip() else parse_json(area.value)[1]


def _typed_json(area: Textarea) -> str | None:
    """A JSON field as a check keeps it: canonical JSON text, None when empty."""
    if not area.value.strip():
        return None
    value, problem = parse_json(area.value)
    if problem is not None:
        return NOT_JSON + problem.removeprefix("not JSON: ")
    return called("_", value).args_json


class ToolChecks(VBox):  # type: ignore[misc]
    """An EXPECT turn's tool checks, `rows[k]`, and `add_button` ("+ tool check")."""

    def __init__(self, checks: Sequence[ToolCheckSpec], on_change: Changed) -> None:
        super().__init__(layout=shared().plain)
        self._on_change = on_change
        self.rows: list[ToolCheckRow] = []
        self.add_button = button("+ tool check", "wrench")
        self.add_button.on_click(lambda _b: self.add())
        for check in checks:
            self._append(check)
        self._redraw()

    def add(self, spec: ToolCheckSpec | None = None) -> ToolCheckRow:
        """Add a check at the end (TOOL_CALLED of no tool yet, unless `spec` is given)."""
        row = self._append(spec or called(""))
        self._redraw()
        self._on_change(None)
        return row

    def remove(self, row: ToolCheckRow) -> None:
        self.rows.remove(row)
        self._redraw()
        row.close()
        self._on_change(None)

    def _append(self, spec: ToolCheckSpec) -> ToolCheckRow:
        row = ToolCheckRow(spec, self._on_change)
        row.delete_button.on_click(lambda _b: self.remove(row))
        self.rows.append(row)
        return row

    def _redraw(self) -> None:
        self.children = [*self.rows, self.add_button]

    def specs(self) -> tuple[ToolCheckSpec, ...]:
        return tuple(row.spec() for row in self.rows)

    def clear_problems(self) -> None:
        for row in self.rows:
            row.problems.value = ""

    def shown_problems(self) -> list[tuple[int, str]]:
        """(check number from 1, text) of every problem a save put beside a check."""
        return [(k, text) for k, row in enumerate(self.rows, 1)
                for text in problem_texts(row.problems)]  # fmt: skip

    def close(self) -> None:
        for row in self.rows:
            row.close()
        self.add_button.close()
        super().close()
