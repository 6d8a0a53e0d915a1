"""ChipsInput (tags, MUST_CONTAIN_ANY values): Enter adds one chip, × removes it, a click on a
chip asks the front end to focus the field. Driven as the front end does: the field's value
arrives once per Enter (`continuous_update=False`)."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.handle import Workbench
from workbench.widgets.chips import ChipsInput
from workbench.widgets.scenario_editor import ScenarioEditor


def test_enter_adds_one_chip_and_empties_the_field() -> None:
    chips = ChipsInput(["hello"])
    seen: list[list[str]] = []
    chips.observe(lambda change: seen.append(change.new), names="value")
    chips.entry.value = "  hi  "  # what pressing Enter in the field sends
    assert chips.value == ["hello", "hi"] and chips.entry.value == ""
    assert seen == [["hello", "hi"]]
    assert [chip.children[0].description for chip in chips.chips] == ["hello", "hi"]
    assert chips.children == (chips.chip_box, chips.entry)  # the field never moves


@pytest.mark.parametrize("typed", ["hello", "   ", ""])
def test_repeats_and_blanks_add_nothing(typed: str) -> None:
    chips = ChipsInput(["hello"])
    chips.entry.value = typed
    assert chips.value == ["hello"]


def test_the_cross_removes_its_chip() -> None:
    chips = ChipsInput(["a", "b", "c"])
    chips.chips[1].children[1].click()
    assert chips.value == ["a", "c"]
    assert [chip.children[0].description for chip in chips.chips] == ["a", "c"]


def test_clicking_a_chip_focuses_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    chips = ChipsInput(["hello"])
    sent: list[Any] = []
    monkeypatch.setattr(chips.entry, "send", sent.append)
    chips.chips[0].children[0].click()
    assert sent == [{"do": "focus"}]  # ipywidgets' DOMWidget.focus(): the browser focuses it


def test_must_contain_any_values_typed_as_chips_are_saved(wb: Workbench) -> None:
    editor = ScenarioEditor(wb.scenarios)
    editor.name.value = "Chips"
    editor.tags.entry.value = "smoke"
    editor.add_user_button.click()
    editor.turns[0].text.value = "hi"
    editor.turns[0].add_expect_button.click()
    row = editor.turns[1].expectations[0]
    row.type.value = "MUST_CONTAIN_ANY"
    for typed in ("hello", "hi", "hello"):
        row.values.entry.value = typed
    assert editor.dirty
    editor.save_button.click()
    stored = wb.scenarios.get_by_name("Chips")
    assert stored.tags == ("smoke",)
    assert stored.turns[1].expectations[0].values == ("hello", "hi")
