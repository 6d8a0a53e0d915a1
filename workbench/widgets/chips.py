"""`ChipsInput`: a list of short texts as chips (tags, MUST_CONTAIN_ANY values).

ipywidgets' `TagsInput` does not work in JupyterLab's notebook: the Enter that should add a
tag reaches the notebook's own shortcut instead (so nothing is added until the field loses
focus), and its field is hidden until the chips are clicked. Here the field is always there,
a `Text` that sends its value on Enter (`continuous_update=False`), each Enter adding one chip;
clicking a chip puts the cursor in that field (`focus()`, never JupyterLab's command mode) and
its × removes it.

    chips = ChipsInput(["hello", "hi"])
    chips.value                     # ['hello', 'hi']: set it, observe it, like any widget value
"""

from __future__ import annotations

from typing import Any

import traitlets
from ipywidgets import Button, HBox, Text

from workbench.widgets._common import shared


class ChipsInput(HBox):  # type: ignore[misc]
    """Chips for `value` (a list of strings) and a field that adds one per Enter."""

    value = traitlets.List(traitlets.Unicode())

    def __init__(
        self,
        value: list[str] | tuple[str, ...] = (),
        *,
        placeholder: str = "type, then Enter",
        allow_duplicates: bool = False,
    ) -> None:
        s = shared()
        super().__init__(layout=s.chips)
        self.allow_duplicates = allow_duplicates
        self.entry = Text(
            placeholder=placeholder,
            continuous_update=False,  # the value arrives on Enter (or leaving the field)
            layout=s.chip_entry,
            style=s.text_style,
        )
        self.entry.add_class("wb-chip-entry")
        self.chips: list[HBox] = []
        # The chips in a box of their own, the field always second: redrawing the chips never
        # moves the field, so the browser keeps its view, and the cursor stays in it.
        self.chip_box = HBox(layout=s.chips)
        self.children = [self.chip_box, self.entry]
        self.entry.observe(self._typed, names="value")
        self.observe(lambda _change: self._redraw(), names="value")
        self.value = list(value)
        self._redraw()

    def add(self, text: str) -> None:
        """Add one chip (what typing `text` and Enter does); blanks and repeats are ignored."""
        text = text.strip()
        if text and (self.allow_duplicates or text not in self.value):
            self.value = [*self.value, text]

    def remove(self, index: int) -> None:
        """Remove the chip at `index` (what its × does)."""
        self.value = [v for i, v in enumerate(self.value) if i != index]

    def _typed(self, change: Any) -> None:
        if not change.new:
            return
        self.add(change.new)
        self.entry.value = ""

    def _redraw(self) -> None:
        for chip in self.chips:
            for part in chip.children:
                part.close()
            chip.close()
        self.chips = [self._chip(index, text) for index, text in enumerate(self.value)]
        self.chip_box.children = self.chips

    def _chip(self, index: int, text: str) -> HBox:
        s = shared()
        label = Button(description=text, tooltip=text, layout=s.chip_label, style=s.button_style)
        label.add_class("wb-chip")
        label.on_click(lambda _b: self.entry.focus())
        cross = Button(
            icon="times", tooltip=f"Remove {text!r}", layout=s.chip_cross, style=s.button_style
        )
        cross.add_class("wb-chip-remove")
        cross.on_click(lambda _b: self.remove(index))
        return HBox([label, cross], layout=s.chip)

    def close(self) -> None:
        for chip in self.chips:
            for part in chip.children:
                part.close()
            chip.close()
        self.entry.close()
        self.chip_box.close()
        super().close()


__all__ = ["ChipsInput"]
