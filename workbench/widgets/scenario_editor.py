"""`ScenarioEditor`: write or change one scenario, its turns and expectations, in a notebook.

    from workbench.widgets.scenario_editor import ScenarioEditor
    editor = ScenarioEditor(wb.scenarios)                 # a new scenario
    editor = ScenarioEditor(wb.scenarios, scenario.id)    # an existing one

A view over `ScenarioService`: Save is one `create` or `update(expected_version=...)` call. A
`ValidationError` puts each problem beside the field, turn or expectation it names (nothing is
saved); a `Conflict` opens a panel saying which version is stored and when, with Reload and Show
changes: an edit is never written over someone else's.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, overload

from ipywidgets import HTML, Button, HBox, Label, Layout, Text, Textarea, VBox

from workbench.db.enums import ScenarioStatus, ScenarioTurnType
from workbench.errors import Conflict, ValidationError, WorkbenchError
from workbench.services.scenarios.problem import Problem
from workbench.services.scenarios.service import ScenarioService
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    ScenarioView,
    TurnSpec,
)
from workbench.services.scenarios.validation import check_scenario
from workbench.widgets._common import (
    PlainRepr,
    problem_texts,
    problems_html,
    show_status,
    small_button,
)
from workbench.widgets.chips import ChipsInput
from workbench.widgets.scenario_history import ConflictPanel, HistoryPanel
from workbench.widgets.scenario_tools import ToolsPanel
from workbench.widgets.scenario_turns import JUDGE, SIMULATED, TurnRow, new_turn

FIELDS = ("name", "description", "locale", "tags", "status")
TURN_PAGE = 10
"""Turns shown at a time. A turn's widgets are built when it is first shown or asked for
(`editor.turns[i]`), so a scenario of 200 turns opens as fast as one of 10."""


class TurnList(Sequence[TurnRow]):
    """`editor.turns`: every turn's row, built on first access."""

    def __init__(self, editor: ScenarioEditor) -> None:
        self._editor = editor

    def __len__(self) -> int:
        return len(self._editor._turns)

    @overload
    def __getitem__(self, index: int) -> TurnRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[TurnRow]: ...
    def __getitem__(self, index: int | slice) -> TurnRow | list[TurnRow]:
        if isinstance(index, slice):
            return [self._editor._row_at(i) for i in range(len(self))[index]]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._editor._row_at(index)


