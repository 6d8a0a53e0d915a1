"""`SuiteEditor`: a suite's name and its scenarios in order: add from a picker, remove, reorder.

    from workbench.widgets.suite_editor import SuiteEditor
    SuiteEditor(wb.suites, scenarios=wb.scenarios)

Each action is one `wb.suites` call (`create`, `update`, `add`, `remove`, `reorder`), and the
table is read back with `items()` (one query with counts and status). The picker searches your
scenarios a page at a time through `scenarios.list`.
"""

from __future__ import annotations

from collections.abc import Callable

from ipywidgets import HTML, Button, HBox, Label, Layout, Select, Text, Textarea, VBox

from workbench.errors import WorkbenchError
from workbench.services.scenarios.service import ScenarioService
from workbench.services.suite_types import SuiteItem
from workbench.services.suites import SuiteService
from workbench.widgets._common import PlainRepr, show_status
from workbench.widgets.chips import ChipsInput

PICKER_SIZE = 50
_SMALL = Layout(width="auto")


class SuiteItemRow(HBox):  # type: ignore[misc]
    """One scenario of the suite: position, name, status, counts; up, down, remove."""

    def __init__(self, item: SuiteItem) -> None:
        super().__init__()
        self.item = item
        self.label = Label(
            f"{item.position + 1}. {item.name} · {item.status.value} · "
            f"{item.turn_count} turns, {item.expectation_count} expectations",
            layout=Layout(width="60%"),
        )
        self.up_button = Button(description="Up", icon="arrow-up", layout=_SMALL)
        self.down_button = Button(description="Down", icon="arrow-down", layout=_SMALL)
        self.remove_button = Button(description="Remove", icon="times", layout=_SMALL)
        self.children = [self.label, self.up_button, self.down_button, self.remove_button]


class SuiteEditor(PlainRepr, VBox):  # type: ignore[misc]
    """Edit one suite (a new one if `suite_id` is None); `scenarios` feeds the picker."""

    def __init__(
        self,
        service: SuiteService,
        suite_id: str | None = None,
        *,
        scenarios: ScenarioService | None = None,
    ) -> None:
        super().__init__()
        self._service = service
        self._scenarios = scenarios
        self.suite_id: str | None = None
        self.items: list[SuiteItemRow] = []
        self.name = Text(description="Name")
        self.description = Textarea(description="Description", placeholder="optional")
        self.tags = ChipsInput(placeholder="a tag, then Enter")
        self.save_button = Button(description="Save suite", button_style="primary", icon="save")
        self.item_box = VBox()
        self.picker_search = Text(description="Find", placeholder="scenario name")
        self.picker = Select(options=[], rows=6, description="Scenarios")
        self.add_button = Button(description="Add to suite", icon="plus")
        self.message = Label()
        self.save_button.on_click(lambda _b: self.save())
        self.add_button.on_click(lambda _b: self.add_selected())
        self.picker_search.observe(lambda _c: self.refresh_picker(), names="value")
        picker: list[object] = [
            HBox([self.picker_search]),
            HBox([self.picker, self.add_button]),
        ]
        if scenarios is None:
            picker = [HTML("<i>Pass scenarios=wb.scenarios to pick scenarios here.</i>")]
        self.children = [
            self.name,
            self.description,
            HBox([Label("Tags", layout=Layout(width="90px", flex="0 0 auto")), self.tags]),
            self.save_button,
            HTML("<b>Scenarios, in run order</b>"),
            self.item_box,
            *picker,
            self.message,
        ]
        self.refresh_picker()
        if suite_id is None:
            self._show_items([])
        else:
            self._load(suite_id)

    def save(self) -> None:
        """Create the suite, or rename it and change its description and tags."""
        fields = {
            "name": self.name.value,
            "description": self.description.value or None,
            "tags": list(self.tags.value),
        }
        try:
            if self.suite_id is None:
                view = self._service.create(**fields)
            else:
                view = self._service.update(self.suite_id, **fields)
        except WorkbenchError as error:
            show_status(self.message, f"Not saved: {error}", error=True)
            return
        self.suite_id = view.id
        show_status(self.message, f"Saved suite {view.name!r}.")
        self._refresh_items()

    def refresh_picker(self) -> None:
        """Your scenarios matching the search, a page of them (one query)."""
        if self._scenarios is None:
            return
        page = self._scenarios.list(
            search=self.picker_search.value or None,
            sort="name",
            limit=PICKER_SIZE,
            count_total=False,
        )
        self.picker.options = [
            (f"{s.name} · {s.status.value} · {s.turn_count} turns", s.id) for s in page
        ]

    def add_selected(self) -> None:
        """Append the scenario selected in the picker (save the suite first)."""
        if self.suite_id is None:
            show_status(self.message, "Save the suite first, then add scenarios.", error=True)
            return
        if self.picker.value is None:
            show_status(self.message, "Pick a scenario to add.", error=True)
            return
        self._act(lambda sid: self._service.add(sid, [self.picker.value]), "Added.")

    def _act(self, action: Callable[[str], object], done: str) -> None:
        assert self.suite_id is not None
        try:
            action(self.suite_id)
        except WorkbenchError as error:
            show_status(self.message, str(error), error=True)
        else:
            show_status(self.message, done)
        self._refresh_items()

    def _move(self, row: SuiteItemRow, by: int) -> None:
        order = [r.item.scenario_id for r in self.items]
        index = order.index(row.item.scenario_id)
        target = index + by
        if not 0 <= target < len(order):
            return
        order[index], order[target] = order[target], order[index]
        self._act(lambda sid: self._service.reorder(sid, order), "Moved.")

    def _remove(self, row: SuiteItemRow) -> None:
        scenario_id = row.item.scenario_id
        self._act(
            lambda sid: self._service.remove(sid, [scenario_id]), f"Removed {row.item.name!r}."
        )

    def _load(self, suite_id: str) -> None:
        view = self._service.get(suite_id)
        self.suite_id = view.id
        self.name.value = view.name
        self.description.value = view.description or ""
        self.tags.value = list(view.tags)
        self._refresh_items()

    def _refresh_items(self) -> None:
        if self.suite_id is not None:
            self._show_items(self._service.items(self.suite_id))

    def _show_items(self, items: list[SuiteItem]) -> None:
        for row in self.items:
            row.close()
        self.items = []
        for item in items:
            row = SuiteItemRow(item)
            row.up_button.on_click(lambda _b, r=row: self._move(r, -1))
            row.down_button.on_click(lambda _b, r=row: self._move(r, 1))
            row.remove_button.on_click(lambda _b, r=row: self._remove(r))
            self.items.append(row)
        self.item_box.children = self.items or [HTML("<i>No scenarios in this suite yet.</i>")]

    def __repr__(self) -> str:
        if not hasattr(self, "message"):
            return "SuiteEditor(being built)"
        name = self.name.value or "(no name)"
        state = "saved" if self.suite_id else "new"
        return f"SuiteEditor({name!r}, {len(self.items)} scenarios, {state})"
