"""`RunViewer(run)`: a run's progress, its attempts with filters, and one attempt's transcript.

A view over `wb.runs` only: every refresh is a few service calls (`attempts`, `transcript`),
never the ORM. While the run plays, `RunViewer` refreshes itself from a background thread
every `interval` seconds until the run ends (ipywidgets sends updates from any thread).

    viewer = RunViewer(run)         # in a cell; the last expression shows it
    viewer.show.value = "failed"    # what the buttons do
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

from ipywidgets import HTML, Dropdown, IntProgress, Select, ToggleButtons, VBox

from workbench.errors import ValidationError
from workbench.widgets.simulated_html import (
    INCONCLUSIVE_STYLE,
    block_html,
    criteria_html,
    criterion_line,
)

FAILED_STYLE = "background:#fde2e1;border-left:3px solid #b00020"
PASSED_STYLE = "background:#e8f5e9;border-left:3px solid #2e7d32"
ERROR_STYLE = "background:#f3e5f5;border-left:3px solid #6a1b9a"
MARKS = {"passed": "✓", "failed": "✗", "error": "!", "pending": "…", "claimed": "…"}
ALL = "(all)"


class RunViewer(VBox):  # type: ignore[misc]
    """Progress, pass/fail counts, attempts filtered by outcome, scenario or tag, a transcript."""

    def __init__(
        self,
        run: Any,
        *,
        interval: float = 1.0,
        live: bool = True,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.run = run
        self._on_end = on_end  # called once the run ends, after the last refresh
        self.progress = IntProgress(min=0, max=max(int(getattr(run, "total", 0)), 1))
        self.counts = HTML()
        self.show = ToggleButtons(options=["all", "failed", "errored", "flaky"], value="all")
        self.scenario = Dropdown(description="scenario", options=[ALL], value=ALL)
        self.tag = Dropdown(description="tag", options=[ALL], value=ALL)
        self.attempt_list = Select(options=[], rows=10, layout={"width": "100%"})
        self.transcript = HTML()
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        for control in (self.show, self.scenario, self.tag):
            control.observe(lambda _: self._filter(), names="value")
        self.attempt_list.observe(lambda _: self._show_selected(), names="value")
        super().__init__(
            [self.progress, self.counts, self.show, self.scenario, self.tag,
             self.attempt_list, self.transcript]
        )  # fmt: skip
        # Asked before the first refresh: a run ending during it is still followed to its end.
        playing = not getattr(run, "done", True)
        self.refresh()
        if live and playing:
            self._thread = threading.Thread(target=self._follow, args=(interval,), daemon=True)
            self._thread.start()

    def __repr__(self) -> str:
        return f"RunViewer(run={getattr(self.run, 'id', self.run)!r})"

    def _follow(self, interval: float) -> None:
        """Refresh until the run ends, then once more for the final state."""
        stop = threading.Event()
        while not self.run.done and not stop.wait(interval):
            self.refresh()
        self.refresh()
        if self._on_end is not None:
            self._on_end()

    def refresh(self) -> None:
        """Reload the attempts from the service and redraw (keeps the filters and selection)."""
        with self._lock:
            frame = self.run.attempts()
            self._rows = frame.to_dict("records")
            finished = [r for r in self._rows if r["status"] not in ("pending", "claimed")]
            self.progress.max = max(len(self._rows), 1)
            self.progress.value = len(finished)
            tally = {s: sum(1 for r in self._rows if r["status"] == s) for s in MARKS}
            flaky = len({r["scenario_id"] for r in self._rows if r["flaky"]})
            self.counts.value = (
                f"<b>{len(finished)}/{len(self._rows)}</b> attempts: "
                f"{tally['passed']} passed, {tally['failed']} failed, "
                f"{tally['error']} errored; {flaky} flaky scenario(s)"
            )
            scenarios = sorted({str(r["scenario"]) for r in self._rows})
            tags = sorted({t for r in self._rows for t in (r["tags"] or [])})
            self._set_options(self.scenario, [ALL, *scenarios])
            self._set_options(self.tag, [ALL, *tags])
        self._filter()

    @staticmethod
    def _set_options(control: Dropdown, options: list[str]) -> None:
        if list(control.options) != options:
            keep = control.value if control.value in options else ALL
            control.options = options
            control.value = keep

    def visible(self) -> list[dict[str, Any]]:
        """The attempts the filters let through, in play order."""
        wanted = {"failed": "failed", "errored": "error"}.get(self.show.value)
        rows = self._rows
        if wanted:
            rows = [r for r in rows if r["status"] == wanted]
        if self.show.value == "flaky":
            rows = [r for r in rows if r["flaky"]]
        if self.scenario.value != ALL:
            rows = [r for r in rows if r["scenario"] == self.scenario.value]
        if self.tag.value != ALL:
            rows = [r for r in rows if self.tag.value in (r["tags"] or [])]
        return rows

    def _filter(self) -> None:
        options = [
            (f"{MARKS.get(r['status'], '?')} {r['scenario']} [repeat {r['repeat']}] "
             f"{r['status']}", (int(r["position"]), int(r["repeat"])))
            for r in self.visible()
        ]  # fmt: skip
        selected = self.attempt_list.value
        self.attempt_list.options = options
        values = [value for _, value in options]
        self.attempt_list.value = selected if selected in values else None
        self._show_selected()

    def select(self, position: int, repeat: int = 1) -> None:
        """Show one attempt's transcript (what clicking it in the list does). `position` (the
        scenario's in the suite) and `repeat` count from 1, as the list and `run.attempts()`
        show them."""
        chosen = (position, repeat)
        if chosen not in [value for _, value in self.attempt_list.options]:
            self.run.transcript(position=position, repeat=repeat)  # says what is wrong, if it can
            raise ValidationError(
                f"The attempt at position {position}, repeat {repeat} is not listed: the filters "
                "leave it out (show 'all', scenario and tag '(all)' list every attempt)."
            )
        self.attempt_list.value = chosen

    def _show_selected(self) -> None:
        chosen = self.attempt_list.value
        if chosen is None:
            self.transcript.value = "<i>Select an attempt to see its transcript.</i>"
            return
        position, repeat = chosen
        shown = self.run.transcript(position=position, repeat=repeat)
        self.transcript.value = transcript_html(shown)


SYSTEM_SHOWN = 20_000  # characters of the system prompt shown; the rest is counted


def transcript_html(shown: dict[str, Any]) -> str:
    """The transcript as HTML: the system prompt (folded), each turn numbered as the scenario
    editor numbers it, each reply with its model, tokens, latency and cost, each expectation
    numbered within its turn, failing ones highlighted, judge reasoning beside them."""
    esc = html.escape
    place = f"position {shown.get('position')}, repeat {shown.get('repeat')}"
    parts = [
        f"<h4>{esc(str(shown['scenario']))}: {esc(str(shown['status']))} "
        f"<small>({esc(place)})</small></h4>"
    ]
    system = shown.get("system")
    if isinstance(system, str):
        more = len(system) - SYSTEM_SHOWN
        cut = system[:SYSTEM_SHOWN] + (f"…({more:,} more characters)" if more > 0 else "")
        parts.append(
            '<details class="wb-system"><summary>system prompt</summary>'
            f'<pre style="white-space:pre-wrap">{esc(cut)}</pre></details>'
        )
    if shown.get("error"):
        parts.append(f'<div style="{ERROR_STYLE}">error: {esc(str(shown["error"]))}</div>')
    for turn in shown["turns"]:
        number = f'<small class="wb-turn">Turn {esc(str(turn["turn"]))}</small> '
        if turn.get("simulated"):  # issue 21
            parts.append(block_html(turn, number, _check_html))
            continue
        if turn.get("conversation_judge"):
            parts.append(criteria_html(turn, number, _check_html))
            continue
        if turn["type"] == "USER":
            parts.append(f"<div>{number}<b>user</b>: {esc(str(turn['text'] or ''))}</div>")
            continue
        parts.extend(_call_html(call) for call in turn.get("tool_calls") or ())
        reply = turn.get("reply")
        said = esc(reply) if isinstance(reply, str) else "<i>(no reply)</i>"
        cached = " <small>(cached)</small>" if turn.get("cached") else ""
        parts.append(f"<div>{number}<b>assistant</b>{cached}: {said}</div>{_usage_html(turn)}<ul>")
        for check in turn.get("expectations", []):
            parts.append(_check_html(check))
        parts.append("</ul>")
    return "".join(parts)


def _usage_html(turn: dict[str, Any]) -> str:
    """ "gpt-4o-mini · 812 + 64 tokens · 1.42 s · $0.000160" under a reply (what is known)."""
    if turn.get("model") is None and turn.get("latency_s") is None:
        return ""  # no call was made (an error before it, or not played)
    sent, received = turn.get("prompt_tokens"), turn.get("completion_tokens")
    parts = [str(turn.get("model") or "model unknown")]
    if sent is not None or received is not None:
        counts = ["?" if n is None else str(n) for n in (sent, received)]
        parts.append(f"{counts[0]} + {counts[1]} tokens")
    latency, cost = turn.get("latency_s"), turn.get("cost_usd")
    if latency is not None:
        parts.append(f"{float(latency):.2f} s")
    parts.append(dollars(cost) if cost is not None else "cost unknown")
    return f'<span class="wb-usage">{html.escape(" · ".join(parts))}</span>'


def dollars(cost: float) -> str:
    """$0, $0.00016, $1.25: enough digits for a fraction of a cent, no trailing zeros."""
    text = f"{float(cost):.6f}".rstrip("0").rstrip(".")
    return f"${text}"


CALL_SHOWN = 500  # characters of a call's arguments and of its result in the transcript


def _call_html(call: dict[str, Any]) -> str:
    """One tool call under its turn: round, name(arguments) → result or error, and its source."""
    esc = html.escape
    arguments = str(call.get("arguments") or "")[:CALL_SHOWN]
    head = f"tool round {call.get('round')} · {call.get('source')}"
    if call.get("error"):
        outcome = f'<span style="{ERROR_STYLE}">error: {esc(str(call["error"]))}</span>'
    else:
        outcome = esc(str(call.get("result") or "")[:CALL_SHOWN])
    return (
        f'<div class="wb-tool-call"><small>{esc(head)}</small> '
        f"<code>{esc(str(call.get('name')))}({esc(arguments)})</code> → {outcome}</div>"
    )


def _check_html(check: dict[str, Any]) -> str:
    esc = html.escape
    status = check.get("status")
    styles = {"FAILED": FAILED_STYLE, "PASSED": PASSED_STYLE, "ERROR": ERROR_STYLE,
              "INCONCLUSIVE": INCONCLUSIVE_STYLE}  # fmt: skip
    style = styles.get(str(status), "")
    spec = check.get("spec") or {}
    wanted = spec.get("value") or ", ".join(spec.get("values") or spec.get("names") or [])
    if spec.get("args") is not None:
        wanted += f" args={spec['args']}"
    number = f"expectation {esc(str(check.get('expectation')))} · "
    line = f"{number}{esc(str(check.get('type')))} {esc(str(wanted))!s}: <b>{esc(str(status))}</b>"
    detail = check.get("detail") or {}
    if check.get("type") == "SEMANTIC_ASSERT" and isinstance(detail, dict):
        score = detail.get("score")
        reasoning = detail.get("reasoning") or detail.get("error") or ""
        line += (
            f' <span class="judge">judge (score {esc(str(score))}): {esc(str(reasoning))}</span>'
        )
    elif check.get("type") == "CONVERSATION" and isinstance(detail, dict):
        line += criterion_line(detail)
    elif isinstance(detail, dict) and detail.get("error"):
        line += f" ({esc(str(detail['error']))})"
    return f'<li style="{style}">{line}</li>'
