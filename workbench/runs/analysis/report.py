"""A matrix as one self-contained HTML file to share: no script, no network, every text escaped.

The page holds the matrix (one row per cell), the comparison with the baseline cell and what
it says per cell (scenarios worse / better / flaky, notes), and each cell's failing attempts
with their transcripts (the first `REPORT_TRANSCRIPTS` of each cell; the rest are counted).
Everything a user, a model or a judge wrote goes through `html.escape`, replies are cut at
`MAX_TEXT` characters, and styles are inline: the file opens offline and cannot run anything.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from workbench.runs.analysis.paired import PairedComparison

MAX_TEXT = 4000  # characters of one reply, user text or detail shown; the rest is counted

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}.num{text-align:right}
.PASSED,.passed{color:#1e8449}.FAILED,.failed{color:#c0392b}.ERROR,.error{color:#8e44ad}
pre{white-space:pre-wrap;background:#f8f8f8;padding:6px;margin:2px 0}
details{margin:4px 0 8px 0}summary{cursor:pointer}.note{color:#7f6000}
"""


def esc(value: object, limit: int = MAX_TEXT) -> str:
    """`value` as text for HTML: escaped (quotes too), cut at `limit` characters."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit} more characters)"
    return html.escape(text, quote=True)


def number(value: object, kind: str = "") -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if math.isnan(x):
        return ""
    if kind == "%":
        return f"{x:.1%}"
    if kind == "+%":
        return f"{x:+.1%}"
    return f"{x:.4g}"


def table(frame: pd.DataFrame, formats: Mapping[str, str]) -> str:
    """A DataFrame as an HTML table, each cell escaped (numbers formatted per `formats`)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            kind = formats.get(str(column))
            shown = number(value, kind) if kind is not None else esc(_plain(value))
            cells.append(f'<td class="{"num" if kind is not None else ""}">{shown}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _plain(value: object) -> object:
    try:
        import pandas as pd

        return None if value is pd.NA or value is pd.NaT else value
    except ImportError:  # pragma: no cover
        return value


def render(
    record: Any,
    summary: pd.DataFrame,
    comparison: pd.DataFrame | None,
    paired: Mapping[int, PairedComparison],
    failures: Mapping[int, tuple[int, list[dict[str, Any]]]],
) -> str:
    """The whole page (see the module's docstring). `record` is a `MatrixRecord`."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Matrix {esc(record.id)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Matrix on {esc(record.suite_name)}</h1>",
        f"<p>Matrix {esc(record.id)}, created {esc(record.created_at)}, "
        f"{len(record.cells)} cells, repeats={record.repeats}, pass^k with k={record.pass_k}. "
        "Pass rates are over decided attempts (errors are counted apart, never as failures), "
        "with 95% intervals clustered by scenario.</p>",
        "<h2>Cells</h2>",
        table(summary, _SUMMARY_FORMATS),
    ]
    if comparison is not None:
        parts += _comparison(comparison, paired, record)
    parts.append("<h2>Failing attempts</h2>")
    for cell in record.cells:
        total, transcripts = failures.get(cell.number, (0, []))
        parts.append(_cell_failures(cell, total, transcripts))
    parts.append("</body></html>")
    return "\n".join(parts)


_SUMMARY_FORMATS = {
    "cell": "", "attempts": "", "passed": "", "failed": "", "errors": "", "pass_rate": "%",
    "ci_low": "%", "ci_high": "%", "pass_k": "%", "cost_usd": "", "tokens": "",
    "latency_p50_s": "", "latency_p95_s": "",
}  # fmt: skip
_COMPARE_FORMATS = {
    "cell": "", "pairs": "", "baseline_rate": "%", "candidate_rate": "%", "difference": "+%",
    "ci_low": "+%", "ci_high": "+%", "p_value": "", "worse": "", "better": "", "flaky": "",
    "cost_usd_delta": "", "latency_p50_s_delta": "",
}  # fmt: skip


def _comparison(
    frame: pd.DataFrame, paired: Mapping[int, PairedComparison], record: Any
) -> list[str]:
    parts = [
        f"<h2>Compared with the baseline: {esc(frame.attrs.get('baseline'))}</h2>",
        "<p>Paired by scenario, turn, expectation and repeat. p: McNemar's exact test on the "
        "discordant pairs; interval: cluster-robust by scenario.</p>",
        table(frame, _COMPARE_FORMATS),
    ]
    names = {c.number: f"{c.prompt} x {c.target}" for c in record.cells}
    for number_, result in paired.items():
        parts.append(f"<h3>{esc(names.get(number_, number_))}</h3><ul>")
        for label, scenarios in (("worse", result.worse), ("better", result.better),
                                 ("flaky in this cell", result.flaky)):  # fmt: skip
            parts.append(f"<li>{label} ({len(scenarios)}): {_names(scenarios)}</li>")
        parts += [f"<li class='note'>{esc(note)}</li>" for note in result.notes]
        parts.append("</ul>")
    return parts


def _names(names: Iterable[str], limit: int = 50) -> str:
    shown = list(names)
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return esc(", ".join(shown[:limit]), limit=20_000) + more


def _cell_failures(cell: Any, total: int, transcripts: list[dict[str, Any]]) -> str:
    head = f"<h3>Cell {cell.number}: {esc(cell.prompt)} x {esc(cell.target)}</h3>"
    if total == 0:
        return head + "<p>No failing attempt.</p>"
    more = f" (the first {len(transcripts)} shown)" if total > len(transcripts) else ""
    body = "".join(_transcript(t) for t in transcripts)
    return f"{head}<p>{total} failing or errored attempt(s){more}.</p>{body}"


def _transcript(t: Mapping[str, Any]) -> str:
    status = esc(t.get("status"))
    parts = [
        f"<details><summary><span class='{status}'>{status}</span> {esc(t.get('scenario'))}, "
        f"position {esc(t.get('position'))}, repeat {esc(t.get('repeat'))}</summary>"
    ]
    if t.get("error"):
        parts.append(f"<p class='error'>error: {esc(t['error'])}</p>")
    parts.append(f"<p>system prompt:</p><pre>{esc(t.get('system'))}</pre>")
    for turn in t.get("turns") or []:
        if turn.get("type") == "USER":
            parts.append(f"<p>turn {esc(turn.get('turn'))} USER</p><pre>{esc(turn.get('text'))}"
                         "</pre>")  # fmt: skip
            continue
        parts.append(f"<p>turn {esc(turn.get('turn'))} EXPECT, reply:</p>"
                     f"<pre>{esc(turn.get('reply'))}</pre>")  # fmt: skip
        if turn.get("error"):
            parts.append(f"<p class='error'>error: {esc(turn['error'])}</p>")
        parts.append("<ul>")
        for e in turn.get("expectations") or []:
            outcome = esc(e.get("status"))
            detail = esc(json.dumps(e.get("detail"), default=str, ensure_ascii=False))
            spec = esc(json.dumps(e.get("spec"), default=str, ensure_ascii=False))
            parts.append(f"<li><span class='{outcome}'>{outcome}</span> expectation "
                         f"{esc(e.get('expectation'))} {esc(e.get('type'))}: {spec}"
                         f"<br><small>{detail}</small></li>")  # fmt: skip
        parts.append("</ul>")
    parts.append("</details>")
    return "".join(parts)