class ScenarioEditor(PlainRepr, VBox):  # type: ignore[misc]
    """Edit one scenario; `save_button` creates or updates it.

    >>> editor = ScenarioEditor(wb.scenarios)      # doctest: +SKIP
    >>> editor.name.value = "Greets politely"      # doctest: +SKIP
    >>> editor.add_turn("USER").text.value = "Hi"  # doctest: +SKIP
    >>> editor.save_button.click()                 # doctest: +SKIP
    """

    def __init__(self, service: ScenarioService, scenario_id: str | None = None) -> None:
        super().__init__()
        self._service = service
        self.scenario_id: str | None = None
        self.version = 0
        self.status = ScenarioStatus.DRAFT
        self.dirty = False
        self._loading = False
        self.name = Text(description="Name", placeholder="what the scenario checks")
        self.description = Textarea(description="Description", placeholder="optional")
        self.locale = Text(value="en", description="Locale")
        self.tags = ChipsInput(placeholder="a tag, then Enter")
        for part in (self.name, self.description, self.locale, self.tags):
            part.observe(self._mark_dirty, names="value")
        self.field_problems = {field: HTML("") for field in FIELDS}
        self.status_label = Label()
        self.publish_button = Button(description="Publish", icon="check")
        self.archive_button = Button(description="Archive", icon="archive")
        self.draft_button = Button(description="Back to draft", icon="pencil")
        self._turns: list[TurnRow | TurnSpec] = []
        self.turn_offset = 0
        self.turn_box = VBox()
        self.previous_turns_button = Button(description="Previous turns", icon="chevron-up")
        self.next_turns_button = Button(description="Next turns", icon="chevron-down")
        self.turn_page_label = Label()
        self.add_user_button = Button(description="+ USER turn")
        self.add_expect_button = Button(description="+ EXPECT turn")
        self.add_simulated_button = small_button("+ simulated user")  # issue 21; never cut
        self.add_judge_button = small_button("+ judge conversation")  # short, as "+ judge con..."
        self.save_button = Button(description="Save", button_style="primary", icon="save")
        self.dirty_label = Label()
        self.message = Label()
        self.tools_note = HTML("")  # tool checks that no longer fit their turn
        self.tools_panel = ToolsPanel(self._mark_dirty)  # scenario_tools.py
        self.history_button = Button(description="History", icon="history")
        self.history = HistoryPanel(service, self._loaded)
        self.history.layout.display = "none"
        self.conflict = ConflictPanel(service, self._reloaded)
        self._wire()
        self.children = self._layout()
        if scenario_id is None:
            self._update_chrome()
        else:
            self._load(service.get(scenario_id))

    def _wire(self) -> None:
        self.publish_button.on_click(lambda _b: self._set_status(self._service.publish))
        self.archive_button.on_click(lambda _b: self._set_status(self._service.archive))
        self.draft_button.on_click(lambda _b: self._set_status(self._service.restore_to_draft))
        self.add_user_button.on_click(lambda _b: self.add_turn(ScenarioTurnType.USER))
        self.add_expect_button.on_click(lambda _b: self.add_turn(ScenarioTurnType.EXPECT))
        self.add_simulated_button.on_click(lambda _b: self.add_turn(SIMULATED))
        self.add_judge_button.on_click(lambda _b: self.add_turn(JUDGE))
        self.save_button.on_click(lambda _b: self.save())
        self.history_button.on_click(lambda _b: self.toggle_history())
        self.previous_turns_button.on_click(
            lambda _b: self.show_turns_from(self.turn_offset - TURN_PAGE)
        )
        self.next_turns_button.on_click(
            lambda _b: self.show_turns_from(self.turn_offset + TURN_PAGE)
        )

    def _layout(self) -> list[Any]:
        def with_problems(field: str, part: Any) -> VBox:
            return VBox([part, self.field_problems[field]])

        adds = [
            self.add_user_button,
            self.add_expect_button,
            self.add_simulated_button,
            self.add_judge_button,
        ]
        tags_line = HBox([Label("Tags", layout=Layout(width="90px", flex="0 0 auto")), self.tags])
        status_line = HBox(
            [self.status_label, self.publish_button, self.archive_button, self.draft_button]
        )
        return [
            with_problems("name", self.name),
            with_problems("description", self.description),
            with_problems("locale", self.locale),
            with_problems("tags", tags_line),
            with_problems("status", status_line),
            self.tools_note,
            self.tools_panel,
            HTML("<b>Turns</b>"),
            self.turn_box,
            HBox([self.previous_turns_button, self.turn_page_label, self.next_turns_button]),
            HBox(adds, layout=Layout(flex_flow="row wrap")),
            HBox([self.save_button, self.dirty_label, self.history_button]),
            self.message,
            self.conflict,
            self.history,
        ]

    # --- turns ------------------------------------------------------------------------------

    @property
    def turns(self) -> TurnList:
        """The turns' rows in order (`editor.turns[0].text`), each built on first access."""
        return TurnList(self)

    def add_turn(self, kind: ScenarioTurnType | str, after: TurnRow | None = None) -> TurnRow:
        """Add an empty turn after `after` (at the end if None); an EXPECT turn gets one
        empty MUST_CONTAIN to fill in. "SIMULATED" adds a simulated-user block (its goal is the
        row's `text`, the rest `simulated_fields`), "JUDGE" a judge_conversation turn with one
        empty criterion (see `scenario_turns.new_turn`)."""
        row = self._new_row(new_turn(kind))
        index = len(self._turns) if after is None else self._index(after) + 1
        self._turns.insert(index, row)
        self._reveal(index)
        self._mark_dirty(None)
        return row

    def move_turn(self, row: TurnRow, by: int) -> None:
        index = self._index(row)
        target = index + by
        if 0 <= target < len(self._turns):
            self._turns[index], self._turns[target] = self._turns[target], row
            self._reveal(target)
            self._mark_dirty(None)

    def delete_turn(self, row: TurnRow) -> None:
        del self._turns[self._index(row)]
        row.close()
        self._show_turns()
        self._mark_dirty(None)

    def show_turns_from(self, offset: int) -> None:
        """Show the page of turns that starts at `offset` (0-based)."""
        self.turn_offset = offset
        self._show_turns()

    def _index(self, row: TurnRow) -> int:
        return next(i for i, entry in enumerate(self._turns) if entry is row)

    def _row_at(self, index: int) -> TurnRow:
        entry = self._turns[index]
        if isinstance(entry, TurnRow):
            return entry
        row = self._turns[index] = self._new_row(entry)
        row.set_position(index)
        return row

    def _new_row(self, spec: TurnSpec) -> TurnRow:
        row = TurnRow(spec, self._mark_dirty)
        row.up_button.on_click(lambda _b: self.move_turn(row, -1))
        row.down_button.on_click(lambda _b: self.move_turn(row, 1))
        row.delete_button.on_click(lambda _b: self.delete_turn(row))
        row.add_user_button.on_click(lambda _b: self.add_turn(ScenarioTurnType.USER, row))
        row.add_expect_button.on_click(lambda _b: self.add_turn(ScenarioTurnType.EXPECT, row))
        return row

    def _reveal(self, index: int) -> None:
        if not self.turn_offset <= index < self.turn_offset + TURN_PAGE:
            self.turn_offset = index - index % TURN_PAGE
        self._show_turns()

    def _show_turns(self) -> None:
        count = len(self._turns)
        last_page = max(0, (count - 1) // TURN_PAGE * TURN_PAGE)
        self.turn_offset = min(max(0, self.turn_offset), last_page)
        for index, entry in enumerate(self._turns):
            if isinstance(entry, TurnRow):
                entry.set_position(index)
        end = min(count, self.turn_offset + TURN_PAGE)
        self.turn_box.children = [self._row_at(i) for i in range(self.turn_offset, end)]
        paged = count > TURN_PAGE
        self.turn_page_label.value = (
            f"turns {self.turn_offset + 1}–{end} of {count}" if paged else ""
        )
        self.previous_turns_button.disabled = self.turn_offset == 0
        self.next_turns_button.disabled = end >= count
        hidden = "none" if not paged else None
        self.previous_turns_button.layout.display = hidden
        self.next_turns_button.layout.display = hidden

    # --- load and save ----------------------------------------------------------------------

    def spec(self) -> ScenarioCreate:
        """What the editor holds, as the service would take it."""
        return ScenarioCreate(
            name=self.name.value,
            description=self.description.value or None,
            locale=self.locale.value,
            status=self.status,
            tags=tuple(self.tags.value),
            turns=tuple(
                entry.spec() if isinstance(entry, TurnRow) else entry for entry in self._turns
            ),
            tools=self.tools_panel.specs(),
        )

    def problems_shown(self) -> list[str]:
        """The problems shown beside the fields, tools, turns, expectations and tool checks, as
        text, in the editor's order and numbering ("turn 2, expectation 1, value: ...")."""
        lines = [text for box in self.field_problems.values() for text in problem_texts(box)]
        lines += self.tools_panel.shown_problems()  # "tool 2, name: ...", above the turns
        for index, row in enumerate(self._turns):
            if not isinstance(row, TurnRow):
                continue  # not built yet: nothing shown there
            lines += [f"turn {index + 1}, {text}" for text in problem_texts(row.problems)]
            if row.simulated_fields is not None:
                lines += [f"turn {index + 1}, {t}" for t in row.simulated_fields.problems_shown()]
            for number, check in enumerate(row.expectations, start=1):
                where = f"turn {index + 1}, expectation {number}"
                lines += [f"{where}, {text}" for text in problem_texts(check.problems)]
            for number, check in enumerate(row.tool_checks, start=1):
                where = f"turn {index + 1}, tool check {number}"
                lines += [f"{where}, {text}" for text in problem_texts(check.problems)]
        return lines

    def save(self) -> None:
        """Create or update the scenario (one service call); problems are shown, not raised."""
        spec = self.spec()
        self._clear_problems()
        unsendable = self.tools_panel.json_problems()  # text that is not JSON has no value
        if unsendable:
            show_status(self.message, f"Not saved: {unsendable} problem(s) in the tools' JSON, "
                        "shown beside them.", error=True)  # fmt: skip
            return
        try:
            if self.scenario_id is None:
                view = self._service.create(spec)
            else:
                changes = ScenarioUpdate(
                    name=spec.name,
                    description=spec.description,
                    locale=spec.locale,
                    tags=spec.tags,
                    turns=spec.turns,
                    tools=spec.tools,
                )
                view = self._service.update(
                    self.scenario_id, changes, expected_version=self.version
                )
        except ValidationError as error:
            self._show_problems(spec, error)
            return
        except Conflict:
            assert self.scenario_id is not None
            self.conflict.show(self._service.get(self.scenario_id), self.version, spec)
            show_status(self.message, "Not saved: see below.", error=True)
            return
        except WorkbenchError as error:
            show_status(self.message, f"Not saved: {error}", error=True)
            return
        self._loaded(view, shown=spec)
        show_status(self.message, f"Saved {view.name!r} as version {view.version}.")

    def _loaded(self, view: ScenarioView, shown: ScenarioCreate | None = None) -> None:
        self._load(view, shown)
        if self.history.layout.display != "none":
            self.history.refresh(view.id, view.version)

    def _reloaded(self, view: ScenarioView) -> None:
        self._loaded(view)
        show_status(self.message, f"Reloaded version {view.version}.")

    def _load(self, view: ScenarioView, shown: ScenarioCreate | None = None) -> None:
        """Show `view`; the turn rows stay when they already show exactly its turns (`shown`
        is what was just saved), so a save costs the service call and little else."""
        self._loading = True
        try:
            self.scenario_id, self.version, self.status = view.id, view.version, view.status
            self.name.value = view.name
            self.description.value = view.description or ""
            self.locale.value = view.locale
            self.tags.value = list(view.tags)
            self.tools_note.value = tools_note(view)
            if shown is None or shown.tools != view.tools:
                self.tools_panel.show(view.tools)
            if shown is None or shown.turns != view.turns:
                for entry in self._turns:
                    if isinstance(entry, TurnRow):
                        entry.close()
                self._turns = list(view.turns)
                self._show_turns()
        finally:
            self._loading = False
        self.dirty = False
        self.conflict.hide()
        self._clear_problems()
        self._update_chrome()

    def _set_status(self, action: Any) -> None:
        if self.scenario_id is None or self.dirty:
            show_status(
                self.message, "Save your changes first, then change the status.", error=True
            )
            return
        try:
            view = action(self.scenario_id, expected_version=self.version)
        except Conflict:
            self.conflict.show(self._service.get(self.scenario_id), self.version, self.spec())
            return
        except WorkbenchError as error:
            show_status(self.message, str(error), error=True)
            return
        self._loaded(view)
        show_status(self.message, f"Now {view.status.value} (version {view.version}).")

    def toggle_history(self) -> None:
        """Show or hide the History panel (its versions are read when it opens)."""
        if self.history.layout.display == "none" and self.scenario_id is not None:
            self.history.refresh(self.scenario_id, self.version)
            self.history.layout.display = None
        else:
            self.history.layout.display = "none"

    # --- indicators and problems ------------------------------------------------------------

    def _mark_dirty(self, _change: Any) -> None:
        if not self._loading and not self.dirty:
            self.dirty = True
            self._update_chrome()

    def _update_chrome(self) -> None:
        saved = self.scenario_id is not None
        self.status_label.value = f"Status: {self.status.value}"
        self.publish_button.disabled = not saved or self.status is not ScenarioStatus.DRAFT
        self.archive_button.disabled = not saved or self.status is ScenarioStatus.ARCHIVED
        self.draft_button.disabled = not saved or self.status is ScenarioStatus.DRAFT
        self.history_button.disabled = not saved
        if self.dirty:
            self.dirty_label.value = "● unsaved changes"
        else:
            self.dirty_label.value = (
                f"saved · version {self.version}" if saved else "new, not saved"
            )

    def _clear_problems(self) -> None:
        for widget in self.field_problems.values():
            widget.value = ""
        self.tools_panel.clear_problems()
        for entry in self._turns:
            if isinstance(entry, TurnRow):
                entry.clear_problems()

    def _show_problems(self, spec: ScenarioCreate, error: ValidationError) -> None:
        """Each problem beside what it names (the service's own checks, run again to get their
        positions), and a count in the message line."""
        _, problems = check_scenario(spec)
        placed = place_problems(self, problems)
        first = next((p.turn for p in problems if p.turn is not None), None)
        if first is not None and first < len(self._turns):
            self._reveal(first)
        count = len(error.problems)
        where = "shown beside the fields" if placed else str(error)
        show_status(self.message, f"Not saved: {count} problem(s), {where}.", error=True)

    def __repr__(self) -> str:
        if not hasattr(self, "save_button"):  # a repr asked for while __init__ runs
            return "ScenarioEditor(being built)"
        state = "unsaved changes" if self.dirty else ("saved" if self.scenario_id else "new")
        name = self.name.value or "(no name)"
        return (
            f"ScenarioEditor({name!r}, version {self.version}, {self.status.value}, "
            f"{len(self._turns)} turns, {state})"
        )


def place_problems(editor: ScenarioEditor, problems: Sequence[Problem]) -> bool:
    """Put every problem in the widget of its field, turn or expectation; False if none."""
    by_widget: dict[Any, list[str]] = {}
    for problem in problems:
        target: Any
        tool_place = editor.tools_panel.place(problem) if problem.turn is None else None
        if tool_place is not None:
            target, text = tool_place
        elif problem.turn is None:
            field = problem.field.split("[")[0]
            target = editor.field_problems.get(field, editor.field_problems["name"])
            text = problem.describe()
        elif problem.expectation is None or problem.turn >= len(editor.turns):
            row = editor.turns[min(problem.turn, len(editor.turns) - 1)]
            row.problems_for(problem.field, problem.message)  # a simulated block's at its field
            continue
        else:  # an expectation's, or a tool check's (numbered after the expectations)
            target = editor.turns[problem.turn].problems_at(problem.expectation)
            text = f"{problem.field}: {problem.message}"
        by_widget.setdefault(target, []).append(text)
    for widget, messages in by_widget.items():  # after any a row placed (a criterion's)
        widget.value = problems_html([*problem_texts(widget), *messages])
    return bool(problems)


def tools_note(view: ScenarioView) -> str:
    """Tool checks that no longer fit their turn (the web app changed the turns), in red: they
    are attached to no turn, so put them back with `+ tool check` on the right turn and save."""
    parts = [
        f'<div style="color:#b00020"><small>{html.escape(problem)}</small></div>'
        for problem in view.tool_problems
    ]
    return "".join(parts)
