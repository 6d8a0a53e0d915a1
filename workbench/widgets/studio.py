"""`studio(wb)`: every editor in one widget, one tab each, so a whole session fits in one cell.

    wb.studio()        # or: workbench.studio(wb)

Tabs: Scenarios (the browser and its editor), Suites, Prompts, Variables, API keys, Runs (start
a run, watch it, open and compare past runs), plus any `extra_tabs` given. Saving variables
redraws the prompt preview, so a placeholder filled in one tab shows as filled in the other;
a tab coming into view reads its lists again (a scenario made meanwhile, a new key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ipywidgets import Button, Dropdown, HBox, Tab, VBox

from workbench.widgets._common import PlainRepr
from workbench.widgets.api_keys import ApiKeyEditor
from workbench.widgets.prompt_editor import PromptEditor
from workbench.widgets.runs_tab import RunsTab
from workbench.widgets.scenario_browser import ScenarioBrowser
from workbench.widgets.suite_editor import SuiteEditor
from workbench.widgets.variable_editor import VariableEditor

if TYPE_CHECKING:
    from workbench.handle import Workbench

CHOOSER_SIZE = 200


class ChooserTab(VBox):  # type: ignore[misc]
    """A dropdown of your suites or prompts, Open and New, and the editor below them."""

    def __init__(
        self,
        list_names: Callable[[], list[tuple[str, str]]],
        make_editor: Callable[[str | None], Any],
    ) -> None:
        super().__init__()
        self._list_names = list_names
        self._make_editor = make_editor
        self.chooser = Dropdown(options=[], description="Open")
        self.open_button = Button(description="Open", icon="folder-open")
        self.new_button = Button(description="New", icon="plus", button_style="primary")
        self.refresh_button = Button(description="Refresh list", icon="refresh")
        self.editor: Any = None
        self.editor_box = VBox()
        self.open_button.on_click(lambda _b: self.open_editor(self.chooser.value))
        self.new_button.on_click(lambda _b: self.open_editor(None))
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.children = [
            HBox([self.chooser, self.open_button, self.new_button, self.refresh_button]),
            self.editor_box,
        ]
        self.refresh()
        self.open_editor(None)

    def refresh(self, select: str | None = None) -> None:
        """Read the names again; choose `select` (the item just saved) when given."""
        self.chooser.options = self._list_names()
        ids = [item_id for _, item_id in self.chooser.options]
        if select in ids:
            self.chooser.value = select
        elif self.chooser.value is None and ids:
            self.chooser.value = ids[0]

    def on_show(self) -> None:
        """The tab came into view: names, and the suite editor's scenarios, read again."""
        self.refresh(self.chooser.value)
        refresh_picker = getattr(self.editor, "refresh_picker", None)
        if refresh_picker is not None:
            refresh_picker()

    def open_editor(self, item_id: str | None) -> Any:
        if self.editor is not None:
            self.editor.close()
        self.editor = self._make_editor(item_id)
        editor = self.editor
        # Suites and prompts name their id differently; either is the item just saved.
        editor.save_button.on_click(
            lambda _b: self.refresh(
                getattr(editor, "suite_id", None) or getattr(editor, "prompt_id", None)
            )
        )
        self.editor_box.children = [self.editor]
        return self.editor


class Studio(PlainRepr, Tab):  # type: ignore[misc]
    """Scenarios, Suites, Prompts, Variables, API keys and Runs in tabs; parts public as
    attributes (`studio.runs`, `studio.suites.editor`, ...)."""

    def __init__(self, wb: Workbench, extra_tabs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.scenarios = ScenarioBrowser(wb.scenarios)
        self.suites = ChooserTab(
            lambda: [(s.name, s.id) for s in wb.suites.list(sort="name", limit=CHOOSER_SIZE)],
            lambda suite_id: SuiteEditor(wb.suites, suite_id, scenarios=wb.scenarios),
        )
        self.prompts = ChooserTab(
            lambda: [(p.name, p.id) for p in wb.prompts.list(sort="name", limit=CHOOSER_SIZE)],
            lambda prompt_id: PromptEditor(wb.prompts, prompt_id, variables=wb.variables),
        )
        self.variables = VariableEditor(wb.variables)
        self.variables.on_saved.append(lambda: self.prompts.editor.refresh_variables())
        self.api_keys = ApiKeyEditor(wb.api_keys)
        self.runs = RunsTab(wb)
        tabs: dict[str, Any] = {
            "Scenarios": self.scenarios,
            "Suites": self.suites,
            "Prompts": self.prompts,
            "Variables": self.variables,
            "API keys": self.api_keys,
            "Runs": self.runs,
            **(extra_tabs or {}),
        }
        self.tabs = tabs
        self.children = list(tabs.values())
        self.titles = tuple(tabs)
        # What another tab, cell or kernel made meanwhile shows when a tab comes into view.
        self.observe(self._shown, names="selected_index")

    def _shown(self, change: Any) -> None:
        index = change.new
        if index is None or not 0 <= index < len(self.children):
            return
        on_show = getattr(self.children[index], "on_show", None)
        if on_show is not None:
            on_show()

    def __repr__(self) -> str:
        if not hasattr(self, "tabs"):
            return "Studio(being built)"
        return f"Studio(tabs: {', '.join(self.tabs)})"


def studio(wb: Workbench, *, extra_tabs: Mapping[str, Any] | None = None) -> Studio:
    """One widget holding every editor: `workbench.studio(wb)` (same as `wb.studio()`)."""
    return Studio(wb, extra_tabs)


__all__ = ["Studio", "studio"]
