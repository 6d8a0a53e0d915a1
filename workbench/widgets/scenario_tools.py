"""The tools of `ScenarioEditor`: one `ToolRow` per tool (name, description, parameters, mock).

    panel = editor.tools_panel
    row = panel.add_tool()                      # or panel.add_button.click()
    row.name.value = "lookup_order"
    row.parameters.value = '{"type": "object", "properties": {"order_id": {"type": "string"}}}'
    row.returns.value = '{"status": "shipped"}'                     # the mock's answer
    row.cases.value = '[[{"order_id": "A2"}, {"status": "lost"}]]'  # [arguments, result] pairs

JSON fields are checked as they are typed (`row.parameters_problem` says "not JSON: ..." or why
it is not a JSON Schema object, with the service's own words); a save with such a problem is
refused before the service is called, since text that is not JSON has no value to send. The
service's problems with a tool (`tools[i].name: ...`) are shown in `row.problems`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Final

from ipywidgets import HTML, HBox, Layout, Text, Textarea, VBox
from ipywidgets.widgets.widget_string import TextStyle

from workbench.services.scenarios.problem import Problem
from workbench.services.scenarios.tool_validation import schema_problems
from workbench.services.scenarios.tools import NO_RESULT, ToolSpec, tool
from workbench.widgets._common import problem_texts, problems_box, problems_html, shared
from workbench.widgets._common import small_button as button

Changed = Callable[[Any], None]
NEW_PARAMETERS: Final = '{"type": "object", "properties": {}}'


@cache
def _growing() -> Layout:
    """A field that takes the room its line has left (shared by every row, like `shared()`)."""
    return Layout(flex="1 1 20em")


@cache
def json_style() -> TextStyle:
    """The JSON areas' style: room for their longest label, "args_schema", uncut."""
    return TextStyle(description_width="7.5em")


