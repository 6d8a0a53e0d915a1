"""`ModelPicker`: the Runs tab's choice of a model for a role beside the target (the judge's, the
simulated user's, issue 21): none, or a provider with its model, and a base URL or an offline
reply (`reply` is its placeholder).

    picker = ModelPicker("Simulator", none="None: the judge plays the user")
    picker.choice.value = "offline"
    picker.offline_reply.value = "[done] thanks"   # what the offline user says every turn
    picker.target()                                # the Target, or None for "none"

The choices are the target's (`run_targets.target_choices`: offline, and what your keys allow),
after "none"; the fields shown follow the choice as the target's do.
"""

from __future__ import annotations

from ipywidgets import Dropdown, HBox, Layout, Text

from workbench.errors import ValidationError
from workbench.runs.providers import Target
from workbench.widgets.run_targets import build_target, show_fields

NONE = ""


def _field() -> Layout:
    return Layout(width="22em", flex="0 1 auto")  # one per field: each is hidden on its own


class ModelPicker(HBox):  # type: ignore[misc]
    """None, or a model for one role of a run; `target()` builds it from the fields."""

    def __init__(
        self, role: str, *, none: str, reply: str = "Please go on. ([done] ends it)"
    ) -> None:
        super().__init__(layout=Layout(flex_flow="row wrap", align_items="center"))
        self._none, self._role = none, role
        self.choice = Dropdown(description=role, options=[(none, NONE)], layout=_field())
        self.model = Text(description="Model", layout=_field())
        self.base_url = Text(
            description="Base URL", placeholder="http://localhost:11434/v1", layout=_field()
        )
        self.offline_reply = Text(description="Reply", placeholder=reply, layout=_field())
        self.choice.observe(lambda _c: self._changed(), names="value")
        self.children = [self.choice, self.model, self.base_url, self.offline_reply]
        self._changed()

    def set_choices(self, choices: list[tuple[str, str]]) -> None:
        """ "none" then `choices` (label, provider), keeping the current one when still there."""
        keep = self.choice.value
        self.choice.options = [(self._none, NONE), *choices]
        offered = [NONE, *(provider for _, provider in choices)]
        self.choice.value = keep if keep in offered else NONE

    def _changed(self) -> None:
        provider = self.choice.value or None  # NONE: no model for this role
        show_fields(provider, self.model, self.base_url, self.offline_reply)

    def target(self) -> Target | None:
        """The chosen model, or None; `ValidationError` saying which field is wrong."""
        provider = self.choice.value or NONE
        if provider == NONE:
            return None
        try:
            return build_target(
                provider,
                self.model.value,
                base_url=self.base_url.value,
                offline_reply=self.offline_reply.value,
            )
        except ValidationError as error:  # say which of the form's models it is about
            raise ValidationError(f"{self._role}: {error}") from None


__all__ = ["ModelPicker"]
