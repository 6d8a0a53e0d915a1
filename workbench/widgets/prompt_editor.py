"""`PromptEditor`: write a prompt template and see it filled in with your variables as you type.

    from workbench.widgets.prompt_editor import PromptEditor
    PromptEditor(wb.prompts, variables=wb.variables)

The placeholders list and the preview come from the same lenient scan the service uses
(`templates.scan`), run on every keystroke: invalid names are flagged and names without a value
are highlighted in the preview, never raised. Save is one `create` or `update` call.
"""

from __future__ import annotations

import html
from typing import Any

from ipywidgets import HTML, Button, HBox, Label, Layout, Text, Textarea, VBox

from workbench.db.enums import PromptStatus
from workbench.errors import WorkbenchError
from workbench.services.prompts.service import PromptService, PromptView
from workbench.services.prompts.templates import Placeholder, scan
from workbench.services.variables import VariableService
from workbench.widgets._common import ERROR_COLOR, MISSING_COLOR, PlainRepr, show_status
from workbench.widgets.chips import ChipsInput


def placeholders_html(content: str, values: dict[str, str]) -> str:
    """The placeholders found, each marked set or missing, then every invalid one."""
    template, problems = scan(content)
    items = [
        f"<li><code>{html.escape(name)}</code> "
        + ("set" if name in values else f"<b style='color:{ERROR_COLOR}'>missing</b>")
        + "</li>"
        for name in template.placeholders
    ]
    items += [
        f"<li style='color:{ERROR_COLOR}'>invalid: {html.escape(problem)}</li>"
        for problem in problems
    ]
    body = "".join(items) or "<li><i>no placeholders</i></li>"
    return f"<b>Placeholders</b><ul style='margin:0'>{body}</ul>"


def preview_html(content: str, values: dict[str, str]) -> str:
    """The content with every known placeholder filled in and every missing one highlighted."""
    template, _ = scan(content)
    out: list[str] = []
    for part in template.parts:
        if not isinstance(part, Placeholder):
            out.append(html.escape(part))
        elif part.name in values:
            out.append(html.escape(values[part.name]))
        else:
            name = html.escape(part.name)
            out.append(
                f"<mark class='wb-missing' style='background:{MISSING_COLOR}'>{{{{{name}}}}}</mark>"
            )
    return (
        "<b>Preview</b><pre class='wb-preview' style='white-space:pre-wrap;border:1px solid #ddd;"
        f"padding:4px'>{''.join(out)}</pre>"
    )


class PromptEditor(PlainRepr, VBox):  # type: ignore[misc]
    """Edit one prompt; `save_button` creates or updates it."""

    def __init__(
        self,
        service: PromptService,
        prompt_id: str | None = None,
        *,
        variables: VariableService | None = None,
    ) -> None:
        super().__init__()
        self._service = service
        self._variables = variables
        self.prompt_id: str | None = None
        self.status = PromptStatus.DRAFT
        self.values: dict[str, str] = {}
        self.name = Text(description="Name")
        self.description = Textarea(description="Description", placeholder="optional")
        self.tags = ChipsInput(placeholder="a tag, then Enter")
        self.content = Textarea(
            description="Content",
            placeholder="You help {{ company }} customers.",
            layout=Layout(width="90%", height="140px"),
        )
        self.placeholders = HTML("")
        self.preview = HTML("")
        self.status_label = Label()
        self.publish_button = Button(description="Publish", icon="check")
        self.archive_button = Button(description="Archive", icon="archive")
        self.draft_button = Button(description="Back to draft", icon="pencil")
        self.save_button = Button(description="Save prompt", button_style="primary", icon="save")
        self.message = Label()
        self.content.observe(lambda _c: self.update_preview(), names="value")
        self.save_button.on_click(lambda _b: self.save())
        for button, status in (
            (self.publish_button, PromptStatus.PUBLISHED),
            (self.archive_button, PromptStatus.ARCHIVED),
            (self.draft_button, PromptStatus.DRAFT),
        ):
            button.on_click(self._status_action(status))
        self.children = [
            self.name,
            self.description,
            HBox([Label("Tags", layout=Layout(width="90px", flex="0 0 auto")), self.tags]),
            HBox([self.status_label, self.publish_button, self.archive_button, self.draft_button]),
            self.content,
            self.placeholders,
            self.preview,
            self.save_button,
            self.message,
        ]
        self.refresh_variables()
        if prompt_id is not None:
            self._load(service.get(prompt_id))
        self._update_status()

    def refresh_variables(self) -> None:
        """Read your variables again (one query) and redraw the preview with them."""
        self.values = self._variables.as_dict() if self._variables is not None else {}
        self.update_preview()

    def update_preview(self) -> None:
        self.placeholders.value = placeholders_html(self.content.value, self.values)
        self.preview.value = preview_html(self.content.value, self.values)

    def save(self) -> None:
        fields: dict[str, Any] = {
            "name": self.name.value,
            "description": self.description.value or None,
            "content": self.content.value,
            "tags": list(self.tags.value),
        }
        try:
            if self.prompt_id is None:
                view = self._service.create(**fields)
            else:
                view = self._service.update(self.prompt_id, **fields)
        except WorkbenchError as error:
            show_status(self.message, f"Not saved: {error}", error=True)
            return
        self._load(view)
        show_status(self.message, f"Saved prompt {view.name!r}.")

    def _status_action(self, status: PromptStatus) -> Any:
        def on_click(_button: Button) -> None:
            if self.prompt_id is None:
                return
            try:
                view = self._service.set_status(self.prompt_id, status)
            except WorkbenchError as error:
                show_status(self.message, str(error), error=True)
                return
            self.status = view.status
            self._update_status()
            show_status(self.message, f"Now {view.status.value}.")

        return on_click

    def _load(self, view: PromptView) -> None:
        self.prompt_id, self.status = view.id, view.status
        self.name.value = view.name
        self.description.value = view.description or ""
        self.tags.value = list(view.tags)
        self.content.value = view.content
        self._update_status()

    def _update_status(self) -> None:
        saved = self.prompt_id is not None
        self.status_label.value = f"Status: {self.status.value}"
        self.publish_button.disabled = not saved or self.status is not PromptStatus.DRAFT
        self.archive_button.disabled = not saved or self.status is PromptStatus.ARCHIVED
        self.draft_button.disabled = not saved or self.status is PromptStatus.DRAFT

    @property
    def preview_text(self) -> str:
        """The preview as plain text: your variables filled in, a missing one left as {{name}}
        (highlighted in the widget)."""
        template, _ = scan(self.content.value)
        values = self.values
        return "".join(
            (
                values.get(part.name, f"{{{{{part.name}}}}}")
                if isinstance(part, Placeholder)
                else part
            )
            for part in template.parts
        )

    def __repr__(self) -> str:
        if not hasattr(self, "message"):
            return "PromptEditor(being built)"
        name = self.name.value or "(no name)"
        found = scan(self.content.value)[0].placeholders
        missing = [n for n in found if n not in self.values]
        return (
            f"PromptEditor({name!r}, {self.status.value}, {len(found)} placeholders, "
            f"{len(missing)} missing)"
        )