def parse_json(text: str) -> tuple[Any, str | None]:
    """The value of JSON `text`, or None and why it is not JSON ("line 1, column 9: ...")."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})"


def shown_json(value: Any) -> str:
    """A value as the text areas show it: indented when it is a container, kept short if not."""
    if isinstance(value, dict | list) and value:
        return json.dumps(value, indent=2, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def _parameters_problems(text: str) -> list[str]:
    value, problem = parse_json(text)
    return [problem] if problem else schema_problems(value)


def _returns_problems(text: str) -> list[str]:
    return [] if not text.strip() else [p for p in [parse_json(text)[1]] if p]


def _cases_problems(text: str) -> list[str]:
    if not text.strip():
        return []
    value, problem = parse_json(text)
    if problem:
        return [problem]
    if not isinstance(value, list) or not all(
        isinstance(case, list) and len(case) == 2 and isinstance(case[0], dict) for case in value
    ):
        return ['must be a list of [arguments, result] pairs: [[{"order_id": "A2"}, ...]]']
    return []


JSON_FIELDS: Final = ("parameters", "returns", "cases")
_FIELD_CHECKS: Final = {
    "parameters": _parameters_problems,
    "returns": _returns_problems,
    "cases": _cases_problems,
}


class ToolRow(VBox):  # type: ignore[misc]
    """One tool: `name`, `description`, `parameters` (a JSON Schema object), `returns` (the
    mock's answer, any JSON; empty for none) and `cases` ([arguments, result] pairs, the first
    whose arguments are a subset of the call's answers it)."""

    def __init__(self, spec: ToolSpec, on_change: Changed) -> None:
        s = shared()
        super().__init__(layout=s.turn)
        self._on_change = on_change
        self.name = Text(value=spec.name, placeholder="tool name", layout=s.plain,
                         style=s.text_style)  # fmt: skip
        self.description = Text(value=spec.description, placeholder="what the tool does",
                                layout=_growing(), style=s.text_style)  # fmt: skip
        self.name.add_class("wb-tool-name")  # for the browser tests' locators
        self.remove_button = button("Remove tool", "times")
        cases = [[args, result] for args, result in spec.cases]
        self.parameters = self._json_area(
            "parameters", shown_json(spec.parameters), "a JSON Schema object"
        )
        self.returns = self._json_area(
            "returns",
            shown_json(spec.returns) if spec.has_returns else "",
            "the mock's answer, as JSON (empty: only the cases answer)",
        )
        self.cases = self._json_area(
            "cases",
            shown_json(cases) if cases else "",
            '[[{"order_id": "A2"}, {"status": "lost"}], ...]: [arguments, result] pairs',
        )
        self.problems = problems_box()
        self._line = HBox([self.name, self.description, self.remove_button], layout=s.wrapping)
        self._inline: dict[str, HTML] = {}  # built when a field first has a problem to show
        for field in JSON_FIELDS:
            area = getattr(self, field)
            area.observe(lambda _c, f=field: self._check(f), names="value")
        for part in (self.name, self.description):
            part.observe(on_change, names="value")
        self._redraw()

    def _json_area(self, field: str, value: str, placeholder: str) -> Textarea:
        s = shared()
        area = Textarea(value=value, placeholder=placeholder, description=field, rows=3,
                        layout=s.value_area, style=json_style())  # fmt: skip
        area.add_class(f"wb-tool-{field}")  # for the browser tests' locators
        area.observe(self._on_change, names="value")
        return area

    def _redraw(self) -> None:
        pairs = [(getattr(self, field), self._inline.get(field)) for field in JSON_FIELDS]
        fields = [part for pair in pairs for part in pair if part is not None]
        self.children = [self._line, *fields, self.problems]

    def _inline_box(self, field: str) -> HTML:
        box = self._inline.get(field)
        if box is None:
            box = self._inline[field] = problems_box()
            self._redraw()
        return box

    @property
    def parameters_problem(self) -> HTML:
        """What is wrong with `parameters` as typed (empty when nothing is)."""
        return self._inline_box("parameters")

    @property
    def returns_problem(self) -> HTML:
        return self._inline_box("returns")

    @property
    def cases_problem(self) -> HTML:
        return self._inline_box("cases")

    def _check(self, field: str) -> list[str]:
        messages = _FIELD_CHECKS[field](getattr(self, field).value)
        if messages or field in self._inline:
            self._inline_box(field).value = problems_html(messages)
        return messages

    def json_problems(self) -> list[str]:
        """What is wrong with the JSON fields now ("parameters: not JSON: ..."), as shown."""
        return [f"{field}: {message}" for field in JSON_FIELDS for message in self._check(field)]

    def spec(self) -> ToolSpec:
        """The tool the fields say; a field that is not JSON is kept as its text (`json_problems`
        says so, and the editor saves nothing while it does)."""

        def value(area: Textarea) -> Any:
            parsed, problem = parse_json(area.value)
            return area.value if problem else parsed

        cases = value(self.cases) if self.cases.value.strip() else []
        pairs = [_pair(case) for case in cases] if isinstance(cases, list) else [(cases, None)]
        returns = value(self.returns) if self.returns.value.strip() else NO_RESULT
        return tool(self.name.value, self.description.value, parameters=value(self.parameters),
                    returns=returns, cases=pairs)  # fmt: skip

    def shown_problems(self) -> list[str]:
        """ "parameters: not JSON: ...", "name: ...": what the row shows, field first."""
        typed = [(self._inline[f], f"{f}: ") for f in JSON_FIELDS if f in self._inline]
        return [field + text for box, field in [*typed, (self.problems, "")]
                for text in problem_texts(box)]  # fmt: skip

    def close(self) -> None:
        for child in self.children:
            for part in getattr(child, "children", ()):
                part.close()
            child.close()
        super().close()


def _pair(case: Any) -> tuple[Any, Any]:
    """A case as (arguments, result), even one that is not (shown as a problem meanwhile)."""
    return (case[0], case[1]) if isinstance(case, list) and len(case) == 2 else (case, None)


class ToolsPanel(VBox):  # type: ignore[misc]
    """`editor.tools_panel`: the scenario's tools, `rows[i]` each, and `add_button`.

    A scenario without tools costs a heading and a button; rows are built for the tools there
    are (a handful, where turns may be hundreds)."""

    def __init__(self, on_change: Changed) -> None:
        s = shared()
        super().__init__(layout=s.plain)
        self._on_change = on_change
        self.rows: list[ToolRow] = []
        self.add_button = button("+ tool", "wrench")
        self.add_button.on_click(lambda _b: self.add_tool())
        self._box = VBox(layout=s.plain)
        heading = HTML("<b>Tools</b> <small>(offered to the assistant, answered by mocks)</small>")
        self.children = [heading, self._box, self.add_button]

    def show(self, tools: Sequence[ToolSpec]) -> None:
        """Show `tools` (what was loaded), dropping the rows shown before."""
        for row in self.rows:
            row.close()
        self.rows = []
        for spec in tools:
            self._append(spec)

    def add_tool(self, spec: ToolSpec | None = None) -> ToolRow:
        """Add a tool at the end (an empty one with no parameters unless `spec` is given)."""
        row = self._append(spec or tool("", parameters=json.loads(NEW_PARAMETERS)))
        self._on_change(None)
        return row

    def remove_tool(self, row: ToolRow) -> None:
        self.rows.remove(row)
        self._box.children = list(self.rows)
        row.close()
        self._on_change(None)

    def _append(self, spec: ToolSpec) -> ToolRow:
        row = ToolRow(spec, self._on_change)
        row.remove_button.on_click(lambda _b: self.remove_tool(row))
        self.rows.append(row)
        self._box.children = list(self.rows)
        return row

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(row.spec() for row in self.rows)

    def json_problems(self) -> int:
        """How many JSON problems the rows show now (each shown beside its field)."""
        return sum(len(row.json_problems()) for row in self.rows)

    def place(self, problem: Problem) -> tuple[HTML, str] | None:
        """Where a service problem about a tool goes (`tools[1].name` → row 2's box), and its
        text there; None when it names no row."""
        head, _, field = problem.field.partition(".")
        index = head.removeprefix("tools[").removesuffix("]")
        if not index.isdigit() or int(index) >= len(self.rows):
            return None
        return self.rows[int(index)].problems, f"{field or 'tool'}: {problem.message}"

    def clear_problems(self) -> None:
        for row in self.rows:
            row.problems.value = ""

    def shown_problems(self) -> list[str]:
        """ "tool 1, parameters: ...", one line per problem shown, in order."""
        return [f"tool {i}, {text}" for i, row in enumerate(self.rows, 1)
                for text in row.shown_problems()]  # fmt: skip
