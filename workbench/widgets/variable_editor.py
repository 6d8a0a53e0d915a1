"""`VariableEditor`: your variables as an editable table; Save writes every change at once.

    from workbench.widgets.variable_editor import VariableEditor
    editor = VariableEditor(wb.variables)
    editor.paste_text("company=Acme\\ntone=friendly")    # or editor.paste_frame(df)

Save sends every new or changed row to `wb.variables.set_many` as one frame: one statement,
one transaction, all or nothing. The service's problems name their row ("row 3: key ..."),
which puts each one beside its row. Delete removes a stored variable at once (after Yes).
"""

from __future__ import annotations

import re
from typing import Any

from ipywidgets import HTML, Button, HBox, Label, Layout, Text, Textarea, VBox

from workbench.errors import ValidationError, WorkbenchError
from workbench.services.variables import VariableService, VariableView
from workbench.widgets._common import (
    ConfirmedDelete,
    PlainRepr,
    problem_texts,
    problems_html,
    show_status,
)

ROW_PROBLEM = re.compile(r"^row (\d+): (.*)$", re.DOTALL)


class VariableRow(VBox):  # type: ignore[misc]
    """One variable: key (fixed once stored), value, description, and its problems."""

    def __init__(self, view: VariableView | None, key: str = "", value: str = "") -> None:
        super().__init__()
        self.stored = view
        self.key = Text(value=view.key if view else key, placeholder="key")
        self.key.disabled = view is not None  # renaming is delete + add; say so by not allowing it
        self.value = Text(value=view.value if view else value, placeholder="value")
        self.description = Text(
            value=(view.description or "") if view else "", placeholder="description"
        )
        self.delete = ConfirmedDelete(lambda: None, what=repr(self.key.value))
        self.remove_button = Button(description="Remove", icon="times", layout=Layout(width="auto"))
        self.problems = HTML("")
        action = self.delete if view is not None else self.remove_button
        self.children = [HBox([self.key, self.value, self.description, action]), self.problems]

    @property
    def changed(self) -> bool:
        if self.stored is None:
            return True
        return (self.value.value, self.description.value or None) != (
            self.stored.value,
            self.stored.description,
        )


class VariableEditor(PlainRepr, VBox):  # type: ignore[misc]
    """Add, edit, delete and paste variables; `save_button` writes them in one transaction."""

    def __init__(self, service: VariableService) -> None:
        super().__init__()
        self._service = service
        self.rows: list[VariableRow] = []
        self.row_box = VBox()
        self.add_button = Button(description="+ variable", icon="plus")
        self.paste = Textarea(placeholder="key=value, one a line", layout=Layout(width="60%"))
        self.paste_button = Button(description="Add lines", icon="paste")
        self.save_button = Button(description="Save variables", button_style="primary", icon="save")
        self.message = Label()
        self.on_saved: list[Any] = []
        self.add_button.on_click(lambda _b: self.add_row())
        self.paste_button.on_click(lambda _b: self._paste_lines())
        self.save_button.on_click(lambda _b: self.save())
        self.children = [
            HTML("<b>Variables</b> (fill <code>{{key}}</code> placeholders in prompts)"),
            self.row_box,
            self.add_button,
            HBox([self.paste, self.paste_button]),
            self.save_button,
            self.message,
        ]
        self.refresh()

    def refresh(self) -> None:
        """Show the stored variables again (one query); unsaved rows are dropped."""
        for row in self.rows:
            row.close()
        self.rows = []
        for view in self._service.list():
            self._append(VariableRow(view))
        self._show_rows()

    def add_row(self, key: str = "", value: str = "") -> VariableRow:
        row = VariableRow(None, key, value)
        self._append(row)
        self._show_rows()
        return row

    def paste_text(self, text: str) -> int:
        """Add a new row per `key=value` line (blank lines skipped); returns how many."""
        count = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            row = self.add_row(key.strip(), value.strip() if sep else "")
            if not sep:
                row.problems.value = problems_html([f"{line!r} has no '='; write key=value"])
            count += 1
        return count

    def _paste_lines(self) -> None:
        count = self.paste_text(self.paste.value)
        self.paste.value = ""
        show_status(self.message, f"Added {count} row(s); Save writes them.")

    def paste_frame(self, frame: Any) -> int:
        """Add a new row per row of a DataFrame with `key` and `value` columns."""
        for key, value in zip(frame["key"], frame["value"], strict=True):
            self.add_row(str(key), str(value))
        return len(frame)

    def save(self) -> None:
        """Every new or changed row through one `set_many` call; nothing written on a problem."""
        import pandas as pd

        pending = [row for row in self.rows if row.changed]
        for row in self.rows:
            row.problems.value = ""
        if not pending:
            show_status(self.message, "Nothing to save.")
            return
        frame = pd.DataFrame(
            {
                "key": [row.key.value for row in pending],
                "value": [row.value.value for row in pending],
                "description": [row.description.value or None for row in pending],
            }
        )
        try:
            self._service.set_many(frame)
        except ValidationError as error:
            self._place(pending, error)
            return
        except WorkbenchError as error:
            show_status(self.message, f"Not saved: {error}", error=True)
            return
        self.refresh()
        show_status(self.message, f"Saved {len(pending)} variable(s).")
        for callback in self.on_saved:
            callback()

    def problems_shown(self) -> list[str]:
        """The problems shown beside the rows, as text: "row 2: '2tone' is not a valid key..."."""
        return [
            f"row {index}: {text}"
            for index, row in enumerate(self.rows, start=1)
            for text in problem_texts(row.problems)
        ]

    def _place(self, pending: list[VariableRow], error: ValidationError) -> None:
        by_row: dict[int, list[str]] = {}
        other: list[str] = []
        for problem in error.problems:
            match = ROW_PROBLEM.match(problem)
            if match and int(match.group(1)) < len(pending):
                by_row.setdefault(int(match.group(1)), []).append(match.group(2))
            else:
                other.append(problem)
        for index, messages in by_row.items():
            pending[index].problems.value = problems_html(messages)
        count = len(error.problems)
        rest = f" {'; '.join(other)}" if other else ""
        show_status(
            self.message,
            f"Not saved: {count} problem(s), shown beside their rows; nothing was written.{rest}",
            error=True,
        )

    def _append(self, row: VariableRow) -> None:
        row.delete._on_confirm = lambda: self._delete(row)
        row.remove_button.on_click(lambda _b: self._remove(row))
        self.rows.append(row)

    def _remove(self, row: VariableRow) -> None:
        self.rows.remove(row)
        row.close()
        self._show_rows()

    def _delete(self, row: VariableRow) -> None:
        key = row.key.value
        try:
            self._service.delete(key)
        except WorkbenchError as error:
            show_status(self.message, str(error), error=True)
            return
        self._remove(row)
        show_status(self.message, f"Deleted {key!r}.")
        for callback in self.on_saved:
            callback()

    def _show_rows(self) -> None:
        self.row_box.children = self.rows or [HTML("<i>No variables yet.</i>")]

    def __repr__(self) -> str:
        if not hasattr(self, "message"):
            return "VariableEditor(being built)"
        stored = sum(row.stored is not None for row in self.rows)
        pending = sum(row.changed for row in self.rows)
        return f"VariableEditor({stored} stored, {pending} unsaved)"
