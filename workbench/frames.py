"""DataFrame views of what a user authored: scenarios, one suite, one scenario's turns, prompts,
variables. Each calls a service (never the ORM) and returns typed columns:

- statuses and turn/expectation types: `category`, with every member of the enum as a category
  (in the enum's order), so a frame holding only drafts still knows PUBLISHED exists;
- times: `datetime64[ns, UTC]`;
- counts, versions and positions: `Int64`; flags: `boolean`; thresholds: `Float64`;
- text: `string` (pandas' StringDtype);
- tags, placeholders and MUST_CONTAIN_ANY values: `object` columns holding Python lists.

One missing marker per column type: `pd.NA` in text, count, flag and threshold columns (pandas'
nullable dtypes), `NaT` in times, NaN in categories (pandas' only one for them), and an empty
list `[]` in list columns (every cell is a list). `pd.isna` finds them all but the lists.

Positions (`position`, `turn`, `expectation`) count from 1, as validation messages, diffs, the
editor and a run's frames say them ("turn 3, expectation 2"). Ids are kept, as the last column,
so the table starts with what you read.
pandas is imported inside each function, so importing the workbench stays fast. The column specs
and the builder live in `workbench.tables`, below the services, whose `.frame()` methods use them.

>>> wb.scenarios.frame(status="PUBLISHED")       # doctest: +SKIP
>>> workbench.frames.suite_frame(wb, suite.id)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.handle import Workbench
from workbench.tables import (
    ALL_ROWS,
    PROMPT_COLUMNS,
    SUITE_COLUMNS,
    TURN_COLUMNS,
    VARIABLE_COLUMNS,
    suite_records,
    turn_records,
    typed_frame,
)

if TYPE_CHECKING:
    import pandas as pd

    from workbench.services.prompts.service import PromptService
    from workbench.services.scenarios import ScenarioService
    from workbench.services.suites.service import SuiteService
    from workbench.services.variables import VariableService


def service_of(source: Any, attribute: str) -> Any:
    """The service itself, or the one a `Workbench` handle holds under `attribute`."""
    return getattr(source, attribute) if isinstance(source, Workbench) else source


def scenarios_frame(source: Workbench | ScenarioService, **filters: Any) -> pd.DataFrame:
    """One row per scenario with its turn and expectation counts.

    `filters` are `wb.scenarios.list`'s arguments (status, tags, search, sort, ...); by default
    every matching scenario is included (`limit=None`).

    >>> scenarios_frame(wb, status="PUBLISHED", tags=["smoke"])  # doctest: +SKIP
    """
    frame: pd.DataFrame = service_of(source, "scenarios").frame(**filters)
    return frame


def suite_frame(source: Workbench | SuiteService, suite_id: str) -> pd.DataFrame:
    """One row per scenario of the suite, in suite order, with counts (one query).

    >>> suite_frame(wb, suite.id)  # doctest: +SKIP
    """
    items = service_of(source, "suites").items(suite_id)
    return typed_frame(suite_records(items), SUITE_COLUMNS)


def scenario_turns_frame(source: Workbench | ScenarioService, scenario_id: str) -> pd.DataFrame:
    """A scenario's turns and expectations in long form.

    One row per expectation, carrying its EXPECT turn's `turn` and `turn_type`. A USER turn is
    one row with its `user_text` and null expectation columns; an EXPECT turn without
    expectations (possible only in data written elsewhere) is one row with null expectation
    columns too, so no turn ever disappears from the frame.

    >>> scenario_turns_frame(wb, scenario.id)  # doctest: +SKIP
    """
    view = service_of(source, "scenarios").get(scenario_id)
    return typed_frame(turn_records(view.turns), TURN_COLUMNS)


def prompts_frame(source: Workbench | PromptService, **filters: Any) -> pd.DataFrame:
    """One row per prompt, with its placeholders; `filters` are `wb.prompts.list`'s arguments.

    >>> prompts_frame(wb, status="PUBLISHED")  # doctest: +SKIP
    """
    page = service_of(source, "prompts").list(**{**ALL_ROWS, **filters})
    return typed_frame((vars(prompt) for prompt in page), PROMPT_COLUMNS)


def variables_frame(source: Workbench | VariableService, **filters: Any) -> pd.DataFrame:
    """One row per variable, by key. Edit it and send it back with `wb.variables.set_many`.

    >>> frame = variables_frame(wb)                  # doctest: +SKIP
    >>> wb.variables.set_many(frame)                 # doctest: +SKIP
    """
    variables = service_of(source, "variables").list(**filters)
    return typed_frame((vars(variable) for variable in variables), VARIABLE_COLUMNS)
