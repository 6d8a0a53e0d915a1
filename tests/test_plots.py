"""Plots of runs (issue 12): real figures from real runs, drawn with the Agg backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # no display in tests; the plots never touch pyplot anyway

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import workbench
from tests.runs.conftest import Setup, make_setup
from workbench import plots
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import expect, must_contain, user


@pytest.fixture
def two(wb: Workbench) -> Setup:
    return make_setup(
        wb,
        {
            "Greets": [user("hello"), expect(must_contain("hello"))],
            "Refunds": [user("refund please"), expect(must_contain("refund"))],
        },
    )


def play(setup: Setup, greets: str, refunds: str, repeats: int = 2) -> Any:
    target = workbench.offline([("hello", greets), ("refund", refunds)])
    return setup.wb.runs.start(
        suite=setup.suite_id, prompt=setup.prompt_id, target=target, progress=False,
        repeats=repeats,
    ).wait(60)  # fmt: skip


def test_pass_rates_draw_one_bar_per_scenario_with_intervals(two: Setup, tmp_path: Path) -> None:
    run = play(two, "hello", "no")
    fig = plots.pass_rates(run)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    heights = [bar.get_height() for bar in ax.patches if isinstance(bar, Rectangle)]
    assert heights == [1.0, 0.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Greets", "Refunds"]
    assert ax.lines or ax.collections  # the error bars
    fig.savefig(tmp_path / "rates.png")
    assert (tmp_path / "rates.png").stat().st_size > 1000


def test_regressions_and_trend_and_latency_plots(two: Setup) -> None:
    baseline, candidate = play(two, "hello", "refund"), play(two, "bye", "refund")
    fig = plots.regressions(two.wb.runs.compare(baseline, candidate))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["regression", "still_passing"]
    history = plots.trend(two.wb.runs.trend(suite="Smoke"))
    assert len(history.axes) == 2 and len(np.asarray(history.axes[0].lines[0].get_xdata())) == 2
    spread = plots.latency({"baseline": baseline, "candidate": candidate})
    assert (
        sum(p.get_height() for p in spread.axes[0].patches if isinstance(p, Rectangle)) == 8
    )  # 2 runs x 2 x 2 replies


def test_a_frame_without_the_columns_a_plot_needs_is_refused() -> None:
    import pandas as pd

    with pytest.raises(ValidationError, match="pass_rate"):
        plots.pass_rates(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValidationError, match="change"):
        plots.regressions(pd.DataFrame({"x": [1]}))
