"""`ApiKeyEditor`: enter, replace, deactivate and delete provider API keys from a notebook.

    from workbench.widgets.api_keys import ApiKeyEditor
    ApiKeyEditor(wb.api_keys)

A view over `ApiKeyService`: everything it shows comes from `list()` (metadata only), and the
key typed into the password field is handed to `set()` and then cleared, whether the save worked
or not, so a notebook saved with its widget state never holds it.

A key typed but not saved is the gap ipywidgets leaves: the password field's `value` is a synced
trait, and JupyterLab's "Save Widget State Automatically" writes every model's state, that value
included, into the notebook. The kernel cannot exclude one trait from the front end's saved
state, so the editor narrows the gap and says so beside the field: an unsaved key is cleared
`clear_after` seconds (60) after it was typed. `scrub_saved_passwords` closes it for servers that
register it as the contents manager's `pre_save_hook` (every PasswordModel value blanked on save).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ipywidgets import HTML, Button, Dropdown, HBox, Label, Layout, Password, Text, VBox

from workbench.errors import WorkbenchError
from workbench.services.keys.service import PROVIDERS, ApiKeyService, ApiKeyView

_ERROR_COLOR = "#b00020"


class ApiKeyRow(HBox):  # type: ignore[misc]
    """One stored key: what it is, and buttons to deactivate or reactivate and delete it."""

    def __init__(self, view: ApiKeyView) -> None:
        super().__init__()
        self.view = view
        label = PROVIDERS.get(view.provider, view.provider)
        state = "active" if view.is_active else "deactivated"
        self.summary = Label(
            f"{label} · {view.key_name} · {state} · updated {view.updated_at:%Y-%m-%d %H:%M} UTC"
        )
        self.deactivate_button = Button(description="Deactivate", icon="pause")
        self.reactivate_button = Button(description="Reactivate", icon="play")
        self.delete_button = Button(description="Delete", icon="trash", button_style="danger")
        toggle = self.deactivate_button if view.is_active else self.reactivate_button
        self.children = [self.summary, toggle, self.delete_button]

    def close(self) -> None:
        """Close the row and all its parts (the toggle not shown included)."""
        for part in (
            self.summary,
            self.deactivate_button,
            self.reactivate_button,
            self.delete_button,
        ):
            part.close()
        super().close()


class ApiKeyEditor(VBox):  # type: ignore[misc]
    """Enter a key for a provider and manage the keys already stored.

    >>> editor = ApiKeyEditor(wb.api_keys)   # doctest: +SKIP
    >>> editor                               # doctest: +SKIP
    """

    def __init__(self, service: ApiKeyService) -> None:
        super().__init__()
        self._service = service
        self.provider = Dropdown(
            options=[(label, name) for name, label in PROVIDERS.items()], description="Provider"
        )
        self.key_name = Text(description="Key name", placeholder="for example: work")
        self.secret = Password(description="API key", placeholder="paste the key here")
        # Under the field and wrapping: beside it, a Label ran off the page's edge.
        self.secret_note = HTML(
            f"<small>Not saved yet? Cleared after {self.clear_after:.0f} s: a notebook saved "
            "with its widget state while a key sits here unsaved would hold it.</small>",
            layout=Layout(margin="0 0 4px 90px"),
        )
        self._clear_timer: threading.Timer | None = None
        self.secret.observe(self._on_typed, names="value")
        self.save_button = Button(description="Save key", button_style="primary", icon="lock")
        self.status = Label()
        self.key_list = VBox(layout=Layout(margin="8px 0 0 0"))
        self.key_rows: dict[str, ApiKeyRow] = {}
        self._no_keys = Label("No keys stored yet.")
        self.save_button.on_click(self._on_save)
        self.children = [
            HTML("<b>Provider API keys</b> (stored encrypted; never shown again)"),
            self.provider,
            self.key_name,
            self.secret,
            self.secret_note,
            self.save_button,
            self.status,
            self.key_list,
        ]
        self.refresh()

    clear_after: float = 60.0
    """Seconds an unsaved key stays in the field before it is cleared."""

    def _on_typed(self, change: dict[str, Any]) -> None:
        if self._clear_timer is not None:
            self._clear_timer.cancel()
            self._clear_timer = None
        if change["new"]:
            self._clear_timer = threading.Timer(self.clear_after, self._clear_unsaved)
            self._clear_timer.daemon = True
            self._clear_timer.start()

    def _clear_unsaved(self) -> None:
        if self.secret.value:
            self.secret.value = ""
            self._show(
                f"The key was cleared after {self.clear_after:.0f} s without being saved "
                "(so a saved notebook cannot hold it); paste it again and press Save key."
            )

    def close(self) -> None:
        """Close the editor; a pending clear of the field is cancelled."""
        if self._clear_timer is not None:
            self._clear_timer.cancel()
        super().close()

    def refresh(self) -> None:
        """Reload the list of stored keys from the database."""
        views = self._service.list()
        # Close the rows being replaced, so the kernel does not keep their widgets alive.
        for row in self.key_rows.values():
            row.close()
        self.key_rows = {view.provider: self._row_for(view) for view in views}
        self.key_list.children = list(self.key_rows.values()) or [self._no_keys]

    def _on_save(self, _button: Button) -> None:
        provider = self.provider.value
        try:
            view = self._service.set(
                provider=provider, api_key=self.secret.value, key_name=self.key_name.value
            )
        except WorkbenchError as error:
            self._show(f"Not saved: {error}", error=True)
            return
        finally:
            # Cleared on success and failure alike: the key must not linger in a synced trait.
            self.secret.value = ""
        self._show(f"Saved the {PROVIDERS[provider]} key {view.key_name!r}.")
        self.refresh()

    def _row_for(self, view: ApiKeyView) -> ApiKeyRow:
        row = ApiKeyRow(view)
        provider = view.provider
        which = f"the {PROVIDERS.get(provider, provider)} key {view.key_name!r}"
        row.deactivate_button.on_click(
            self._action(
                lambda: self._service.deactivate(provider=provider), f"Deactivated {which}."
            )
        )
        row.reactivate_button.on_click(
            self._action(
                lambda: self._service.reactivate(provider=provider), f"Reactivated {which}."
            )
        )
        row.delete_button.on_click(
            self._action(lambda: self._service.delete(provider=provider), f"Deleted {which}.")
        )
        return row

    def _action(self, act: Callable[[], Any], done: str) -> Callable[[Button], None]:
        def on_click(button: Button) -> None:
            try:
                act()
            except WorkbenchError as error:
                self._show(str(error), error=True)
            else:
                self._show(done)
            self.refresh()

        return on_click

    def _show(self, message: str, *, error: bool = False) -> None:
        self.status.value = message
        self.status.style.text_color = _ERROR_COLOR if error else None


def scrub_saved_passwords(model: dict[str, Any], **_: Any) -> None:
    """A Jupyter server `pre_save_hook`: blank every password field in saved widget state.

    Register it with `c.FileContentsManager.pre_save_hook = "workbench.widgets.api_keys.
    scrub_saved_passwords"`; the front end then cannot write an unsaved key into the file.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    widgets = model["content"].get("metadata", {}).get("widgets", {})
    state = widgets.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for entry in state.values():
        if isinstance(entry, dict) and entry.get("model_name") == "PasswordModel":
            entry.get("state", {})["value"] = ""
