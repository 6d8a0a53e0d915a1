"""`SuiteEditor`: a suite's name and its scenarios in order: add from a picker, remove, reorder.

    from workbench.widgets.suite_editor import SuiteEditor
    SuiteEditor(wb.suites, scenarios=wb.scenarios)

Each action is one `wb.suites` call (`create`, `update`, `add`, `remove`, `reorder`), and the
table is read back with `items()` (one query with counts and status). The picker searches your
scenarios a page at a time through `scenarios.list`: tick several (or "Tick all shown") and
Add puts them all in, in the order shown; scenarios already in the suite are shown, not
tickable. `refresh_picker()` (its Refresh button, and the studio each time the Suites tab is
shown) reads the list again, so scenarios made meanwhile appear.
"""

from __future__ import annotations

from collections.abc import Callable

from ipywidgets import HTML, Button, Checkbox, HBox, Label, Layout, Text, Textarea, VBox

from workbench.errors import WorkbenchError
from workbench.services.scenarios.service import ScenarioService
from workbench.services.suites.service import SuiteService
from workbench.services.suites.types import SuiteItem
from workbench.widgets._common import PlainRepr, show_status
from workbench.widgets.chips import ChipsInput

PICKER_SIZE = 50
_SMALL = Layout(width="auto", flex="0 0 auto")
_WRAP = Layout(flex_flow="row wrap", align_items="center")


class SuiteItemRow(HBox):  # type: ignore[misc]
    """One scenario of the suite: position, name, status, counts; up, down, remove."""

    def __init__(self, item: SuiteItem) -> None:
        super().__init__(layout=_WRAP)
        self.item = item
        self.label = Label(
            f"{item.position}. {item.name} · {item.status.value} · "
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
        self.name = Text(description="Name", placeholder="what the suite is for")
        self.description = Textarea(description="Description", placeholder="optional")
        self.tags = ChipsInput(placeholder="a tag, then Enter")
        self.save_button = Button(description="Save suite", button_style="primary", icon="save")
        self.item_box = VBox()
        self.picker_search = Text(description="Find", placeholder="scenario name")
        self.picker_rows: list[Checkbox] = []
        self._picker_ids: list[str] = []
        self.picker_box = VBox(layout=Layout(max_height="16em", overflow="auto"))
        self.refresh_picker_button = Button(description="Refresh", icon="refresh", layout=_SMALL)
        self.tick_all_button = Button(description="Tick all shown", icon="check", layout=_SMALL)
        self.add_button = Button(description="Add ticked", icon="plus", layout=_SMALL)
        self.message = Label()
        self.save_button.on_click(lambda _b: self.save())
        self.add_button.on_click(lambda _b: self.add_selected())
        self.tick_all_button.on_click(lambda _b: self.tick_all())
        self.refresh_picker_button.on_click(lambda _b: self.refresh_picker())
        self.picker_search.observe(lambda _c: self.refresh_picker(), names="value")
        picker: list[object] = [
            HTML("<b>Add scenarios</b>"),
            HBox([self.picker_search, self.refresh_picker_button], layout=_WRAP),
            self.picker_box,
            HBox([self.tick_all_button, self.add_button], layout=_WRAP),
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
        if suite_id is None:
            self._show_items([])
            self.refresh_picker()
        else:
            self._load(suite_id)  # reads the items, then the picker

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
        """Your scenarios matching the search, a page of them (one query), none ticked."""
        if self._scenarios is None:
            return
        page = self._scenarios.list(
            search=self.picker_search.value or None,
            sort="name",
            limit=PICKER_SIZE,
            count_total=False,
        )
        members = {row.item.scenario_id for row in self.items}
        while len(self.picker_rows) < len(page.items):  # rows are reused: widgets cost
            self.picker_rows.append(
                Checkbox(indent=False, layout=Layout(width="auto", max_width="100%"))
            )
        self._picker_ids = [s.id for s in page]
        for tick, scenario in zip(self.picker_rows, page, strict=False):
            inside = scenario.id in members
            tick.description = (
                f"{scenario.name} · {scenario.status.value} · {scenario.turn_count} turns"
                + (" · in the suite" if inside else "")
            )
            tick.value, tick.disabled = False, inside
        shown = self.picker_rows[: len(page.items)]
        self.picker_box.children = shown or [HTML("<i>No scenario matches.</i>")]

    def tick_all(self) -> None:
        """Tick every scenario shown that is not in the suite yet."""
        for tick in self.picker_rows[: len(self._picker_ids)]:
            tick.value = not tick.disabled

    def ticked(self) -> list[str]:
        """The ids of the ticked scenarios, in the order shown."""
        rows = self.picker_rows[: len(self._picker_ids)]
        return [sid for sid, tick in zip(self._picker_ids, rows, strict=True) if tick.value]

    def add_selected(self) -> None:
        """Append every ticked scenario, in the order shown (save the suite first)."""
        if self.suite_id is None:
            show_status(self.message, "Save the suite first, then add scenarios.", error=True)
            return
        chosen = self.ticked()
        if not chosen:
            show_status(self.message, "Tick the scenarios to add.", error=True)
            return
        count = f"{len(chosen)} scenario" + ("" if len(chosen) == 1 else "s")
        self._act(lambda sid: self._service.add(sid, chosen), f"Added {count}.")

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
            self.refresh_picker()  # "in the suite" marks, nothing left ticked

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
