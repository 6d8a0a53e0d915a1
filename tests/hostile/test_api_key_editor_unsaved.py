"""A key typed into ApiKeyEditor but not saved: cleared on a timer, blanked by the pre-save hook."""

from __future__ import annotations

import time

import pytest

from workbench.handle import Workbench
from workbench.widgets.api_keys import ApiKeyEditor, scrub_saved_passwords


def test_an_unsaved_key_is_cleared_after_clear_after_seconds(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ApiKeyEditor, "clear_after", 0.2)
    editor = ApiKeyEditor(wb.api_keys)
    assert "Cleared after" in editor.secret_note.value
    editor.secret.value = "sk-typed-not-saved"
    deadline = time.monotonic() + 5
    while editor.secret.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert editor.secret.value == ""
    assert "cleared after" in editor.status.value
    editor.close()


def test_the_pre_save_hook_blanks_every_password_field_and_nothing_else() -> None:
    state = {
        "a": {"model_name": "PasswordModel", "state": {"value": "sk-typed", "description": "k"}},
        "b": {"model_name": "TextModel", "state": {"value": "laptop"}},
    }
    model = {
        "type": "notebook",
        "content": {
            "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": state}}}
        },
    }
    scrub_saved_passwords(model, path="x.ipynb", contents_manager=None)
    assert state["a"]["state"] == {"value": "", "description": "k"}
    assert state["b"]["state"] == {"value": "laptop"}
    scrub_saved_passwords({"type": "file", "content": "text"})  # other files: left alone
