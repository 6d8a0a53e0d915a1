"""`RunList`: your recent runs, each with its status, pass rate and cost, to open or compare.

A view over `wb.runs` only (`list`, `compare`). "Open" hands the run to `on_open` (the Runs tab
shows it in its RunViewer); "Compare with..." picks another run (the previous run of the same
suite first) and shows what changed between the two, the way `wb.runs.compare` says it.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ipywidgets import HTML, Button, Dropdown, HBox, Label, Layout, VBox

from workbench.errors import WorkbenchError
from workbench.widgets._common import show_status
from workbench.widgets.run_viewer import dollars

if TYPE_CHECKING:
    from workbench.services.runs import RunService, StoredRun

SHOWN = 20  # most recent runs listed
CHANGED_ROWS = 50  # rows of a comparison shown (the frame has them all)
_FIXED = Layout(width="auto", flex="0 0 auto")
_WRAP = Layout(flex_flow="row wrap", align_items="center")


def run_line(view: StoredRun) -> str:
    """One line: when, suite, prompt, model, status, pass rate over checked attempts, cost.

    "2026-12-01 14:02 · Smoke · Support · gpt-4o-mini · finished · 67% passed (4/6) · $0.0012"
    """
    when = view.created_at.strftime("%Y-%m-%d %H:%M")
    parts = [when, view.suite_name, view.prompt_name, view.model, view.status]
    totals: Mapping[str, Any] = view.totals or {}
    passed, failed = int(totals.get("passed") or 0), int(totals.get("failed") or 0)
    if totals:
        checked = passed + failed
        rate = f"{passed / checked:.0%} passed" if checked else "nothing checked"
        errors = int(totals.get("errors") or 0)
        parts.append(f"{rate} ({passed}/{checked}" + (f", {errors} errors)" if errors else ")"))
        cost = totals.get("cost_usd")
        parts.append(dollars(cost) if cost is not None else "cost unknown")
    return " · ".join(parts)


class RunRow(HBox):  # type: ignore[misc]
    """One past run: what it was and how it went; Open, Compare with..."""

    def __init__(self, view: StoredRun) -> None:
        super().__init__(layout=_WRAP)
        self.view = view
        self.label = Label(run_line(view), layout=Layout(flex="1 1 20em"))
        self.open_button = Button(description="Open", icon="folder-open", layout=_FIXED)
        self.compare_button = Button(description="Compare with...", icon="columns", layout=_FIXED)
        self.children = [self.label, self.open_button, self.compare_button]


class RunList(VBox):  # type: ignore[misc]
    """Your last `SHOWN` runs, newest first; `refresh()` reads them again."""

    def __init__(self, runs: RunService, on_open: Callable[[str], None]) -> None:
        super().__init__()
        self._runs = runs
        self._on_open = on_open
        self._lock = threading.Lock()
        self.rows: list[RunRow] = []
        self.row_box = VBox()
        self.refresh_button = Button(description="Refresh", icon="refresh", layout=_FIXED)
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.candidate: StoredRun | None = None
        self.compare_label = Label()
        self.baseline = Dropdown(description="with", layout=Layout(width="auto"))
        self.compare_button = Button(description="Compare", button_style="primary", layout=_FIXED)
        self.compare_button.on_click(lambda _b: self.compare())
        self.compare_box = HBox(  # a layout of its own: it is hidden until asked for
            [self.compare_label, self.baseline, self.compare_button],
            layout=Layout(flex_flow="row wrap", align_items="center", display="none"),
        )
        self.comparison = HTML()
        self.message = Label()
        self.children = [
            HBox([HTML("<b>Past runs</b>"), self.refresh_button], layout=_WRAP),
            self.row_box,
            self.compare_box,
            self.message,
            self.comparison,
        ]
        self.refresh()

    def refresh(self) -> None:
        """Read the runs again. Also called from a RunViewer's thread when a run ends, so one
        refresh at a time: two interleaved ones listed a run twice."""
        with self._lock:
            views = self._runs.list()[:SHOWN]
            rows = []
            for view in views:
                row = RunRow(view)
                row.open_button.on_click(lambda _b, run_id=view.id: self._on_open(run_id))
                row.compare_button.on_click(lambda _b, chosen=view: self.choose_compare(chosen))
                rows.append(row)
            old, self.rows = self.rows, rows
            self.row_box.children = rows or [HTML("<i>No runs yet: start one above.</i>")]
            for row in old:
                row.close()

    def choose_compare(self, candidate: StoredRun) -> None:
        """Offer the other runs as baselines, the same suite's previous run first."""
        others = [row.view for row in self.rows if row.view.id != candidate.id]
        same = [v for v in others if v.suite_name == candidate.suite_name]
        earlier = [v for v in same if v.created_at <= candidate.created_at]
        ordered = earlier + [v for v in others if v not in earlier]
        if not ordered:
            show_status(self.message, "There is no other run to compare with yet.", error=True)
            return
        self.candidate = candidate
        when = candidate.created_at.strftime("%Y-%m-%d %H:%M")
        self.compare_label.value = f"Compare the run of {when} ({candidate.suite_name})"
        self.baseline.options = [(run_line(v), v.id) for v in ordered]
        self.baseline.value = ordered[0].id
        self.compare_box.layout.display = "flex"
        show_status(self.message, "")

    def compare(self) -> None:
        """What changed from the chosen baseline to the candidate (`wb.runs.compare`)."""
        if self.candidate is None or self.baseline.value is None:
            return
        try:
            diff = self._runs.compare(self.baseline.value, self.candidate.id)
        except WorkbenchError as error:
            show_status(self.message, f"Cannot compare: {error}", error=True)
            return
        self.comparison.value = comparison_html(diff)
        show_status(self.message, "")


def comparison_html(diff: Any) -> str:
    """Counts of each kind of change, then the expectations that did not stay passing."""
    counts = ", ".join(f"{n} {change}" for change, n in diff.counts().items())
    moved = diff[diff["change"] != "still_passing"]
    columns = ["scenario", "turn", "expectation", "type", "change", "baseline_outcomes",
               "candidate_outcomes", "candidate_reply"]  # fmt: skip
    shown = moved[columns].head(CHANGED_ROWS).copy()
    shown["candidate_reply"] = shown["candidate_reply"].map(
        lambda reply: (
            reply if not isinstance(reply, str) or len(reply) <= 200 else reply[:200] + "…"
        )
    )
    table = shown.to_html(index=False, escape=True, na_rep="") if len(shown) else ""
    more = f"<i>and {len(moved) - CHANGED_ROWS} more</i>" if len(moved) > CHANGED_ROWS else ""
    partial = " <b>(partial: a run is still playing)</b>" if diff.attrs.get("partial") else ""
    return f"<p>{html.escape(counts)}{partial}</p>{table}{more}"
