"""ApiKeyEditor, driven as a user would: set `.value`, `.click()`, read what it shows."""

from __future__ import annotations

import pytest

from workbench.handle import Workbench
from workbench.services.keys.service import PROVIDERS
from workbench.widgets.api_keys import ApiKeyEditor

SECRET = "workbench-test-master-secret"
KEY = "sk-widget-1234567890abcdefghij"


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", SECRET)


@pytest.fixture
def editor(wb: Workbench) -> ApiKeyEditor:
    return ApiKeyEditor(wb.api_keys)


def enter(
    editor: ApiKeyEditor, *, provider: str = "openai", name: str = "work", key: str = KEY
) -> None:
    editor.provider.value = provider
    editor.key_name.value = name
    editor.secret.value = key
    editor.save_button.click()


def test_offers_every_known_provider(editor: ApiKeyEditor) -> None:
    assert [value for _, value in editor.provider.options] == list(PROVIDERS)


def test_shows_keys_already_stored(wb: Workbench) -> None:
    wb.api_keys.set(provider="anthropic", api_key=KEY, key_name="personal")

    editor = ApiKeyEditor(wb.api_keys)

    assert list(editor.key_rows) == ["anthropic"]
    assert "Anthropic · personal · active" in editor.key_rows["anthropic"].summary.value


def test_shows_an_empty_list_when_no_keys(editor: ApiKeyEditor) -> None:
    assert editor.key_rows == {}
    assert editor.key_list.children[0].value == "No keys stored yet."


def test_save_stores_the_key_and_lists_it(editor: ApiKeyEditor, wb: Workbench) -> None:
    enter(editor)

    assert wb.api_keys._reveal_for_provider_call(provider="openai") == KEY
    assert editor.status.value == "Saved the OpenAI key 'work'."
    assert list(editor.key_rows) == ["openai"]


def test_save_clears_the_password_field(editor: ApiKeyEditor) -> None:
    enter(editor)
    assert editor.secret.value == ""


def test_a_failed_save_clears_the_password_field_and_shows_the_error(
    editor: ApiKeyEditor, wb: Workbench
) -> None:
    enter(editor, key="sk-widget with-a-space")

    assert editor.secret.value == ""
    assert editor.status.value.startswith("Not saved: api_key: contains whitespace")
    assert "sk-widget" not in editor.status.value
    assert editor.status.style.text_color == "#b00020"
    assert wb.api_keys.list() == []


def test_a_missing_master_secret_shows_how_to_set_it(
    editor: ApiKeyEditor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY")
    enter(editor)

    assert "ENCRYPTION_KEY is not set" in editor.status.value
    assert editor.secret.value == ""
    assert KEY not in editor.status.value


def test_success_after_an_error_resets_the_status_colour(editor: ApiKeyEditor) -> None:
    enter(editor, name="")
    enter(editor)
    assert editor.status.style.text_color is None


def test_deactivate_then_reactivate(editor: ApiKeyEditor, wb: Workbench) -> None:
    enter(editor)

    editor.key_rows["openai"].deactivate_button.click()

    assert not wb.api_keys.get(provider="openai").is_active
    row = editor.key_rows["openai"]
    assert "deactivated" in row.summary.value
    assert row.reactivate_button in row.children and row.deactivate_button not in row.children
    assert editor.status.value == "Deactivated the OpenAI key 'work'."

    row.reactivate_button.click()

    assert wb.api_keys.get(provider="openai").is_active
    assert editor.key_rows["openai"].deactivate_button in editor.key_rows["openai"].children


def test_delete_removes_the_key_and_its_row(editor: ApiKeyEditor, wb: Workbench) -> None:
    enter(editor)

    editor.key_rows["openai"].delete_button.click()

    assert wb.api_keys.list() == []
    assert editor.key_rows == {}
    assert editor.status.value == "Deleted the OpenAI key 'work'."


def test_a_key_deleted_elsewhere_shows_not_found_and_refreshes(
    editor: ApiKeyEditor, wb: Workbench
) -> None:
    enter(editor)
    wb.api_keys.delete(provider="openai")

    editor.key_rows["openai"].deactivate_button.click()

    assert "no API key for provider 'openai'" in editor.status.value
    assert editor.key_rows == {}


def test_replacing_a_key_keeps_one_row(editor: ApiKeyEditor, wb: Workbench) -> None:
    enter(editor)
    enter(editor, name="rotated", key="sk-another")

    assert list(editor.key_rows) == ["openai"]
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == "sk-another"


def test_refresh_closes_the_rows_it_replaces(editor: ApiKeyEditor) -> None:
    enter(editor)
    old = editor.key_rows["openai"]

    editor.refresh()

    assert old.comm is None and old.delete_button.comm is None and old.summary.comm is None
    assert editor.key_rows["openai"].comm is not None
