"""The History and Conflict panels of `ScenarioEditor`: versions, diffs, restore, who is ahead."""

from __future__ import annotations

import html
from collections.abc import Callable

from ipywidgets import HTML, Button, Dropdown, HBox, Select, VBox

from workbench.errors import WorkbenchError
from workbench.services.scenarios.service import ScenarioService
from workbench.services.scenarios.types import ScenarioCreate, ScenarioDiff, ScenarioView
from workbench.services.scenarios.versions import diff_contents
from workbench.widgets._common import ERROR_COLOR, PlainRepr

Loaded = Callable[[ScenarioView], None]


def pre(text: str) -> str:
    return f"<pre style='white-space:pre-wrap;margin:4px 0'>{html.escape(text)}</pre>"


class HistoryPanel(VBox):  # type: ignore[misc]
    """Every saved version; the diff between any two; restore one (as a new version)."""

    def __init__(self, service: ScenarioService, on_restored: Loaded) -> None:
        super().__init__()
        self._service = service
        self._on_restored = on_restored
        self.scenario_id: str | None = None
        self.current_version = 0
        self.versions = Select(options=[], rows=6, description="Versions")
        self.from_version = Dropdown(options=[], description="From")
        self.to_version = Dropdown(options=[], description="To")
        self.diff_button = Button(description="Show diff", icon="exchange")
        self.diff_text = HTML("")
        self.restore_button = Button(description="Restore selected version", icon="undo")
        self.message = HTML("")
        self.diff_button.on_click(self._on_diff)
        self.restore_button.on_click(self._on_restore)
        self.children = [
            self.versions,
            HBox([self.from_version, self.to_version, self.diff_button]),
            self.diff_text,
            self.restore_button,
            self.message,
        ]

    def refresh(self, scenario_id: str, current_version: int) -> None:
        """Reload the version list (one query), newest first."""
        self.scenario_id, self.current_version = scenario_id, current_version
        history = self._service.history(scenario_id)
        labels = [
            (f"v{v.version} · {v.created_at:%Y-%m-%d %H:%M} UTC · {v.note or ''}", v.version)
            for v in history
        ]
        numbers = [(f"v{v.version}", v.version) for v in history]
        self.versions.options = labels
        self.from_version.options = numbers
        self.to_version.options = numbers
        if history:
            self.versions.value = history[0].version
            self.to_version.value = history[0].version
            self.from_version.value = history[min(1, len(history) - 1)].version
        self.diff_text.value = ""

    def _on_diff(self, _button: Button) -> None:
        if self.scenario_id is None or self.from_version.value is None:
            return
        try:
            diff = self._service.diff(
                self.scenario_id, self.from_version.value, self.to_version.value
            )
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        self.diff_text.value = pre(str(diff))

    def _on_restore(self, _button: Button) -> None:
        if self.scenario_id is None or self.versions.value is None:
            return
        version = self.versions.value
        try:
            view = self._service.restore(
                self.scenario_id, version, expected_version=self.current_version
            )
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        self._on_restored(view)
        self._say(f"Restored version {version} as version {view.version}.")

    def _say(self, message: str, *, error: bool = False) -> None:
        color = f" style='color:{ERROR_COLOR}'" if error else ""
        self.message.value = f"<span{color}>{html.escape(message)}</span>"


class ConflictPanel(PlainRepr, VBox):  # type: ignore[misc]
    """Shown when a save finds the scenario saved elsewhere: who is ahead, Reload, Show changes."""

    def __repr__(self) -> str:
        stored = getattr(self, "stored", None)
        if stored is None:
            return "ConflictPanel(no conflict)"
        return (
            f"ConflictPanel(saved elsewhere: version {stored.version} is stored, "
            f"you opened version {self._had_version}; nothing was overwritten)"
        )

    def __init__(self, service: ScenarioService, on_reload: Loaded) -> None:
        super().__init__()
        self._service = service
        self._on_reload = on_reload
        self.message = HTML("")
        self.reload_button = Button(description="Reload (discard my edits)", icon="refresh")
        self.show_changes_button = Button(description="Show changes", icon="exchange")
        self.changes = HTML("")
        self.stored: ScenarioView | None = None
        self._mine: ScenarioCreate | None = None
        self._had_version = 0
        self.reload_button.on_click(self._reload)
        self.show_changes_button.on_click(self._show_changes)
        self.children: tuple[object, ...] = ()

    def show(self, stored: ScenarioView, had_version: int, mine: ScenarioCreate) -> None:
        self.stored, self._had_version, self._mine = stored, had_version, mine
        self.message.value = (
            f"<b style='color:{ERROR_COLOR}'>Not saved: this scenario was saved elsewhere "
            f"since you opened it.</b> It is now at version {stored.version} (saved "
            f"{stored.updated_at:%Y-%m-%d %H:%M:%S} UTC); you opened version {had_version}. "
            "Nothing was overwritten: reload it, or look at the changes first."
        )
        self.changes.value = ""
        self.children = (
            self.message,
            HBox([self.reload_button, self.show_changes_button]),
            self.changes,
        )

    def hide(self) -> None:
        self.stored = None
        self.children = ()

    def _reload(self, _button: Button) -> None:
        if self.stored is None:
            return
        view = self._service.get(self.stored.id)
        self.hide()
        self._on_reload(view)

    def _show_changes(self, _button: Button) -> None:
        if self.stored is None or self._mine is None:
            return
        theirs: ScenarioDiff = self._service.diff(
            self.stored.id, self._had_version, self.stored.version
        )
        mine = diff_contents(self.stored.to_create(), self._mine)
        lines = [str(change) for change in mine] or ["(no differences)"]
        self.changes.value = (
            "<b>Saved elsewhere since you opened it</b>"
            + pre(str(theirs))
            + f"<b>Your edits compared with version {self.stored.version}</b>"
            + pre("\n".join(lines))
        )
