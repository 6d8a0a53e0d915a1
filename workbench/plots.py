"""Plots of runs: matplotlib Figures built from the study frames (matplotlib imported lazily).

Each function returns the `Figure`, so a notebook shows it and you can restyle or save it
(`fig.savefig("rates.png")`). No pyplot state is touched: figures are built with the
object-oriented API, which works with any backend (the tests use Agg).

    from workbench import plots
    plots.pass_rates(run)                        # bars per scenario with 95% intervals
    plots.regressions(wb.runs.compare(a, b))     # what changed between two runs
    plots.latency(run)                           # distribution of reply latency
    plots.trend(wb.runs.trend(suite="Checkout flows"))
    plots.matrix(m)                              # pass rate per cell of a matrix
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from workbench.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

CHANGE_COLOURS = {
    "regression": "#c0392b",
    "newly_flaky": "#e67e22",
    "still_failing": "#7f8c8d",
    "errored": "#8e44ad",
    "scenario_changed": "#2980b9",
    "fixed": "#27ae60",
    "still_flaky": "#f1c40f",
    "still_passing": "#bdc3c7",
    "only_baseline": "#34495e",
    "only_candidate": "#95a5a6",
}


_FIGURE_CLASS: list[type[Any]] = []


def _figure(width: float = 7.0, height: float = 4.0) -> Figure:
    if not _FIGURE_CLASS:
        _FIGURE_CLASS.append(_figure_class())
    figure: Figure = _FIGURE_CLASS[0](figsize=(width, height), layout="constrained")
    return figure


def _figure_class() -> type[Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - a dependency, unless removed on purpose
        raise ValidationError("plots need matplotlib: pip install matplotlib") from None

    class NotebookFigure(Figure):
        """A Figure that shows itself as a PNG in a notebook without pyplot being imported
        (IPython's own matplotlib display only knows figures once pyplot set up a backend)."""

        def _repr_png_(self) -> bytes:
            import io

            if self.canvas is None or type(self.canvas).__name__ == "FigureCanvasBase":
                FigureCanvasAgg(self)
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return NotebookFigure


def _frame(source: Any, method: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame given directly, or read from a run handle with `method` (e.g. pass_rates)."""
    frame: pd.DataFrame = getattr(source, method)() if hasattr(source, method) else source
    missing = [c for c in columns if c not in getattr(frame, "columns", ())]
    if missing:
        raise ValidationError(
            f"expected a DataFrame with columns {', '.join(columns)} (or a run); "
            f"missing: {', '.join(missing)}"
        )
    return frame


def pass_rates(source: Any, *, title: str | None = None) -> Figure:
    """Pass rate per scenario, with its Wilson 95% interval as error bars (`run.pass_rates()`)."""
    frame = _frame(source, "pass_rates", ("scenario", "pass_rate", "ci_low", "ci_high"))
    rate = frame["pass_rate"].astype(float).fillna(0.0)
    low = (rate - frame["ci_low"].astype(float)).clip(lower=0).fillna(0.0)
    high = (frame["ci_high"].astype(float) - rate).clip(lower=0).fillna(0.0)
    fig = _figure(max(5.0, 0.35 * len(frame) + 2), 4.0)
    ax = fig.add_subplot()
    positions = range(len(frame))
    ax.bar(positions, rate, yerr=[low, high], capsize=3, color="#2e86de")
    ax.set_xticks(list(positions), [str(s) for s in frame["scenario"]], rotation=60, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pass rate (95% interval)")
    ax.set_title(title or "Pass rate per scenario")
    return fig


def regressions(comparison: pd.DataFrame, *, title: str | None = None) -> Figure:
    """How many expectations fall in each kind of change between two runs."""
    frame = _frame(comparison, "__no_method__", ("change",))
    counts = frame["change"].value_counts()
    kinds = [kind for kind in CHANGE_COLOURS if kind in counts.index]
    fig = _figure(7.0, 0.4 * max(len(kinds), 1) + 1.5)
    ax = fig.add_subplot()
    ax.barh(kinds, [int(counts[k]) for k in kinds], color=[CHANGE_COLOURS[k] for k in kinds])
    ax.invert_yaxis()
    ax.set_xlabel("expectations")
    partial = " (partial: a run is still playing)" if frame.attrs.get("partial") else ""
    ax.set_title((title or "Changes from baseline to candidate") + partial)
    return fig


def latency(source: Any | Mapping[str, Any], *, bins: int = 30, title: str | None = None) -> Figure:
    """Distribution of reply latency: one run (`run.frame()`), or several as {label: run}."""
    sources = dict(source) if isinstance(source, Mapping) else {"": source}
    fig = _figure()
    ax = fig.add_subplot()
    for label, one in sources.items():
        frame = _frame(one, "frame", ("latency_s",))
        # One latency per reply: a reply's expectations share it.
        keys = [c for c in ("scenario_id", "repeat", "turn") if c in frame.columns]
        replies = frame.drop_duplicates(keys) if keys else frame
        values = replies["latency_s"].dropna().astype(float)
        ax.hist(values, bins=bins, alpha=0.6, label=label or None)
    if len(sources) > 1:
        ax.legend()
    ax.set_xlabel("reply latency (s)")
    ax.set_ylabel("replies")
    ax.set_title(title or "Reply latency")
    return fig


def trend(history: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Pass rate and p50/p95 reply latency over runs (`wb.runs.trend(...)`)."""
    frame = _frame(history, "__no_method__", ("created_at", "pass_rate", "p50_latency_s"))
    fig = _figure(8.0, 4.0)
    ax = fig.add_subplot()
    x = list(range(len(frame)))
    ax.plot(x, frame["pass_rate"].astype(float), marker="o", color="#2e86de", label="pass rate")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pass rate")
    labels = [str(t)[:16] for t in frame["created_at"]]
    ax.set_xticks(x, labels, rotation=45, ha="right")
    other = ax.twinx()
    other.plot(x, frame["p50_latency_s"].astype(float), color="#7f8c8d", label="p50 latency")
    if "p95_latency_s" in frame.columns:
        p95 = frame["p95_latency_s"].astype(float)
        other.plot(x, p95, color="#7f8c8d", linestyle="--", label="p95 latency")
    other.set_ylabel("reply latency (s)")
    lines = ax.get_legend_handles_labels()
    more = other.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower left")
    ax.set_title(title or "Runs over time")
    return fig


def matrix(source: Any, *, title: str | None = None) -> Figure:
    """Pass rate per cell of a matrix with its 95% interval, grouped by prompt, one colour per
    target (`m.summary()`, or the matrix itself: `m.plot()` calls this)."""
    frame = _frame(source, "summary", ("prompt", "target", "pass_rate", "ci_low", "ci_high"))
    prompts = list(dict.fromkeys(str(p) for p in frame["prompt"]))
    targets = list(dict.fromkeys(str(t) for t in frame["target"]))
    width = 0.8 / max(len(targets), 1)
    fig = _figure(max(5.0, 1.2 * len(prompts) * max(len(targets), 1) * 0.6 + 2), 4.0)
    ax = fig.add_subplot()
    for i, target in enumerate(targets):
        rows = frame[frame["target"] == target].set_index("prompt").reindex(prompts)
        rate = rows["pass_rate"].astype(float).fillna(0.0)
        low = (rate - rows["ci_low"].astype(float)).clip(lower=0).fillna(0.0)
        high = (rows["ci_high"].astype(float) - rate).clip(lower=0).fillna(0.0)
        x = [p + (i - (len(targets) - 1) / 2) * width for p in range(len(prompts))]
        ax.bar(x, rate, width, yerr=[low, high], capsize=3, label=target)
    ax.set_xticks(list(range(len(prompts))), prompts)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pass rate (95% interval)")
    ax.legend(title="target")
    ax.set_title(title or "Pass rate per cell")
    return fig
