"""PromptEditor, driven as a user would: type content, watch placeholders and the preview."""

from __future__ import annotations

from workbench.db.enums import PromptStatus
from workbench.handle import Workbench
from workbench.widgets.prompt_editor import PromptEditor


def test_placeholders_are_listed_as_the_user_types(wb: Workbench) -> None:
    wb.variables.set_many({"company": "Acme"})
    editor = PromptEditor(wb.prompts, variables=wb.variables)
    editor.content.value = "You help {{ company }} with {{ topic }}."
    assert "<code>company</code> set" in editor.placeholders.value
    assert "<code>topic</code> <b" in editor.placeholders.value
    assert "missing" in editor.placeholders.value


def test_invalid_names_are_flagged_without_an_exception(wb: Workbench) -> None:
    editor = PromptEditor(wb.prompts, variables=wb.variables)
    editor.content.value = "Hi {{ 1abc }} and {{ok}}"
    assert "invalid: invalid placeholder name" in editor.placeholders.value
    assert "<code>ok</code>" in editor.placeholders.value


def test_preview_fills_known_values_and_highlights_missing_ones(wb: Workbench) -> None:
    wb.variables.set_many({"company": "Acme <Ltd>"})
    editor = PromptEditor(wb.prompts, variables=wb.variables)
    editor.content.value = "You help {{ company }} with {{ topic }}."
    assert "You help Acme &lt;Ltd&gt; with <mark" in editor.preview.value
    assert "{{topic}}</mark>" in editor.preview.value

    wb.variables.set_many({"topic": "refunds"})
    editor.refresh_variables()
    assert "You help Acme &lt;Ltd&gt; with refunds." in editor.preview.value
    assert "<mark" not in editor.preview.value


def test_save_creates_then_updates_and_status_buttons_work(wb: Workbench) -> None:
    editor = PromptEditor(wb.prompts)
    editor.name.value = "support"
    editor.content.value = "Help {{ who }}."
    editor.tags.value = ["cs"]
    editor.save_button.click()
    stored = wb.prompts.get_by_name("support")
    assert stored.placeholders == ("who",) and stored.tags == ("cs",)
    assert editor.message.value == "Saved prompt 'support'."

    editor.content.value = "Help {{ who }} kindly."
    editor.save_button.click()
    assert wb.prompts.get(stored.id).content == "Help {{ who }} kindly."

    editor.publish_button.click()
    assert wb.prompts.get(stored.id).status is PromptStatus.PUBLISHED
    assert editor.status_label.value == "Status: PUBLISHED"


def test_a_bad_save_says_why_and_writes_nothing(wb: Workbench) -> None:
    editor = PromptEditor(wb.prompts)
    editor.name.value = "broken"
    editor.content.value = "Hi {{ 1abc }}"
    editor.save_button.click()
    assert editor.message.value.startswith("Not saved: Cannot create the prompt")
    assert wb.prompts.list().total == 0


def test_repr_counts_placeholders(wb: Workbench) -> None:
    editor = PromptEditor(wb.prompts, variables=wb.variables)
    editor.name.value = "p"
    editor.content.value = "{{a}} {{b}}"
    assert repr(editor) == "PromptEditor('p', DRAFT, 2 placeholders, 2 missing)"


def test_the_preview_as_text_fills_what_is_known(wb: Workbench) -> None:
    wb.variables.set_many({"company": "Acme"})
    editor = PromptEditor(wb.prompts, variables=wb.variables)
    editor.content.value = "You help {{ company }} with {{product}}."
    assert editor.preview_text == "You help Acme with {{product}}."
