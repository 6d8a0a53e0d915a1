"""DataFrame views of what a user authored: scenarios, one suite, one scenario's turns, prompts,
variables. Each calls a service (never the ORM) and returns typed columns:

- statuses and turn/expectation types: `category`, with every member of the enum as a category
  (in the enum's order), so a frame holding only drafts still knows PUBLISHED exists;
- times: `datetime64[ns, UTC]`;
- counts, versions and positions: `Int64`; flags: `boolean`; thresholds: `Float64`;
- text: `string` (pandas' StringDtype, missing values are `pd.NA`);
- tags, placeholders and MUST_CONTAIN_ANY values: `object` columns holding Python lists.

Positions (`position`, `turn`, `expectation`) count from 0, like the lists they come from.
pandas is imported inside each function, so importing the workbench stays fast.

>>> wb.scenarios.frame(status="PUBLISHED")       # doctest: +SKIP
>>> workbench.frames.suite_frame(wb, suite.id)   # doctest: +SKIP
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from workbench.db.enums import ExpectationType, PromptStatus, ScenarioStatus, ScenarioTurnType

if TYPE_CHECKING:
    import pandas as pd

    from workbench.handle import Workbench
    from workbench.services.prompts import PromptService
    from workbench.services.scenarios import ScenarioService
    from workbench.services.suites import SuiteService
    from workbench.services.variables import VariableService

DATETIME = "datetime64[ns, UTC]"

SCENARIO_COLUMNS = {
    "id": "string",
    "name": "string",
    "description": "string",
    "locale": "string",
    "status": ScenarioStatus,
    "version": "Int64",
    "tags": "object",
    "turn_count": "Int64",
    "expectation_count": "Int64",
    "created_at": DATETIME,
    "updated_at": DATETIME,
}
SUITE_COLUMNS = {
    "position": "Int64",
    "scenario_id": "string",
    "name": "string",
    "status": ScenarioStatus,
    "version": "Int64",
    "turn_count": "Int64",
    "expectation_count": "Int64",
}
TURN_COLUMNS = {
    "turn": "Int64",
    "turn_type": ScenarioTurnType,
    "user_text": "string",
    "expectation": "Int64",
    "expectation_type": ExpectationType,
    "value": "string",
    "values": "object",
    "case_sensitive": "boolean",
    "threshold": "Float64",
}
PROMPT_COLUMNS = {
    "id": "string",
    "name": "string",
    "description": "string",
    "status": PromptStatus,
    "tags": "object",
    "placeholders": "object",
    "content": "string",
    "created_at": DATETIME,
    "updated_at": DATETIME,
}
VARIABLE_COLUMNS = {
    "key": "string",
    "value": "string",
    "description": "string",
    "created_at": DATETIME,
    "updated_at": DATETIME,
}

# What a frame of a list shows unless told otherwise: every match, without counting them.
ALL_ROWS = {"limit": None, "count_total": False}


def typed_frame(records: Iterable[Mapping[str, Any]], columns: Mapping[str, Any]) -> pd.DataFrame:
    """A DataFrame of `records` with exactly `columns` (name → dtype, or an enum for a category)."""
    import pandas as pd

    rows = list(records)
    data: dict[str, pd.Series[Any]] = {}
    for name, dtype in columns.items():
        values = [row[name] for row in rows]
        if isinstance(dtype, type) and issubclass(dtype, enum.Enum):
            categories = [member.value for member in dtype]
            values = [None if value is None else dtype(value).value for value in values]
            dtype = pd.CategoricalDtype(categories=categories)
        elif dtype == "object":
            values = [None if value is None else list(value) for value in values]
        data[name] = pd.Series(values, dtype=dtype, name=name)
    return pd.DataFrame(data, columns=list(columns))


def service_of(source: Any, attribute: str) -> Any:
    """The service itself, or the one a `Workbench` handle holds under `attribute`."""
    from workbench.handle import Workbench

    return getattr(source, attribute) if isinstance(source, Workbench) else source


def scenarios_frame(source: Workbench | ScenarioService, **filters: Any) -> pd.DataFrame:
    """One row per scenario with its turn and expectation counts.

    `filters` are `wb.scenarios.list`'s arguments (status, tags, search, sort, ...); by default
    every matching scenario is included (`limit=None`).

    >>> scenarios_frame(wb, status="PUBLISHED", tags=["smoke"])  # doctest: +SKIP
    """
    page = service_of(source, "scenarios").list(**{**ALL_ROWS, **filters})
    return typed_frame((vars(summary) for summary in page), SCENARIO_COLUMNS)


def suite_frame(source: Workbench | SuiteService, suite_id: str) -> pd.DataFrame:
    """One row per scenario of the suite, in suite order, with counts (one query).

    >>> suite_frame(wb, suite.id)  # doctest: +SKIP
    """
    items = service_of(source, "suites").items(suite_id)
    return typed_frame((vars(item) for item in items), SUITE_COLUMNS)


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


def turn_records(turns: Iterable[Any]) -> list[dict[str, Any]]:
    empty = dict.fromkeys(("expectation", "expectation_type", "value", "values"))
    empty |= {"case_sensitive": None, "threshold": None}
    records: list[dict[str, Any]] = []
    for index, turn in enumerate(turns):
        base = {"turn": index, "turn_type": turn.type, "user_text": turn.text}
        if not turn.expectations:
            records.append(base | empty)
        for position, spec in enumerate(turn.expectations):
            records.append(
                base
                | {
                    "expectation": position,
                    "expectation_type": spec.type,
                    "value": spec.value,
                    "values": spec.values,
                    "case_sensitive": spec.case_sensitive,
                    "threshold": spec.threshold,
                }
            )
    return records


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
