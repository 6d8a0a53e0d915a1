"""`ScenarioBrowser`: find, open, duplicate and delete scenarios, a page at a time.

    from workbench.widgets.scenario_browser import ScenarioBrowser
    ScenarioBrowser(wb.scenarios)

Every page is one `wb.scenarios.list(...)` call (with its counts), so 10,000 scenarios cost what
one page of them costs. Open shows a `ScenarioEditor` below the list.
"""

from __future__ import annotations

from typing import Any

from ipywidgets import HTML, Button, Dropdown, HBox, Label, Layout, Text, VBox

from workbench.errors import WorkbenchError
from workbench.services.scenarios.service import ScenarioService
from workbench.services.scenarios.types import ScenarioSummary
from workbench.widgets._common import ConfirmedDelete, PlainRepr, shared, show_status, small_button
from workbench.widgets.chips import ChipsInput
from workbench.widgets.scenario_editor import ScenarioEditor

PAGE_SIZE = 20
SORTS = {
    "Recently updated": ("updated_at", None),
    "Oldest update first": ("updated_at", False),
    "Name A–Z": ("name", None),
    "Name Z–A": ("name", True),
}
STATUSES = [
    ("Any status", ""),
    ("Draft", "DRAFT"),
    ("Published", "PUBLISHED"),
    ("Archived", "ARCHIVED"),
]


class ScenarioRow(HBox):  # type: ignore[misc]
    """One scenario of the list, with Open, Duplicate and Delete (which asks first)."""

    def __init__(self, summary: ScenarioSummary, on_delete: Any) -> None:
        s = shared()
        super().__init__(layout=s.plain)
        self.summary = summary
        tags = f" · {', '.join(summary.tags)}" if summary.tags else ""
        self.label = Label(
            f"{summary.name} · {summary.status.value} · v{summary.version} · "
            f"{summary.turn_count} turns, {summary.expectation_count} expectations{tags}",
            layout=s.wide_label,
            style=s.label_style,
        )
        self.open_button = small_button("Open", "edit")
        self.duplicate_button = small_button("Duplicate", "copy")
        self.delete = ConfirmedDelete(on_delete, what=repr(summary.name))
        self.children = [self.label, self.open_button, self.duplicate_button, self.delete]


class ScenarioBrowser(PlainRepr, VBox):  # type: ignore[misc]
    """Search, filter, sort and page through your scenarios; open one in the editor."""

    def __init__(self, service: ScenarioService, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self._service = service
        self.page_size = page_size
        self.offset = 0
        self.total = 0
        self.search = Text(description="Search", placeholder="name or description")
        self.status = Dropdown(options=STATUSES, value="", description="Status")
        self.tags = ChipsInput(placeholder="a tag, then Enter")
        self.sort = Dropdown(options=list(SORTS), value="Recently updated", description="Sort")
        self.previous_button = Button(description="Previous", icon="chevron-left")
        self.next_button = Button(description="Next", icon="chevron-right")
        self.new_button = Button(description="New scenario", icon="plus", button_style="primary")
        self.page_label = Label()
        self.message = Label()
        self.rows: list[ScenarioRow] = []
        self.row_box = VBox()
        self.editor: ScenarioEditor | None = None
        self.editor_box = VBox()
        for part in (self.search, self.status, self.tags, self.sort):
            part.observe(lambda _c: self.refresh(offset=0), names="value")
        self.previous_button.on_click(lambda _b: self.refresh(self.offset - self.page_size))
        self.next_button.on_click(lambda _b: self.refresh(self.offset + self.page_size))
        self.new_button.on_click(lambda _b: self.open_scenario(None))
        self.children = [
            HBox([self.search, self.status, self.sort]),
            HBox(
                [
                    Label("Tags", layout=Layout(width="90px", flex="0 0 auto")),
                    self.tags,
                    self.new_button,
                ]
            ),
            self.row_box,
            HBox([self.previous_button, self.page_label, self.next_button]),
            self.message,
            self.editor_box,
        ]
        self.refresh()

    def refresh(self, offset: int | None = None) -> None:
        """Read the current page again (one query, with the total count)."""
        self.offset = max(0, self.offset if offset is None else offset)
        sort, descending = SORTS[self.sort.value]
        try:
            page = self._service.list(
                search=self.search.value or None,
                status=self.status.value or None,
                tags=list(self.tags.value) or None,
                sort=sort,  # type: ignore[arg-type]
                descending=descending,
                offset=self.offset,
                limit=self.page_size,
            )
        except WorkbenchError as error:
            show_status(self.message, str(error), error=True)
            return
        self.total = page.total or 0
        for row in self.rows:
            row.close()
        self.rows = [self._row(summary) for summary in page]
        self.row_box.children = self.rows or [HTML("<i>No scenarios match.</i>")]
        last = self.offset + len(self.rows)
        first = self.offset + 1 if self.rows else 0
        self.page_label.value = f"{first}–{last} of {self.total:,}"
        self.previous_button.disabled = self.offset == 0
        self.next_button.disabled = last >= self.total

    def open_scenario(self, scenario_id: str | None) -> ScenarioEditor:
        """Show the editor for `scenario_id` (a new scenario if None) below the list."""
        if self.editor is not None:
            self.editor.close()
        editor = ScenarioEditor(self._service, scenario_id)
        # Saving in the editor changes names, counts and order: show the list as it now is.
        editor.save_button.on_click(lambda _b: self.refresh())
        self.editor = editor
        self.editor_box.children = [HTML("<hr><b>Editor</b>"), editor]
        return editor

    def _row(self, summary: ScenarioSummary) -> ScenarioRow:
        row = ScenarioRow(summary, lambda: self._delete(summary))
        row.open_button.on_click(lambda _b: self.open_scenario(summary.id))
        row.duplicate_button.on_click(lambda _b: self._duplicate(summary))
        return row

    def _duplicate(self, summary: ScenarioSummary) -> None:
        try:
            copy = self._service.duplicate(summary.id)
        except WorkbenchError as error:
            show_status(self.message, str(error), error=True)
            return
        show_status(self.message, f"Duplicated {summary.name!r} as {copy.name!r}.")
        self.refresh()

    def _delete(self, summary: ScenarioSummary) -> None:
        try:
            self._service.delete(summary.id)
        except WorkbenchError as error:
            show_status(self.message, str(error), error=True)
        else:
            show_status(self.message, f"Deleted {summary.name!r}.")
            if self.editor is not None and self.editor.scenario_id == summary.id:
                self.editor.close()
                self.editor, self.editor_box.children = None, []
        self.refresh()

    def __repr__(self) -> str:
        shown = self.page_label.value if hasattr(self, "page_label") else "none"
        return f"ScenarioBrowser({shown} scenarios shown)"
