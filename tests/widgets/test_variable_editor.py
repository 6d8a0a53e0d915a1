"""VariableEditor, driven as a user would: add, edit, paste, delete, save."""

from __future__ import annotations

import pandas as pd

from workbench.handle import Workbench
from workbench.widgets.variable_editor import VariableEditor


def test_shows_stored_variables_and_saves_an_edit(wb: Workbench) -> None:
    wb.variables.set_many({"company": "Acme", "tone": "friendly"})
    editor = VariableEditor(wb.variables)
    assert [row.key.value for row in editor.rows] == ["company", "tone"]
    assert editor.rows[0].key.disabled

    editor.rows[0].value.value = "Acme Ltd"
    editor.rows[1].description.value = "how to speak"
    editor.save_button.click()

    assert wb.variables.as_dict() == {"company": "Acme Ltd", "tone": "friendly"}
    assert wb.variables.get("tone").description == "how to speak"
    assert editor.message.value == "Saved 2 variable(s)."


def test_add_a_row_and_save(wb: Workbench) -> None:
    editor = VariableEditor(wb.variables)
    editor.add_button.click()
    editor.rows[0].key.value = "city"
    editor.rows[0].value.value = "Lisbon"
    editor.save_button.click()
    assert wb.variables.as_dict() == {"city": "Lisbon"}
    assert editor.rows[0].stored is not None


def test_paste_with_one_bad_key_writes_nothing_and_marks_that_row(wb: Workbench) -> None:
    editor = VariableEditor(wb.variables)
    editor.paste.value = "company=Acme\n2bad=x\ntone = friendly\n"
    editor.paste_button.click()
    assert [row.key.value for row in editor.rows] == ["company", "2bad", "tone"]

    editor.save_button.click()

    assert wb.variables.as_dict() == {}
    assert "is not a valid key" in editor.rows[1].problems.value
    assert editor.rows[0].problems.value == "" and editor.rows[2].problems.value == ""
    assert editor.message.value.startswith("Not saved: 1 problem(s), shown beside their rows")

    editor.rows[1].key.value = "good"
    editor.save_button.click()
    assert wb.variables.as_dict() == {"company": "Acme", "good": "x", "tone": "friendly"}


def test_every_invalid_key_is_reported(wb: Workbench) -> None:
    editor = VariableEditor(wb.variables)
    editor.paste_text("a b=1\nok=2\n-x=3")
    editor.save_button.click()
    assert "is not a valid key" in editor.rows[0].problems.value
    assert "is not a valid key" in editor.rows[2].problems.value
    assert wb.variables.as_dict() == {}


def test_paste_a_dataframe(wb: Workbench) -> None:
    editor = VariableEditor(wb.variables)
    editor.paste_frame(pd.DataFrame({"key": ["x", "y"], "value": ["1", "2"]}))
    editor.save_button.click()
    assert wb.variables.as_dict() == {"x": "1", "y": "2"}


def test_delete_asks_then_removes(wb: Workbench) -> None:
    wb.variables.set_many({"gone": "soon"})
    editor = VariableEditor(wb.variables)
    editor.rows[0].delete.delete_button.click()
    assert wb.variables.as_dict() == {"gone": "soon"}
    editor.rows[0].delete.confirm_button.click()
    assert wb.variables.as_dict() == {} and editor.rows == []
    assert editor.message.value == "Deleted 'gone'."


def test_a_line_without_equals_is_flagged(wb: Workbench) -> None:
    editor = VariableEditor(wb.variables)
    editor.paste_text("just a line")
    assert "has no &#x27;=&#x27;" in editor.rows[0].problems.value
    assert repr(editor) == "VariableEditor(0 stored, 1 unsaved)"


def test_the_problems_shown_read_as_text(wb: Workbench) -> None:
    editor = VariableEditor(wb.variables)
    editor.paste.value = "company=Acme\n2tone=friendly"
    editor.paste_button.click()
    editor.save_button.click()
    shown = editor.problems_shown()
    assert len(shown) == 1 and shown[0].startswith("row 2: ") and "is not a valid key" in shown[0]
