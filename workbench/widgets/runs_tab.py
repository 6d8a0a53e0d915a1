"""`RunsTab`: the studio's Runs tab: start a run, watch it, open and compare past runs.

    wb.studio()                      # the Runs tab is the last one
    RunsTab(wb)                      # or on its own

Pick a suite and a prompt of yours, a target (offline, or a provider you have a key for, see
`run_targets.py`), the judge (none: the target judges itself) and the simulator for a suite
with simulated users (both `run_model_picker.py`), repeats and concurrency, and Start:
`wb.runs.start` checks everything first (its message shows here if something is missing), then
the run plays in the background while the `RunViewer` below follows it. The list of past runs
(`RunList`) opens any of them in the same viewer and compares two. Every action is a call to
`wb.runs`, `wb.suites`, `wb.prompts` or `wb.api_keys`; the parts are public attributes, driven
in tests as a user would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ipywidgets import HTML, BoundedIntText, Button, Dropdown, HBox, Label, Layout, Text, VBox

from workbench.errors import WorkbenchError
from workbench.services.prompts.templates import MissingVariables
from workbench.services.runs.simulated_setup import NoSimulator
from workbench.widgets._common import PlainRepr, show_status
from workbench.widgets.run_list import RunList
from workbench.widgets.run_model_picker import ModelPicker
from workbench.widgets.run_targets import (
    OFFLINE,
    build_target,
    show_fields,
    target_choices,
)
from workbench.widgets.run_viewer import RunViewer

if TYPE_CHECKING:
    from workbench.handle import Workbench

CHOICES = 200  # suites and prompts offered, by name
_FIXED = Layout(width="auto", flex="0 0 auto")
_WRAP = Layout(flex_flow="row wrap", align_items="center")
_NUMBER = Layout(width="13em", flex="0 0 auto")
_WIDE = {"description_width": "initial"}  # "Concurrency" in full, not "Concurre..."
JUDGE_REPLY = "Reply (if it plays the user)"  # an offline judge's verdict is fixed: a pass
PICK = "pick a Simulator (or a Judge, which plays it by default) above"


def _field() -> Layout:
    """A layout of its own per field: some are hidden by target, which a shared one would not
    allow."""
    return Layout(width="22em", flex="0 1 auto")


class RunsTab(PlainRepr, VBox):  # type: ignore[misc]
    """Start a run and follow it; the past runs below, to open or compare."""

    def __init__(self, wb: Workbench) -> None:
        super().__init__()
        self._wb = wb
        self.suite = Dropdown(description="Suite", layout=_field())
        self.prompt = Dropdown(description="Prompt", layout=_field())
        self.target = Dropdown(description="Target", layout=_field())
        self.model = Text(description="Model", layout=_field())
        self.base_url = Text(
            description="Base URL", placeholder="http://localhost:11434/v1", layout=_field()
        )
        self.offline_reply = Text(
            description="Reply", placeholder="echo: <the user's message>", layout=_field()
        )
        # The judge of SEMANTIC_ASSERT and conversation criteria (none: the target judges its
        # own replies), and who plays the simulated users (issue 21; none: the judge, if any).
        self.judge = ModelPicker("Judge", none="None: the target judges", reply=JUDGE_REPLY)
        self.simulator = ModelPicker("Simulator", none="None: the judge plays users")
        self.repeats = BoundedIntText(
            value=1, min=1, max=1000, description="Repeats", layout=_NUMBER
        )
        self.concurrency = BoundedIntText(
            value=16, min=1, max=1000, description="Concurrency", layout=_NUMBER, style=_WIDE
        )
        self.start_button = Button(
            description="Start run", icon="play", button_style="primary", layout=_FIXED
        )
        self.message = Label()
        self.viewer: RunViewer | None = None
        self.viewer_box = VBox()
        self._handles: dict[str, Any] = {}  # runs started here: followed by their own handle
        self.target.observe(lambda _c: self._target_changed(), names="value")
        self.start_button.on_click(lambda _b: self.start())
        self.run_list = RunList(wb.runs, on_open=self.open_run)
        self.children = [
            HTML("<b>Start a run</b>"),
            HBox([self.suite, self.prompt], layout=_WRAP),
            HBox([self.target, self.model, self.base_url, self.offline_reply], layout=_WRAP),
            self.judge,
            self.simulator,
            HBox([self.repeats, self.concurrency, self.start_button], layout=_WRAP),
            self.message,
            self.viewer_box,
            self.run_list,
        ]
        self.refresh_choices()

    def on_show(self) -> None:
        """The tab came into view: suites, prompts, targets and past runs read again."""
        self.refresh_choices()
        self.run_list.refresh()

    def refresh_choices(self) -> None:
        wb = self._wb
        _choose(self.suite, [(s.name, s.id) for s in wb.suites.list(sort="name", limit=CHOICES)])
        _choose(self.prompt, [(p.name, p.id) for p in wb.prompts.list(sort="name", limit=CHOICES)])
        choices = target_choices(wb.api_keys)
        _choose(self.target, choices)
        self.judge.set_choices(choices)
        self.simulator.set_choices(choices)
        self._target_changed()

    def _target_changed(self) -> None:
        provider = self.target.value or OFFLINE
        show_fields(provider, self.model, self.base_url, self.offline_reply)

    def start(self) -> Any:
        """Start the run the form describes and show it below; None if it could not start."""
        if self.suite.value is None or self.prompt.value is None:
            show_status(self.message, "Make a suite and a prompt first.", error=True)
            return None
        try:
            target = build_target(
                self.target.value or OFFLINE,
                self.model.value,
                base_url=self.base_url.value,
                offline_reply=self.offline_reply.value,
            )
            judge, simulator = self.judge.target(), self.simulator.target()
            run = self._wb.runs.start(
                suite=self.suite.value,
                prompt=self.prompt.value,
                target=target,
                judge=judge,
                simulator=simulator,
                repeats=int(self.repeats.value),
                concurrency=int(self.concurrency.value),
                progress=False,
            )
        except NoSimulator as refused:  # the service names simulator=...; here it is a picker
            show_status(self.message, f"Not started: {refused.saying(PICK)}", error=True)
            return None
        except MissingVariables as missing:
            names = ", ".join(missing.missing[:20])
            text = f"Not started: no value for {names}; set them in the Variables tab."
            show_status(self.message, text, error=True)
            return None
        except WorkbenchError as error:
            show_status(self.message, f"Not started: {error}", error=True)
            return None
        self._handles[run.id] = run
        show_status(self.message, f"Started run {run.id}: {run.total} attempts.")
        self._show(run)
        self.run_list.refresh()
        return run

    def open_run(self, run_id: str) -> None:
        """Show a run in the viewer (what a past run's Open does)."""
        try:
            run = self._handles.get(run_id) or self._wb.runs.attach(run_id, progress=False)
        except WorkbenchError as error:
            show_status(self.message, str(error), error=True)
            return
        show_status(self.message, f"Run {run_id}.")
        self._show(run)

    def _show(self, run: Any) -> None:
        if self.viewer is not None:
            self.viewer.close()
        self.viewer = RunViewer(run, on_end=self.run_list.refresh)
        self.viewer_box.children = [self.viewer]

    def __repr__(self) -> str:
        if not hasattr(self, "run_list"):
            return "RunsTab(being built)"
        return f"RunsTab({len(self.run_list.rows)} past runs shown)"


def _choose(control: Dropdown, options: list[tuple[str, str]]) -> None:
    """New options, keeping the current choice when it is still there."""
    keep = control.value
    control.options = options
    ids = [value for _, value in options]
    control.value = keep if keep in ids else (ids[0] if ids else None)


__all__ = ["RunsTab"]
